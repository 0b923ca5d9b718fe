//! What memory costs a chat turn: time to first byte through the gateway for a user with 1,000
//! remembered facts and 60 diaries, against a user with none, in the same run of the
//! one-process stack (SQLite), with a fake model that answers at once.
//!
//! ```text
//! cargo build --release -p stack
//! cargo run --release -p stack --example memory_bench
//! ```
//!
//! Prints: choosing the facts for a prompt in this process (`memory::select` over 1,000
//! facts, median of 200); then streamed turns alternating between the two users, 20 warm-up
//! and `BENCH_TURNS` (200) measured each, time to first byte (median and p90) and the
//! difference: what reading the facts and diaries, choosing them and the longer prompt add
//! (target ≤ 3 ms).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{System, env_or, register};
use sea_orm::{ActiveModelTrait, Database, Set};
use serde_json::{Value, json};
use shared::entities::diary;
use uuid::Uuid;

const FACTS: usize = 1_000;
const DIARIES: i64 = 60;

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The 1,000 facts: a few health facts, the rest people, places and likes.
fn fact(i: usize) -> Value {
    let (kind, content) = match i % 5 {
        0 => ("health", format!("第{i}条：对某种药物{i}号过敏，需要避开")),
        1 => ("person", format!("朋友{i}号住在城市{i}，喜欢一起吃饭")),
        2 => ("place", format!("常去的地方{i}号在公司附近")),
        3 => ("preference", format!("喜欢第{i}种口味的咖啡和甜点")),
        _ => ("routine", format!("每周{}晚上做第{i}件事", i % 7 + 1)),
    };
    json!({"kind": kind, "content": content})
}

/// Sends a streamed turn; the time until its first delta.
async fn ttfb(client: &reqwest::Client, gw: &str, token: &str) -> f64 {
    let started = Instant::now();
    let mut res = client
        .post(format!("{gw}/api/v1/chat"))
        .bearer_auth(token)
        .json(&json!({"message": "我嗓子疼，今天能吃点什么药", "stream": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    loop {
        let chunk = res.chunk().await.unwrap().expect("a delta");
        if chunk.windows(5).any(|w| w == b"delta") {
            let t = started.elapsed().as_secs_f64() * 1000.0;
            while res.chunk().await.unwrap().is_some() {}
            return t;
        }
    }
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    // Choosing the facts alone.
    let now = Utc::now();
    let facts: Vec<svc_chat::memory::Recall> = (0..FACTS)
        .map(|i| {
            let f = fact(i);
            svc_chat::memory::Recall {
                kind: f["kind"].as_str().unwrap().to_owned(),
                content: f["content"].as_str().unwrap().to_owned(),
                learnt_on: now.date_naive(),
            }
        })
        .collect();
    let mut select = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let chosen = svc_chat::memory::select(
            &facts,
            "我嗓子疼，今天能吃点什么药",
            svc_chat::memory::FACT_TOKENS,
        );
        assert!(!chosen.is_empty());
        select.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "choosing facts for a prompt in process: {FACTS} facts, median {:.3} ms",
        percentile(select, 0.5)
    );

    let model = shared::testing::RawModel::start(3, 0).await.unwrap();
    let dir = std::env::temp_dir().join(format!("memory-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_url = format!("sqlite://{}/memory.db?mode=rwc", dir.display());
    let system = System::one_process(
        &dir,
        &db_url,
        &[
            ("DEEPSEEK_BASE_URL", model.url.clone()),
            ("DEEPSEEK_API_KEY", "k".into()),
            ("APP__CHAT__DAILY_QUOTA", "1000000".into()),
            ("APP__LLM_CHAT__MAX_CONCURRENCY", "1000".into()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let with = register(&client, &system.gw, "bench-memory").await;
    let without = register(&client, &system.gw, "bench-plain").await;
    // The facts through the API, the diaries into the database (no route writes one directly).
    for i in 0..FACTS {
        let res = client
            .post(format!("{}/api/v1/memory", system.gw))
            .bearer_auth(&with)
            .json(&fact(i))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    let me: Value = client
        .get(format!("{}/api/v1/users/me", system.gw))
        .bearer_auth(&with)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user: Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let db = Database::connect(&db_url).await.unwrap();
    let today = Utc::now().date_naive();
    for d in 1..=DIARIES {
        diary::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user),
            diary_date: Set(today - chrono::Duration::days(d)),
            summary: Set(format!(
                "第{d}天前：上午开会，下午写报告，晚上跑步五公里，聊了很多关于工作和家人的事。"
            )),
            key_insights: Set(json!(["坚持运动"])),
            extracted_signals: Set(json!([])),
            conversation_count: Set(2),
            message_count: Set(10),
            created_at: Set(Utc::now()),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    let mut reads = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let facts = svc_chat::memory::recall(&db, user).await.unwrap();
        assert_eq!(facts.len(), FACTS);
        reads.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "reading the facts a turn chooses from ({FACTS}, SQLite): median {:.3} ms",
        percentile(reads, 0.5)
    );
    drop(db);

    let turns = env_or("BENCH_TURNS", 200);
    for _ in 0..20 {
        ttfb(&client, &system.gw, &with).await;
        ttfb(&client, &system.gw, &without).await;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..turns {
        a.push(ttfb(&client, &system.gw, &with).await);
        b.push(ttfb(&client, &system.gw, &without).await);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (a50, b50) = (percentile(a.clone(), 0.5), percentile(b.clone(), 0.5));
    println!(
        "time to first byte through the gateway, {turns} turns each (median / p90): without memory {b50:.2} / {:.2} ms; with {FACTS} facts and {DIARIES} diaries {a50:.2} / {:.2} ms; added {:.2} ms (target <= 3 ms)",
        percentile(b, 0.9),
        percentile(a, 0.9),
        a50 - b50
    );
    drop(system);
    let _ = std::fs::remove_dir_all(&dir);
}
