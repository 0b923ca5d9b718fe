//! daily-diaries over many users against a diary writer answering in 200 ms: wall time
//! against the ideal (users × 200 ms ÷ concurrency) and the scheduler's RSS along the way.
//!
//! ```text
//! cargo run --release -p svc-scheduler --example diaries_bench            # 10 000 users, concurrency 50
//! BENCH_USERS=2000 BENCH_CONCURRENCY=20 cargo run --release -p svc-scheduler --example diaries_bench
//! ```
//!
//! The writer is a minimal local HTTP server standing in for svc-chat + its model (200 ms per
//! diary, no state kept);
//! the database is a fresh SQLite file (or PostgreSQL with `TEST_DATABASE_URL`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{EntityTrait, Set};
use shared::entities::user;
use svc_scheduler::jobs::Job;
use svc_scheduler::jobs::runner::{RunOptions, run_job};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A minimal HTTP/1.1 keep-alive server answering every request `{"status":"written"}` after
/// `latency`: the diary writer's stand-in, keeping no state, so RSS figures are the
/// scheduler's own.
async fn writer(latency: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    // One request: head, then Content-Length bytes of body.
                    let (head_end, len) = loop {
                        if let Some(head) = shared::testing::request_head(&buf) {
                            break head;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head_end + len);
                    tokio::time::sleep(latency).await;
                    let body = r#"{"status":"written"}"#;
                    let res = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(res.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    let users = common::env_or("BENCH_USERS", 10_000);
    let concurrency = common::env_or("BENCH_CONCURRENCY", 50);
    let latency = Duration::from_millis(200);

    let writer = writer(latency).await;

    let database = shared::testing::TestDatabase::create().await.unwrap();
    let mut settings = database.settings();
    settings.services.chat = writer;
    settings.scheduler.concurrency = concurrency;
    settings.scheduler.batch_size = (concurrency * 4) as u64;
    settings.scheduler.run_budget_secs = 3600;
    settings.database.max_connections = 10;
    let db = shared::db::connect(&settings.database).await.unwrap();
    let now = Utc::now();
    for chunk in (0..users).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| user::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            login: Set(format!("bench{i}")),
            email: Set(None),
            password_hash: Set("!".into()),
            nickname: Set(None),
            timezone: Set("Asia/Shanghai".into()),
            avatar_url: Set(None),
            preferences: Set(serde_json::json!({})),
            is_admin: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            last_active_at: Set(None),
            ..Default::default()
        });
        user::Entity::insert_many(rows)
            .exec_without_returning(&db)
            .await
            .unwrap();
    }
    let ctx = svc_scheduler::state::Ctx::new(&settings, db).unwrap();

    let idle = common::rss_kib();
    // RSS sampled every 250 ms: the peak in each tenth of the run shows whether it stays flat.
    let samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let sink = samples.clone();
    let sampler = tokio::spawn(async move {
        loop {
            sink.lock().unwrap().push(common::rss_kib());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let started = Instant::now();
    let options = RunOptions {
        period: Some("2026-11-21".parse().unwrap()),
        ..RunOptions::default()
    };
    let summary = run_job(
        &ctx,
        Job::DailyDiaries,
        "bench",
        Utc::now(),
        Utc::now() + chrono::Duration::hours(1),
        &options,
    )
    .await
    .unwrap();
    let wall = started.elapsed();
    sampler.abort();
    let after = common::rss_kib();
    let ideal = latency.as_secs_f64() * users as f64 / concurrency as f64;
    println!(
        "daily-diaries over {users} users, writer latency {} ms, concurrency {concurrency}",
        latency.as_millis()
    );
    println!(
        "run: {} done {} skipped {} failed {}",
        summary.status, summary.done, summary.skipped, summary.failed
    );
    println!(
        "wall {:.2} s vs ideal {:.2} s: ratio {:.3} (target <= 1.25)",
        wall.as_secs_f64(),
        ideal,
        wall.as_secs_f64() / ideal
    );
    let samples = samples.lock().unwrap().clone();
    println!(
        "{}; after the run {:.1} MiB",
        common::rss_line(idle, &samples),
        after as f64 / 1024.0
    );
}
