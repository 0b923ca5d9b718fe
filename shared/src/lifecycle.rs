//! Routes every service serves without an internal token: the health probe and the
//! Function Compute lifecycle hooks (`POST /initialize`, `GET /pre-stop`, 2xx = success).

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/initialize", web::post().to(initialize))
        .route("/pre-stop", web::get().to(pre_stop));
}

/// Up when the database answers (services without a database are up when they answer).
async fn healthz(db: Option<web::Data<DatabaseConnection>>) -> HttpResponse {
    let db_ok = match db {
        Some(db) => db.ping().await.is_ok(),
        None => true,
    };
    let body = json!({
        "status": if db_ok { "up" } else { "down" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    if db_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// FC calls this once per instance before traffic; the database pool is already up.
async fn initialize() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "initialized"}))
}

/// FC calls this before reclaiming an instance: flush spans so the last requests are seen.
async fn pre_stop() -> HttpResponse {
    crate::telemetry::shutdown();
    HttpResponse::Ok().json(json!({"status": "stopping"}))
}
