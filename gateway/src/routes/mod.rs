//! The gateway's own routes; everything else under a known prefix is proxied.

pub mod apple;
pub mod auth;
pub mod console;
pub mod docs;
pub mod health;
pub mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/register", web::post().to(auth::register))
        .route("/api/v1/auth/login", web::post().to(auth::login))
        .route("/api/v1/auth/refresh", web::post().to(auth::refresh))
        .route("/api/v1/auth/logout", web::post().to(auth::logout))
        .route(
            "/api/v1/auth/apple",
            web::post().to(apple::sign_in_with_apple),
        )
        .route("/api/v1/auth/providers", web::get().to(apple::providers))
        .service(
            web::resource("/api/v1/users/me")
                .route(web::get().to(users::get_me))
                .route(web::put().to(users::update_me)),
        )
        .route(
            "/api/v1/users/me/energy",
            web::put().to(users::update_energy),
        )
        .route("/api/v1/health", web::get().to(health::get_health))
        .route("/health", web::get().to(health::get_health_compat))
        .route("/api/v1/openapi.json", web::get().to(docs::get_openapi))
        .route("/docs", web::get().to(docs::get_docs))
        .configure(console::configure);
}
