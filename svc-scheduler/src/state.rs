//! What the jobs and handlers share.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use shared::config::{SchedulerSettings, Settings};
use shared::internal_auth::InternalTokens;
use shared::internal_client::{InternalClient, Peer};

#[derive(Clone)]
pub struct Ctx {
    pub db: DatabaseConnection,
    pub internal: InternalClient,
    pub drugs: Peer,
    pub chat: Peer,
    pub settings: SchedulerSettings,
    /// Plain client for webhooks and the push services (no internal headers), with its own
    /// timeout.
    pub webhooks: reqwest::Client,
    /// Names this instance in claims, so a log can tell instances apart.
    pub instance: String,
    /// Push to the app's iPhones, when APNs is configured.
    pub apns: Option<Arc<crate::apns::Apns>>,
    /// Signs Web Push requests, when a VAPID key is configured.
    pub vapid: Option<Arc<crate::webpush::Vapid>>,
    /// Seals channel URLs and webhook secrets at rest.
    pub sealer: Arc<crate::sealed::Sealer>,
    /// When this instance last found every user of a time zone seeded for a job's period.
    pub seeded: Arc<crate::jobs::items::SeedMemo>,
}

impl Ctx {
    pub fn new(settings: &Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        settings.check_scheduler()?;
        let tokens = Arc::new(InternalTokens::new(
            &settings.auth.internal_secret,
            settings.auth.internal_token_ttl_secs,
        ));
        let timeout = Duration::from_secs(settings.services.upload_timeout_secs);
        let roots = shared::certs::services_ca_for_reqwest(&settings.services)?;
        Ok(Self {
            db,
            internal: InternalClient::new(tokens, crate::SERVICE_NAME, timeout, &roots)?,
            drugs: Peer::new("drugs", &settings.services.drugs),
            chat: Peer::new("chat", &settings.services.chat),
            settings: settings.scheduler.clone(),
            // Webhooks go to public push endpoints: the platform's roots only, and (unless
            // private targets are allowed) names resolved to public addresses only.
            webhooks: webhook_client(&settings.scheduler)?,
            instance: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            seeded: Arc::default(),
            apns: crate::apns::Apns::new(&settings.apns)?.map(Arc::new),
            vapid: crate::webpush::Vapid::from_settings(&settings.scheduler)?.map(Arc::new),
            sealer: Arc::new(crate::sealed::Sealer::new(&settings.scheduler.channel_key)),
        })
    }
}

/// The client for user-chosen webhook URLs: no redirects (a public URL could redirect
/// inward), and names resolved to public addresses only unless private targets are allowed.
fn webhook_client(
    settings: &shared::config::SchedulerSettings,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = shared::internal_client::http_client_builder(
        Some(Duration::from_secs(settings.webhook_timeout_secs)),
        &[],
    );
    if !settings.webhook_allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(shared::outbound::PublicOnly));
    }
    builder.build()
}
