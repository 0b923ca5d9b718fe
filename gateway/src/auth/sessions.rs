//! Sessions: a family of refresh tokens, each used once. Reusing a rotated token means it
//! was stolen (or replayed), so the whole family is revoked.

use chrono::{Duration, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::ApiError;
use shared::ErrorCode;
use uuid::Uuid;

use super::jwt::{JwtKeys, TokenType};
use super::revocation::SessionCheck;
use crate::repo::{refresh_tokens, users};

/// The token answer of register, login and refresh (**compat** shape).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// The account's UUID.
    pub user_id: Uuid,
    pub access_token: String,
    pub refresh_token: String,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
    pub token_type: &'static str,
}

fn fingerprint(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issue an access token and the next refresh token of `family`.
pub async fn issue(
    db: &DatabaseConnection,
    jwt: &JwtKeys,
    user: Uuid,
    family: Uuid,
) -> Result<TokenPair, ApiError> {
    let (access, _) = jwt
        .issue(user, family, TokenType::Access)
        .map_err(ApiError::internal)?;
    let (refresh, claims) = jwt
        .issue(user, family, TokenType::Refresh)
        .map_err(ApiError::internal)?;
    let expires_at = Utc::now() + Duration::seconds(claims.exp - claims.iat);
    refresh_tokens::insert(db, user, family, fingerprint(&refresh), expires_at).await?;
    Ok(TokenPair {
        user_id: user,
        access_token: access,
        refresh_token: refresh,
        expires_in: jwt.access_ttl_secs(),
        token_type: "bearer",
    })
}

pub async fn start(
    db: &DatabaseConnection,
    jwt: &JwtKeys,
    user: Uuid,
) -> Result<TokenPair, ApiError> {
    issue(db, jwt, user, Uuid::new_v4()).await
}

fn refused() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidRefreshToken,
        "invalid, expired or revoked refresh token",
    )
}

/// Rotate: the presented token is used up and a new pair of the same family is issued.
pub async fn rotate(
    db: &DatabaseConnection,
    jwt: &JwtKeys,
    check: &SessionCheck,
    presented: &str,
) -> Result<TokenPair, ApiError> {
    let claims = jwt.verify(presented, TokenType::Refresh).map_err(|e| {
        tracing::info!(reason = %e, "refresh token refused");
        refused()
    })?;
    let row = refresh_tokens::find_by_hash(db, &fingerprint(presented))
        .await?
        .ok_or_else(refused)?;
    if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
        return Err(refused());
    }
    if row.used_at.is_some() || !refresh_tokens::mark_used(db, row.id).await? {
        let revoked = refresh_tokens::revoke_family(db, row.family_id).await?;
        check.revoked(row.family_id);
        tracing::warn!(user.id = %row.user_id, revoked, "refresh token reused: session family revoked");
        return Err(ApiError::new(
            ErrorCode::RefreshTokenReused,
            "this refresh token was already used; the session has been revoked, sign in again",
        ));
    }
    users::touch(db, claims.sub).await?;
    issue(db, jwt, row.user_id, row.family_id).await
}

/// Logout: the session's refresh tokens, and with them its access tokens, are revoked.
pub async fn end(
    db: &DatabaseConnection,
    check: &SessionCheck,
    family: Uuid,
) -> Result<(), ApiError> {
    refresh_tokens::revoke_family(db, family).await?;
    check.revoked(family);
    Ok(())
}
