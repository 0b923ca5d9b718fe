use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use shared::entities::refresh_token::{self, Entity as RefreshTokens};
use uuid::Uuid;

pub async fn insert(
    db: &DatabaseConnection,
    user_id: Uuid,
    family_id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(token_hash),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn find_by_hash(
    db: &DatabaseConnection,
    hash: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    RefreshTokens::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(db)
        .await
}

/// Mark a token used, only if it was not used already: exactly one of two racing refreshes
/// wins; the loser sees `false` and is treated as reuse.
pub async fn mark_used(db: &DatabaseConnection, id: Uuid) -> Result<bool, DbErr> {
    let result = RefreshTokens::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Whether the session (refresh-token family) was revoked.
pub async fn family_revoked(db: &DatabaseConnection, family_id: Uuid) -> Result<bool, DbErr> {
    let revoked = RefreshTokens::find()
        .select_only()
        .column(refresh_token::Column::Id)
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_not_null())
        .into_tuple::<Uuid>()
        .one(db)
        .await?;
    Ok(revoked.is_some())
}

pub async fn revoke_family(db: &DatabaseConnection, family_id: Uuid) -> Result<u64, DbErr> {
    let result = RefreshTokens::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Revoke every session of an account (its refresh tokens, and so its access tokens).
pub async fn revoke_user(db: &DatabaseConnection, user_id: Uuid) -> Result<u64, DbErr> {
    let result = RefreshTokens::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
