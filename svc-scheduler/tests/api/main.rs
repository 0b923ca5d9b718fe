//! svc-scheduler over real HTTP with a real svc-drugs beside it, a real database (SQLite, or
//! PostgreSQL with `TEST_DATABASE_URL`), a real svc-chat with a fake model, and webhook
//! receivers (wiremock).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod apns;
mod app_devices;
mod channels;
mod chaos;
mod checkins;
mod faults;
mod helpers;
mod jobs;
mod notification_settings;
mod notifications;
mod push_routes;
mod shape;
mod webpush;
