//! What every gateway handler shares.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use sea_orm::DatabaseConnection;
use shared::ApiError;
use shared::internal_client::Peer;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::auth::JwtKeys;
use crate::proxy::RouteTable;
use crate::rate_limit::Limits;

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
}

/// The account the legacy drug-serve routes act as (that product had no accounts).
pub struct LegacyAccount {
    pub login: String,
    id: OnceCell<Uuid>,
}

impl LegacyAccount {
    pub fn new(login: String) -> Self {
        Self {
            login,
            id: OnceCell::new(),
        }
    }
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

    /// The legacy account's id, creating the account (without a usable password) on first use.
    pub async fn legacy_user(&self) -> Result<Uuid, ApiError> {
        let legacy = self
            .legacy
            .as_ref()
            .ok_or_else(|| ApiError::not_found("not_found", "no such route or resource"))?;
        legacy
            .id
            .get_or_try_init(|| async {
                if let Some(user) =
                    crate::repo::users::find_by_login(&self.db, &legacy.login).await?
                {
                    return Ok(user.id);
                }
                let created = crate::repo::users::insert(
                    &self.db,
                    crate::repo::users::NewUser {
                        login: legacy.login.clone(),
                        email: None,
                        password_hash: "!legacy-account-no-password".into(),
                        nickname: Some("drug-serve".into()),
                        timezone: "Asia/Shanghai".into(),
                    },
                )
                .await;
                match created {
                    Ok(user) => Ok(user.id),
                    Err(e) if shared::db::is_unique_violation(&e) => {
                        crate::repo::users::find_by_login(&self.db, &legacy.login)
                            .await?
                            .map(|u| u.id)
                            .ok_or_else(|| ApiError::internal("legacy account vanished"))
                    }
                    Err(e) => Err(e.into()),
                }
            })
            .await
            .copied()
    }
}
