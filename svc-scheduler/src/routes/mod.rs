//! Routes of svc-scheduler: the inbox, devices (the app's phones, and channels: webhooks and the chat apps' push services), the
//! app's notification settings and job runs (public, through the gateway);
//! the platforms' timer entry points; an internal route to run a job.

use actix_web::web;

pub mod app_devices;
pub mod devices;
pub mod notification_settings;
pub mod notifications;
pub mod push;
pub mod runs;
pub mod triggers;

/// Served without an internal token: the platforms call them directly. They only run a tick,
/// which is idempotent; they are reachable only where the platform routes timer events.
pub const OPEN_PATHS: &[&str] = &["/invoke", "/event-invoke"];

/// Not stopped at `server.request_timeout_secs`: a tick keeps its own budget
/// (`scheduler.run_budget_secs`, then the batch in hand and the deliveries), and cutting it
/// short would leave claims to lapse and sent webhooks unmarked. The platform's function
/// timeout bounds it.
pub const UNTIMED_PATHS: &[&str] = &[
    "/invoke",
    "/event-invoke",
    "/internal/tick",
    "/internal/jobs/",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/notifications", web::get().to(notifications::list))
            .route("/notifications/send", web::post().to(push::send_payload))
            .route(
                "/notifications/send/template/{name}",
                web::post().to(push::send_template),
            )
            .route(
                "/notifications/events/{event_id}/remind",
                web::post().to(push::event_remind),
            )
            .route(
                "/notifications/events/{event_id}/starting",
                web::post().to(push::event_starting),
            )
            .route("/notifications/templates", web::get().to(push::templates))
            .route("/notifications/history", web::get().to(push::history))
            .route("/notifications/test", web::post().to(push::test))
            .route(
                "/notifications/{id}/read",
                web::post().to(notifications::read),
            )
            .route("/devices", web::post().to(devices::create))
            .route("/devices", web::get().to(devices::list))
            .route("/devices/register", web::post().to(app_devices::register))
            .route("/devices/webpush-key", web::get().to(devices::webpush_key))
            .route("/devices/{id}", web::get().to(app_devices::get))
            .route("/devices/{id}", web::put().to(app_devices::update))
            .route("/devices/{id}", web::delete().to(devices::delete))
            .route("/devices/{id}/test", web::post().to(devices::test))
            .route(
                "/devices/{id}/rotate-secret",
                web::post().to(devices::rotate_secret),
            )
            .route(
                "/devices/{id}/deliveries",
                web::get().to(devices::deliveries),
            )
            .route(
                "/users/me/notification-settings",
                web::get().to(notification_settings::get),
            )
            .route(
                "/users/me/notification-settings",
                web::put().to(notification_settings::put),
            )
            .route("/jobs/runs", web::get().to(runs::list)),
    )
    .route("/invoke", web::post().to(triggers::fc_invoke))
    .route("/event-invoke", web::post().to(triggers::scf_event))
    .route(
        "/internal/jobs/{job}/run",
        web::post().to(triggers::run_one),
    )
    .route("/internal/tick", web::post().to(triggers::internal_tick));
}
