//! svc-drugs over real HTTP, against a real database (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`), the real photos, and a fake vision model (wiremock).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod cabinet;
mod checks;
mod contracts;
mod export;
mod faults;
mod helpers;
mod households;
mod legacy;
mod legacy_walk;
mod medications;
mod quotas;
mod recognize;
mod s3;
mod supply;
