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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
