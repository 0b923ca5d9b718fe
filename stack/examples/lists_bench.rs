//! The reads an app makes on every screen, through the gateway, each next to `GET /health` in
//! the same run: the cabinet (20 drugs), a dependent's cabinet read by a caregiver
//! (`X-Person-Id`), today's doses (5 plans), a month of events (30), a conversation's last 50
//! messages, the inbox (20), `users/me`. Twice: the one-process stack
//! on SQLite, then the services as separate processes on PostgreSQL as deployed.
//!
//! ```text
//! cargo build --release -p stack -p gateway -p svc-drugs -p svc-chat -p svc-scheduler
//! cargo run --release -p stack --example lists_bench
//! ```
//!
//! Each path: `BENCH_CONNECTIONS` clients (64) in a closed loop for `BENCH_SECONDS` (5), one
//! load-generator thread; prints req/s, p50 and p99, and the share of `/health`'s req/s.
//! Targets: ≥ 8,000 req/s at c=64, p99 ≤ 20 ms, ≥ 1/11 of `/health`. The drugs, plans and
//! events are made through the API; the conversation and the inbox are written into the
//! database (they come from the model and the scheduler). `BENCH_MODE` = `stack` or `apart`
//! runs one of the two; PostgreSQL is `TEST_DATABASE_URL` (a database is made for the run and
//! dropped after). `BENCH_PROFILE` picks the build (`release`; `profiling` for `perf`),
//! `BENCH_STACK_BIN` another stack binary; `BENCH_ONLY` runs only the paths whose name
//! contains it (and `/health`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use chrono::{Days, Utc};
use common::{System, env_or, register, table_row};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, IntoActiveModel};
use serde_json::{Value, json};
use shared::entities::{conversation, message, notification};
use shared::testing::load::{closed_loop_with, success};
use uuid::Uuid;

async fn post(client: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    post_for(client, url, token, None, body).await
}

/// [`post`] for a dependent of the user's (`X-Person-Id`).
async fn post_for(
    client: &reqwest::Client,
    url: String,
    token: &str,
    person: Option<&str>,
    body: Value,
) -> Value {
    let mut req = client.post(&url).bearer_auth(token);
    if let Some(p) = person {
        req = req.header("x-person-id", p);
    }
    let res = req.json(&body).send().await.unwrap();
    let status = res.status();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {answer}");
    answer
}

/// The user's cabinet and plans (or a dependent's), made through the API.
async fn fill_cabinet(client: &reqwest::Client, gw: &str, token: &str, person: Option<&str>) {
    let today = Utc::now().date_naive();
    for i in 0..20u32 {
        let drug = post_for(
            client,
            format!("{gw}/api/v1/drugs"),
            token,
            person,
            json!({
                "name": format!("药品 {i}"), "brand": "品牌", "manufacturer": "某某药业有限公司",
                "strength": "10 mg", "dosage_form": "片剂", "quantity": 30,
                "expiry_date": today.checked_add_days(Days::new(u64::from(i) * 20)).unwrap(),
            }),
        )
        .await;
        if i < 5 {
            post_for(
                client,
                format!("{gw}/api/v1/medications"),
                token,
                person,
                json!({
                    "drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"},
                    "schedule": {"times": ["08:00", "13:00", "20:00"],
                                 "start_date": today.checked_sub_days(Days::new(7)).unwrap()},
                    "stock": 60, "low_stock_threshold": 5
                }),
            )
            .await;
        }
    }
}

/// The user's month of events, made through the API.
async fn fill_month(client: &reqwest::Client, gw: &str, token: &str) {
    for i in 0..30u32 {
        post(
            client,
            format!("{gw}/api/v1/events"),
            token,
            json!({
                "title": format!("事件 {i}"), "event_type": "schedule",
                "start_time": format!("2027-03-{:02}T{:02}:00:00", 1 + i % 31, 8 + i % 10),
                "duration": 45, "description": "和朋友见面，记得带上资料",
            }),
        )
        .await;
    }
}

/// A conversation of 50 messages and an inbox of 20 notifications, written into the database
/// as svc-chat and svc-scheduler would have.
async fn fill_the_database(db_url: &str, user: Uuid) -> Uuid {
    let db = Database::connect(db_url).await.unwrap();
    let now = Utc::now();
    let conversation = Uuid::now_v7();
    conversation::Model {
        id: conversation,
        user_id: user,
        title: "明天的安排".into(),
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .insert(&db)
    .await
    .unwrap();
    for i in 0..50i64 {
        let (role, content) = if i % 2 == 0 {
            (
                "user",
                format!("第 {i} 条：明天下午三点提醒我去药店买维生素D，顺便看看钙片。"),
            )
        } else {
            (
                "assistant",
                format!("好的（{i}）：我已经为你创建了明天 15:00 的日程「去药店」，到时会提醒你。"),
            )
        };
        message::Model {
            id: Uuid::now_v7(),
            conversation_id: conversation,
            user_id: user,
            role: role.into(),
            content,
            created_at: now + chrono::Duration::milliseconds(i),
        }
        .into_active_model()
        .insert(&db)
        .await
        .unwrap();
    }
    for i in 0..20 {
        notification::Model {
            id: Uuid::now_v7(),
            user_id: user,
            kind: "expiry_alert".into(),
            title: "药品即将过期".into(),
            body: format!("药品 {i} 将在 {} 天后过期", i * 3),
            data: json!({"drug_id": Uuid::now_v7(), "days_left": i * 3}),
            dedupe_key: format!("bench-{user}-{i}"),
            read_at: None,
            created_at: now,
        }
        .into_active_model()
        .insert(&db)
        .await
        .unwrap();
    }
    db.close().await.unwrap();
    conversation
}

/// The reference row: a forwarded request that no database read follows.
const HOP: &str = "a hop, no database";

/// Fills the system with one user's data and measures each path next to `/health`.
async fn measure(system: &System, db_url: &str, title: &str) {
    let connections = env_or("BENCH_CONNECTIONS", 64);
    let seconds = env_or("BENCH_SECONDS", 5);
    let gw = &system.gw;
    let client = reqwest::Client::new();
    let token = register(&client, gw, "bench-lists").await;
    let me: Value = client
        .get(format!("{gw}/api/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user: Uuid = me["id"].as_str().unwrap().parse().unwrap();
    fill_cabinet(&client, gw, &token, None).await;
    fill_month(&client, gw, &token).await;
    let conversation = fill_the_database(db_url, user).await;
    // The same cabinet for a dependent the user looks after (`X-Person-Id`: the role is read
    // from the database on every request).
    let household = post(
        &client,
        format!("{gw}/api/v1/households"),
        &token,
        json!({"name": "家"}),
    )
    .await;
    let dependent = post(
        &client,
        format!(
            "{gw}/api/v1/households/{}/dependents",
            household["id"].as_str().unwrap()
        ),
        &token,
        json!({"name": "奶奶"}),
    )
    .await;
    let dependent = dependent["person_id"].as_str().unwrap().to_owned();
    fill_cabinet(&client, gw, &token, Some(&dependent)).await;

    let today = Utc::now().date_naive();
    let paths = [
        ("health", "/health".to_owned(), None),
        // Not a list: the gateway authenticates and forwards, svc-drugs checks the internal
        // token and answers 404 from its router. What any list pays before its first query.
        (HOP, "/api/v1/drugs/no/such/route".to_owned(), None),
        ("cabinet, 20 drugs", "/api/v1/drugs".to_owned(), None),
        (
            "a dependent's cabinet",
            "/api/v1/drugs".to_owned(),
            Some(dependent.as_str()),
        ),
        (
            "today's doses, 5 plans",
            format!("/api/v1/doses?from={today}&to={today}"),
            None,
        ),
        (
            "a month, 30 events",
            "/api/v1/events?start_date=2027-03-01&end_date=2027-03-31".to_owned(),
            None,
        ),
        (
            "50 messages",
            format!("/api/v1/conversations/{conversation}/messages?limit=50"),
            None,
        ),
        ("inbox, 20", "/api/v1/notifications".to_owned(), None),
        ("users/me", "/api/v1/users/me".to_owned(), None),
    ];
    println!("{title}, {connections} connections, {seconds} s each");
    println!(
        "{:<24} {:>9} {:>8} {:>8} {:>9} {:>8}",
        "path", "req/s", "p50 ms", "p99 ms", "÷ health", "bytes"
    );
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut health = 0.0;
    for (name, path, person) in paths {
        if name != "health" && name != HOP && !name.contains(only.as_str()) {
            continue;
        }
        let url = format!("{gw}{path}");
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(p) = person {
            headers.insert("x-person-id", p.parse().unwrap());
        }
        let answer = client
            .get(&url)
            .bearer_auth(&token)
            .headers(headers.clone())
            .send()
            .await
            .unwrap();
        let expected: fn(reqwest::StatusCode) -> bool = if name == HOP {
            |s| s == reqwest::StatusCode::NOT_FOUND
        } else {
            success
        };
        assert!(expected(answer.status()), "{url}: {}", answer.status());
        let body = answer.bytes().await.unwrap();
        let run =
            closed_loop_with(url, token.clone(), headers, expected, connections, seconds).await;
        if name == "health" {
            health = run.rps();
        }
        println!(
            "{name:<24} {:>9.0} {:>8.2} {:>8.2} {:>9} {:>8}",
            run.rps(),
            run.percentile(0.5),
            run.percentile(0.99),
            format!("1/{:.1}", health / run.rps()),
            body.len()
        );
        if name == HOP {
            table_row(
                &format!("{name} (reference, no target) — {title}"),
                &format!("{:.0} req/s, p99 {:.1} ms", run.rps(), run.percentile(0.99)),
                &format!("`/health` {health:.0} req/s: 1/{:.1}", health / run.rps()),
                "",
                None,
            );
        }
        if name != "health" && name != HOP {
            let share = health / run.rps();
            table_row(
                &format!("{name} — {title}"),
                &format!("{:.0} req/s, p99 {:.1} ms", run.rps(), run.percentile(0.99)),
                &format!("`/health` {health:.0} req/s: 1/{share:.1}"),
                "≥ 8,000 req/s, p99 ≤ 20 ms, ≥ 1/11",
                Some(run.rps() >= 8000.0 && run.percentile(0.99) <= 20.0 && share <= 11.0),
            );
        }
    }
    println!("targets: ≥ 8,000 req/s, p99 ≤ 20 ms, ≥ 1/11 of health\n");
}

/// `admin`'s server with the database `name`.
fn on_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    shared::install_crypto_provider();
    let mode = std::env::var("BENCH_MODE").unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("lists-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if mode != "apart" {
        let db_url = format!("sqlite://{}/lists.db?mode=rwc", dir.display());
        let system = System::one_process(&dir, &db_url, &[]).await;
        measure(&system, &db_url, "one-process stack, SQLite").await;
    }
    if mode != "stack" {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("lists_bench_{}", std::process::id());
        let admin = Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let db_url = on_database(&admin_url, &name);
        {
            let system = System::apart(&dir, &db_url, &[]).await;
            measure(
                &system,
                &db_url,
                "gateway, svc-drugs, svc-chat, svc-scheduler apart (production mode, h2c), PostgreSQL",
            )
            .await;
        }
        admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
