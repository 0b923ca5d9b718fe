use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use futures_util::future::join_all;
use serde::Serialize;
use utoipa::ToSchema;

use shared::internal_client::InternalClient;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy` when every service is up, `degraded` otherwise.
    pub status: &'static str,
    /// Each service's state: `up` or `down`.
    pub services: BTreeMap<&'static str, &'static str>,
    pub version: &'static str,
}

#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn get_health(
    state: web::Data<AppState>,
    internal: web::Data<InternalClient>,
) -> HttpResponse {
    let checks = state.peers.iter().map(|(name, peer)| {
        let request = internal
            .http()
            .get(format!("{}/healthz", peer.base_url))
            .timeout(Duration::from_secs(2));
        async move {
            let up = request.send().await.is_ok_and(|r| r.status().is_success());
            (*name, if up { "up" } else { "down" })
        }
    });
    let mut services: BTreeMap<&'static str, &'static str> =
        join_all(checks).await.into_iter().collect();
    let db_up = state.db.ping().await.is_ok();
    services.insert("gateway", if db_up { "up" } else { "down" });
    let healthy = services.values().all(|s| *s == "up");
    let body = Health {
        status: if healthy { "healthy" } else { "degraded" },
        services,
        version: env!("CARGO_PKG_VERSION"),
    };
    if healthy {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// **compat**: the original products' probe.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200)))]
pub async fn get_health_compat() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "healthy"}))
}
