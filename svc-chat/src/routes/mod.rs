//! Routes of svc-chat (public through the gateway, plus internal routes for svc-scheduler).

use actix_web::web;

pub mod ai_identity;
pub mod calendar;
pub mod chat;
pub mod context;
pub mod conversations;
pub mod diaries;
pub mod events;
pub mod feedback;
pub mod habits;
pub mod history;
pub mod internal;
pub mod memory;
pub mod onboarding;
pub mod projects;
pub mod snapshots;
pub mod stats;
pub mod sync;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/chat", web::post().to(chat::post_chat))
            .route("/chat/resume", web::get().to(chat::resume))
            .route("/chat/feedback", web::post().to(feedback::post_feedback))
            .route("/conversations", web::post().to(conversations::create))
            .route("/conversations", web::get().to(conversations::list))
            .route("/conversations/{id}", web::get().to(conversations::get))
            .route(
                "/conversations/{id}",
                web::delete().to(conversations::delete),
            )
            .route(
                "/conversations/{id}/title",
                web::put().to(conversations::rename),
            )
            .route(
                "/conversations/{id}/messages",
                web::get().to(conversations::messages),
            )
            // Fixed paths before `{id}`: the original could not reach `conflicts` for this.
            .route("/events/today", web::get().to(events::today))
            .route("/events/conflicts", web::get().to(events::conflicts))
            .route("/events", web::get().to(events::list))
            .route("/events", web::post().to(events::create))
            .route("/events/{id}", web::get().to(events::get))
            .route("/events/{id}", web::put().to(events::update))
            .route("/events/{id}", web::delete().to(events::delete))
            .route("/events/{id}/complete", web::post().to(events::complete))
            .route(
                "/events/{id}/uncomplete",
                web::post().to(events::uncomplete),
            )
            .route("/events/{id}/instances", web::post().to(events::instance))
            .route("/habits/{batch_id}", web::get().to(habits::get))
            .route("/habits/{batch_id}/stats", web::get().to(habits::stats))
            .route(
                "/habits/{batch_id}/confirm",
                web::post().to(habits::confirm),
            )
            .route(
                "/projects/quests/overview",
                web::get().to(projects::quest_overview),
            )
            .route("/projects", web::get().to(projects::list))
            .route("/projects", web::post().to(projects::create))
            .route("/projects/{id}", web::get().to(projects::get))
            .route("/projects/{id}", web::put().to(projects::update))
            .route("/projects/{id}", web::delete().to(projects::delete))
            .route("/projects/{id}/mode", web::post().to(projects::set_mode))
            .route("/sync", web::get().to(sync::changes))
            .route("/sync/status", web::get().to(sync::status))
            .route("/snapshots", web::get().to(snapshots::list))
            .route("/snapshots/undo", web::post().to(snapshots::undo))
            .route("/snapshots/{id}/revert", web::post().to(snapshots::revert))
            .route("/diaries", web::get().to(diaries::list))
            .route("/diaries/generate", web::post().to(diaries::generate))
            .route("/diaries/profile/analyze", web::post().to(diaries::analyze))
            .route(
                "/diaries/profile/evolution",
                web::get().to(diaries::evolution),
            )
            .route("/diaries/{date}", web::get().to(diaries::get))
            .route("/users/me/profile", web::get().to(diaries::profile))
            .route(
                "/chat/clear_context",
                web::post().to(context::clear_context),
            )
            .route("/messages/history", web::get().to(history::history))
            .route("/messages/history/dates", web::get().to(history::dates))
            .route("/users/me/stats", web::get().to(stats::get))
            .route(
                "/users/me/onboarding-status",
                web::get().to(onboarding::status),
            )
            .route(
                "/users/me/onboarding-status/dismiss",
                web::post().to(onboarding::dismiss),
            )
            .route("/users/me/ai-identity", web::get().to(ai_identity::get))
            .route("/users/me/ai-identity", web::put().to(ai_identity::put))
            .route("/memory", web::get().to(memory::list))
            .route("/memory", web::post().to(memory::create))
            .route("/memory/forget", web::post().to(memory::forget))
            .route("/memory/{id}", web::put().to(memory::edit))
            .route("/memory/{id}", web::delete().to(memory::delete))
            .route("/calendar/feed", web::get().to(calendar::status))
            .route("/calendar/feed", web::post().to(calendar::create))
            .route("/calendar/feed", web::delete().to(calendar::revoke)),
    )
    // Public through the gateway without a user: the token in the address is the key.
    .route("/ical/{token}", web::get().to(calendar::feed))
    .configure(internal::configure);
}
