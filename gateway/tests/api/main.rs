//! Gateway end-to-end tests: real sockets, a real database (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`), real services or a small fake upstream behind the proxy.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod admin;
mod apple;
mod apple_keys;
mod auth;
mod calendar_feed;
mod console;
mod contract;
mod errors;
mod health;
mod helpers;
mod openapi;
mod passwordless;
mod proxy;
mod rate_limits;
mod startup;
mod trace_propagation;
mod upstream;
mod users;
