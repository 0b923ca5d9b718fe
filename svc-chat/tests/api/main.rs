//! svc-chat over real HTTP against a real database (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`) and a fake model: wiremock for scripted answers, and a small raw TCP
//! server that streams tokens slowly and notices when its client goes away.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod app_user;
mod assistant;
mod calendar;
mod chat;
mod contract;
mod conversations;
mod diaries;
mod events_contract;
mod helpers;
mod memory;
mod memory_eval;
mod projects;
mod recurrence;
mod shape;
mod sync;
