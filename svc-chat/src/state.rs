//! What the handlers share.

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use shared::ApiError;
use shared::config::{ChatSettings, Settings};
use shared::entities::user;
use shared::internal_auth::InternalTokens;
use shared::internal_client::{InternalClient, Peer};
use shared::llm::LlmClient;
use uuid::Uuid;

use crate::engine::slots::TurnSlots;

pub struct AppState {
    pub db: DatabaseConnection,
    pub llm: LlmClient,
    pub internal: InternalClient,
    pub drugs: Peer,
    pub chat: ChatSettings,
    /// Chat turns in progress per user on this instance.
    pub turns: TurnSlots,
    /// Streamed turns running on this instance, for their followers.
    pub live: crate::engine::stream::Live,
    /// Conversations whose summary is being brought up to date on this instance.
    pub summarising: std::sync::Mutex<std::collections::HashSet<Uuid>>,
}

impl AppState {
    pub fn new(settings: &Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        let tokens = Arc::new(InternalTokens::new(
            &settings.auth.internal_secret,
            settings.auth.internal_token_ttl_secs,
        ));
        let roots = shared::certs::services_ca_for_reqwest(&settings.services)?;
        Ok(Self {
            db,
            llm: LlmClient::new(&settings.llm_chat, "llm_chat")?,
            internal: InternalClient::new(
                tokens,
                crate::SERVICE_NAME,
                Duration::from_secs(settings.services.default_timeout_secs),
                &roots,
            )?,
            drugs: Peer::new("drugs", &settings.services.drugs),
            chat: settings.chat.clone(),
            turns: TurnSlots::new(settings.chat.max_turns_in_progress),
            live: Default::default(),
            summarising: Default::default(),
        })
    }

    /// The user's time zone (from the gateway's `users` table; Shanghai when unknown).
    pub async fn timezone(&self, user_id: Uuid) -> Result<Tz, ApiError> {
        // The one column, not the row: this runs on most reads.
        let zone: Option<String> = user::Entity::find_by_id(user_id)
            .select_only()
            .column(user::Column::Timezone)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(zone
            .and_then(|z| z.parse().ok())
            .unwrap_or(shared::DEFAULT_TZ))
    }
}
