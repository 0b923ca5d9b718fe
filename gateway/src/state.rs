//! What every gateway handler shares.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use sea_orm::DatabaseConnection;
use shared::ApiError;
use shared::ErrorCode;
use shared::internal_client::Peer;
use uuid::Uuid;

use crate::auth::JwtKeys;
use crate::auth::apple::AppleVerifier;
use crate::auth::legacy::LegacyAccount;
use crate::rate_limit::Limits;
use crate::routing::RouteTable;

pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    pub limits: Arc<Limits>,
    pub routes: RouteTable,
    /// The services `GET /api/v1/health` asks, by public name.
    pub peers: Vec<(&'static str, Peer)>,
    pub trust_forwarded_for: bool,
    pub legacy: Option<LegacyAccount>,
    pub max_body_bytes: u64,
    /// Sign in with Apple; `None` when no bundle id is configured (off).
    pub apple: Option<AppleVerifier>,
    /// `compat.passwordless_login`: the original app's sign-in by `user_id` alone.
    pub passwordless_login: bool,
}

impl AppState {
    /// The client's address: behind a trusted proxy, the last `X-Forwarded-For` entry (the
    /// one that proxy appended; earlier entries are whatever the client sent), else the
    /// socket peer.
    pub fn client_ip(&self, req: &HttpRequest) -> IpAddr {
        if self.trust_forwarded_for
            && let Some(ip) = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
        req.peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip())
    }

    /// The legacy account's id, when the legacy routes are enabled.
    pub async fn legacy_user(&self) -> Result<Uuid, ApiError> {
        let legacy = self
            .legacy
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such route or resource"))?;
        legacy.user_id(&self.db).await
    }
}
