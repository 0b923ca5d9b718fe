//! What every handler of svc-drugs shares.

use std::sync::Arc;

use chrono_tz::Tz;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QuerySelect};
use secrecy::ExposeSecret;
use shared::config::{ConfigError, DrugsSettings, Settings};
use shared::entities::user;
use shared::llm::LlmClient;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::pipeline::normalize::NormalizeLimits;
use crate::storage::Store;

pub struct AppState {
    pub db: DatabaseConnection,
    pub store: Store,
    pub vision: LlmClient,
    pub drugs: DrugsSettings,
    pub max_file_size: usize,
    /// Bounds how many photos are decoded at once, and so the memory they take.
    pub image_permits: Arc<Semaphore>,
    /// Keys the hash of a client network in `recognition_quotas` and of an invitation code
    /// (from the internal secret).
    pub quota_secret: Vec<u8>,
}

/// A user's own settings that svc-drugs needs (read from the gateway's `users` table).
#[derive(Debug, Clone, Copy)]
pub struct UserPrefs {
    pub timezone: Tz,
    pub expiry_warning_days: i64,
}

impl AppState {
    pub fn new(
        settings: &Settings,
        db: DatabaseConnection,
        store: Store,
    ) -> Result<Self, ConfigError> {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            db,
            store,
            vision: LlmClient::new(&settings.llm_vision, "llm_vision")?,
            drugs: settings.drugs.clone(),
            max_file_size: settings.storage.max_file_size,
            image_permits: Arc::new(Semaphore::new(cpus.max(2))),
            quota_secret: settings
                .auth
                .internal_secret
                .expose_secret()
                .as_bytes()
                .to_vec(),
        })
    }

    pub fn normalize_limits(&self) -> NormalizeLimits {
        NormalizeLimits {
            max_pixels: self.drugs.max_pixels,
            max_alloc: self.drugs.max_decode_bytes,
            max_long_edge: self.drugs.max_long_edge,
            jpeg_quality: self.drugs.jpeg_quality,
        }
    }

    /// The user's time zone and expiry warning window (defaults when the user has set none).
    pub async fn user_prefs(&self, user_id: Uuid) -> Result<UserPrefs, DbErr> {
        let mut found = self.settings_row(user_id).await?;
        if found.is_none()
            && let Some(owner) =
                crate::household::repo::owner_of_dependent(&self.db, user_id).await?
        {
            // A dependent without an account lives by their household owner's settings.
            found = self.settings_row(owner).await?;
        }
        let timezone = found
            .as_ref()
            .and_then(|(zone, _)| zone.parse::<Tz>().ok())
            .unwrap_or(chrono_tz::Asia::Shanghai);
        let expiry_warning_days = found
            .as_ref()
            .and_then(|(_, preferences)| preferences.get("expiry_warning_days"))
            .and_then(serde_json::Value::as_i64)
            .filter(|d| (0..=3650).contains(d))
            .unwrap_or(self.drugs.expiry_warning_days);
        Ok(UserPrefs {
            timezone,
            expiry_warning_days,
        })
    }
}

impl AppState {
    /// The account's zone and preferences: two columns, not the row (this runs on every read
    /// of the cabinet and of the doses).
    async fn settings_row(
        &self,
        user_id: Uuid,
    ) -> Result<Option<(String, serde_json::Value)>, DbErr> {
        user::Entity::find_by_id(user_id)
            .select_only()
            .column(user::Column::Timezone)
            .column(user::Column::Preferences)
            .into_tuple()
            .one(&self.db)
            .await
    }
}

/// HMAC-SHA256 of `data` keyed with `secret`, under a label that keeps each use's hashes
/// apart, in hex.
pub fn keyed_hex(secret: &[u8], label: &str, data: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(label.as_bytes());
    mac.update(b"\n");
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl UserPrefs {
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }
}
