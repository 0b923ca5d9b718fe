//! The account the legacy drug-serve routes act as. That product had no accounts, so its
//! routes act as one shared account without authentication, as the original did.
//!
//! The account is reserved: the system creates it under `user::LEGACY_LOGIN`, a login that
//! registration and sign-in refuse (it contains a space), and it has no usable password. So no
//! one can register it first and receive anonymous uploads, and no real user's cabinet is ever
//! opened to the anonymous routes.

use sea_orm::DatabaseConnection;
use shared::ApiError;
use shared::entities::user::LEGACY_LOGIN;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::repo::users::{self, NewUser};

/// A password hash no password verifies against (not a PHC string).
const NO_PASSWORD: &str = "!legacy-account-no-password";

#[derive(Default)]
pub struct LegacyAccount {
    id: OnceCell<Uuid>,
}

impl LegacyAccount {
    /// The reserved account's id, creating it on first use.
    pub async fn user_id(&self, db: &DatabaseConnection) -> Result<Uuid, ApiError> {
        self.id
            .get_or_try_init(|| find_or_create(db))
            .await
            .copied()
    }
}

async fn find_or_create(db: &DatabaseConnection) -> Result<Uuid, ApiError> {
    if let Some(user) = users::find_by_login(db, LEGACY_LOGIN).await? {
        return Ok(user.id);
    }
    let created = users::insert(
        db,
        NewUser {
            login: LEGACY_LOGIN.into(),
            email: None,
            password_hash: NO_PASSWORD.into(),
            nickname: Some("drug-serve".into()),
            timezone: shared::DEFAULT_TIMEZONE.into(),
            apple_sub: None,
        },
    )
    .await;
    match created {
        Ok(user) => Ok(user.id),
        // Another worker created it first.
        Err(e) if shared::db::is_unique_violation(&e) => users::find_by_login(db, LEGACY_LOGIN)
            .await?
            .map(|u| u.id)
            .ok_or_else(|| ApiError::internal("legacy account vanished")),
        Err(e) => Err(e.into()),
    }
}
