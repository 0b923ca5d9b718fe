//! Fan-out: many users with a dose due at the same minute, each with one webhook channel,
//! against a receiver answering in 50 ms. Prints the wall time of writing the reminders and of
//! delivering them against the ideal (users × 50 ms ÷ concurrency), the scheduler's RSS along
//! the way, and what the receiver counted: deliveries, duplicates, losses.
//!
//! ```text
//! cargo run --release -p svc-scheduler --example fanout_bench            # 10 000 users, concurrency 50
//! BENCH_USERS=2000 BENCH_CONCURRENCY=20 cargo run --release -p svc-scheduler --example fanout_bench
//! ```
//!
//! svc-drugs is a local stand-in answering the due doses (the scheduler's question to it is one
//! request per tick); the database is a fresh SQLite file (or PostgreSQL with
//! `TEST_DATABASE_URL`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::Utc;
use sea_orm::{EntityTrait, Set};
use shared::contracts::{Dose, DoseStatus, UserDose};
use shared::entities::{device, user};
use svc_scheduler::jobs::Job;
use svc_scheduler::jobs::runner::{RunOptions, run_job};
use uuid::Uuid;

/// Serve `handler` on a free loopback port (actix, in this runtime); its base URL.
fn serve<F, Fut>(workers: usize, handler: F) -> String
where
    F: Fn(HttpRequest, web::Bytes) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = HttpResponse> + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || App::new().default_service(web::to(handler.clone())))
        .workers(workers)
        .max_connections(100_000)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    url
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    let users = common::env_or("BENCH_USERS", 10_000);
    let concurrency = common::env_or("BENCH_CONCURRENCY", 50);
    let latency = Duration::from_millis(50);

    // The receiver: 50 ms per delivery, counting each delivery id.
    let received: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let seen = received.clone();
    let receiver = serve(2, move |req: HttpRequest, _body: web::Bytes| {
        let seen = seen.clone();
        async move {
            tokio::time::sleep(latency).await;
            let id = req
                .headers()
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            *seen.lock().unwrap().entry(id).or_default() += 1;
            HttpResponse::Ok().finish()
        }
    });

    let database = shared::testing::TestDatabase::create().await.unwrap();
    let mut settings = database.settings();
    settings.scheduler.concurrency = concurrency;
    settings.scheduler.batch_size = (concurrency * 4) as u64;
    settings.scheduler.run_budget_secs = 3600;
    settings.scheduler.webhook_allow_private = true;
    settings.database.max_connections = 10;
    let db = shared::db::connect(&settings.database).await.unwrap();
    let now = Utc::now();
    let ids: Vec<Uuid> = (0..users).map(|_| Uuid::now_v7()).collect();
    let sealer = svc_scheduler::sealed::Sealer::new(&settings.scheduler.channel_key);
    for chunk in ids.chunks(500) {
        user::Entity::insert_many(chunk.iter().map(|id| user::ActiveModel {
            id: Set(*id),
            login: Set(format!("fan{}", id.simple())),
            password_hash: Set("!".into()),
            timezone: Set("Asia/Shanghai".into()),
            preferences: Set(serde_json::json!({})),
            is_admin: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();
        device::Entity::insert_many(chunk.iter().map(|id| device::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(*id),
            channel: Set("webhook".into()),
            name: Set(None),
            url: Set(sealer.seal(
                svc_scheduler::sealed::Field::Url,
                &format!("{receiver}/hook"),
            )),
            secret: Set(sealer.seal(svc_scheduler::sealed::Field::Secret, "whsec_c2VjcmV0")),
            previous_secret: Set(None),
            previous_secret_until: Set(None),
            created_at: Set(now),
        }))
        .exec_without_returning(&db)
        .await
        .unwrap();
    }

    // svc-drugs' stand-in: every user has one dose due this minute.
    let local = now.with_timezone(&chrono_tz::Asia::Shanghai);
    let due: Vec<UserDose> = ids
        .iter()
        .map(|u| UserDose {
            user_id: *u,
            dose: Dose {
                id: format!("{}_{}", Uuid::now_v7(), now.timestamp()),
                plan_id: Uuid::now_v7(),
                drug_id: Uuid::now_v7(),
                drug_name: "阿司匹林肠溶片".into(),
                scheduled_at: now.to_rfc3339(),
                local_date: local.date_naive(),
                local_time: local.format("%H:%M").to_string(),
                amount: 1.0,
                unit: "片".into(),
                status: DoseStatus::Due,
                snoozed_until: None,
                acted_at: None,
            },
        })
        .collect();
    let due = Arc::new(serde_json::to_vec(&due).unwrap());
    settings.services.drugs = serve(1, move |req: HttpRequest, _body: web::Bytes| {
        let due = due.clone();
        async move {
            if req.path() == "/internal/doses/due" {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(due.as_ref().clone())
            } else {
                HttpResponse::Ok().json(serde_json::json!([]))
            }
        }
    });
    let ctx = svc_scheduler::state::Ctx::new(&settings, db).unwrap();

    let idle = common::rss_kib();
    let samples = Arc::new(Mutex::new(Vec::<u64>::new()));
    let sink = samples.clone();
    let sampler = tokio::spawn(async move {
        loop {
            sink.lock().unwrap().push(common::rss_kib());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let started = Instant::now();
    let summary = run_job(
        &ctx,
        Job::DoseReminders,
        "bench",
        Utc::now(),
        Utc::now() + chrono::Duration::hours(1),
        &RunOptions::default(),
    )
    .await
    .unwrap();
    let written = started.elapsed();
    let mut counts = svc_scheduler::notify::DeliveryCounts::default();
    loop {
        let c = svc_scheduler::notify::deliver_due(&ctx, Utc::now() + chrono::Duration::hours(1))
            .await
            .unwrap();
        counts.sent += c.sent;
        counts.retried += c.retried;
        counts.dead += c.dead;
        if c.sent + c.retried + c.dead == 0 {
            break;
        }
    }
    let wall = started.elapsed();
    let delivering = wall - written;
    sampler.abort();
    let ideal = latency.as_secs_f64() * users as f64 / concurrency as f64;
    let seen = received.lock().unwrap().clone();
    let duplicates: u32 = seen.values().map(|n| n - 1).sum();
    let lost = users.saturating_sub(seen.len());
    println!(
        "dose reminders to {users} users, one webhook each, receiver latency {} ms, concurrency {concurrency}",
        latency.as_millis()
    );
    println!(
        "run: {} done {} skipped {} failed {}; deliveries sent {} retried {} dead {}",
        summary.status,
        summary.done,
        summary.skipped,
        summary.failed,
        counts.sent,
        counts.retried,
        counts.dead
    );
    println!(
        "write the reminders {:.2} s ({:.2} ms each); deliver {:.2} s vs ideal {:.2} s: ratio {:.3}; whole {:.2} s: ratio {:.3} (target <= 1.25)",
        written.as_secs_f64(),
        written.as_secs_f64() * 1000.0 / users as f64,
        delivering.as_secs_f64(),
        ideal,
        delivering.as_secs_f64() / ideal,
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal
    );
    println!(
        "receiver: {} deliveries, {duplicates} duplicates, {lost} lost",
        seen.len()
    );
    let samples = samples.lock().unwrap().clone();
    println!("{}", common::rss_line(idle, &samples));
}
