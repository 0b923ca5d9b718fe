use sea_orm::entity::prelude::*;

/// The login of the reserved account the legacy drug-serve routes act as. It contains a space,
/// which `LoginName` refuses, so no one can register it or sign in with it.
pub const LEGACY_LOGIN: &str = "drug-serve legacy";

/// An account. `login` is the name a person signs in with (`user_id` in the compat API).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub login: String,
    #[sea_orm(unique)]
    pub email: Option<String>,
    pub password_hash: String,
    pub nickname: Option<String>,
    pub timezone: String,
    pub avatar_url: Option<String>,
    pub preferences: Json,
    pub is_admin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_active_at: Option<DateTimeUtc>,
    /// Sign in with Apple: the `sub` of the account's Apple identity tokens.
    #[sea_orm(unique)]
    pub apple_sub: Option<String>,
    /// **compat** fields of the UniLife app's user.
    pub phone: Option<String>,
    /// The app's energy profile (`hourly_baseline`, `task_energy_cost`,
    /// `learned_adjustments`); `None` until the user changes it (the defaults apply).
    pub energy_profile: Option<Json>,
    /// 0–100, 100 until something lowers it.
    pub current_energy: i32,
}

/// The password hash of an account made without a password (the original app's sign-in by
/// `user_id`, or Sign in with Apple). Not a PHC string: no password verifies against it.
pub const NO_PASSWORD: &str = "!no-password";

impl Model {
    /// Whether the account has a password of its own (an argon2 PHC string).
    pub fn has_password(&self) -> bool {
        self.password_hash.starts_with('$')
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
