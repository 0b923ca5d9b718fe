use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::entities::user::{self, Entity as Users};
use uuid::Uuid;

pub struct NewUser {
    pub login: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub nickname: Option<String>,
    pub timezone: String,
    pub apple_sub: Option<String>,
}

pub async fn insert(db: &DatabaseConnection, new: NewUser) -> Result<user::Model, DbErr> {
    let now = shared::time::now_micros();
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        login: Set(new.login),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        nickname: Set(new.nickname),
        timezone: Set(new.timezone),
        avatar_url: Set(None),
        preferences: Set(serde_json::json!({})),
        is_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        last_active_at: Set(Some(now)),
        apple_sub: Set(new.apple_sub),
        phone: Set(None),
        energy_profile: Set(None),
        current_energy: Set(100),
    }
    .insert(db)
    .await
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<Option<user::Model>, DbErr> {
    Users::find_by_id(id).one(db).await
}

pub async fn find_by_login(
    db: &DatabaseConnection,
    login: &str,
) -> Result<Option<user::Model>, DbErr> {
    Users::find()
        .filter(user::Column::Login.eq(login))
        .one(db)
        .await
}

pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    Users::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn touch(db: &DatabaseConnection, id: Uuid) -> Result<(), DbErr> {
    Users::update_many()
        .col_expr(
            user::Column::LastActiveAt,
            sea_orm::sea_query::Expr::value(shared::time::now_micros()),
        )
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn find_by_apple_sub(
    db: &DatabaseConnection,
    sub: &str,
) -> Result<Option<user::Model>, DbErr> {
    Users::find()
        .filter(user::Column::AppleSub.eq(sub))
        .one(db)
        .await
}

/// Link the account to an Apple `sub`, only if it has none yet: `false` when another link
/// came first.
pub async fn link_apple(db: &DatabaseConnection, id: Uuid, sub: &str) -> Result<bool, DbErr> {
    let result = Users::update_many()
        .col_expr(
            user::Column::AppleSub,
            sea_orm::sea_query::Expr::value(sub.to_owned()),
        )
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(shared::time::now_micros()),
        )
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::AppleSub.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
