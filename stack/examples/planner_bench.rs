//! The planner on the path the app takes: a month of events through the gateway for a user
//! whose month is 50 routines and habits (their days expanded from RFC 5545 rules), against
//! a user whose month is 50 plain events, in the same run of the one-process stack.
//!
//! ```text
//! cargo build --release -p stack
//! cargo run --release -p stack --example planner_bench
//! ```
//!
//! Prints: the expansion alone (50 series over a month, in this process, median of 500), then
//! `GET /api/v1/events?start_date=…&end_date=…` for both users through the gateway: latency
//! one request at a time (median and p99 of 300) and throughput with 8 clients for 3 s, and
//! the planner user's figures as a ratio of the plain user's; then each user's calendar feed
//! (`GET /ical/<token>.ics`, median of 100).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime};
use common::{System, register};
use serde_json::{Value, json};
use svc_chat::events::input::RepeatPattern;
use svc_chat::events::recur::{self, Series};

const MONTH: (&str, &str) = ("2027-03-01", "2027-03-31");

/// The 50 series: daily, weekdays, every few days, monthly, and habits; some started long
/// before the month (the expansion must not walk their past).
fn series_bodies() -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..50u32 {
        let start = if i % 2 == 0 {
            "2025-01-06"
        } else {
            "2027-02-20"
        };
        let time = format!("{:02}:{:02}", 6 + i % 14, (i * 7) % 60);
        let pattern = match i % 5 {
            0 => json!({"type": "daily", "time": time}),
            1 => json!({"type": "weekly", "weekdays": [1, 3, 5], "time": time}),
            2 => json!({"type": "custom", "interval_days": 3}),
            3 => json!({"type": "monthly", "time": time}),
            _ => Value::Null,
        };
        let mut body =
            json!({"title": format!("routine {i}"), "event_date": start, "duration": 30});
        if pattern.is_null() {
            body["event_type"] = json!("habit");
            body["habit_interval"] = json!(2);
            body["start_time"] = json!(format!("{start}T{time}:00"));
        } else {
            body["repeat_pattern"] = pattern;
        }
        out.push(body);
    }
    out
}

fn plain_bodies() -> Vec<Value> {
    (0..50u32)
        .map(|i| {
            json!({
                "title": format!("event {i}"), "event_type": "schedule",
                "start_time": format!("2027-03-{:02}T{:02}:00:00", 1 + i % 31, 8 + i % 10),
                "duration": 45,
            })
        })
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p99(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

/// The expansion alone: the 50 series' rules, a month of days each, in this process.
fn expansion_alone() -> (f64, usize) {
    let zone = chrono_tz::Asia::Shanghai;
    let mut all = Vec::new();
    for b in series_bodies() {
        let first: NaiveDate = b["event_date"].as_str().unwrap().parse().unwrap();
        let (pattern, time) = if b["event_type"] == "habit" {
            (
                RepeatPattern {
                    kind: "custom".into(),
                    weekdays: None,
                    time: None,
                    end_date: None,
                    interval_days: Some(2),
                },
                NaiveTime::from_hms_opt(7, 0, 0),
            )
        } else {
            let p: RepeatPattern = serde_json::from_value(b["repeat_pattern"].clone()).unwrap();
            let t = p
                .time
                .as_deref()
                .map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap());
            (p, t)
        };
        let text = recur::rule_text(&pattern, first, time, zone).unwrap();
        all.push(Series::parse(&text).unwrap());
    }
    let from = shared::time::local_midnight(zone, MONTH.0.parse().unwrap());
    let to = shared::time::local_midnight(zone, "2027-04-01".parse().unwrap());
    let none = BTreeSet::new();
    let mut times = Vec::new();
    let mut days = 0;
    for _ in 0..500 {
        let t = Instant::now();
        days = all
            .iter()
            .map(|s| s.between(from, to, zone, &none, 1000).unwrap().len())
            .sum();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(&mut times), days)
}

struct Run {
    median_ms: f64,
    p99_ms: f64,
    per_sec: f64,
    instances: usize,
}

async fn measure(client: &reqwest::Client, url: &str, token: &str) -> Run {
    let get = || client.get(url).bearer_auth(token).send();
    let first: Value = get().await.unwrap().json().await.unwrap();
    let instances = first["instances"].as_array().map_or(0, Vec::len);
    for _ in 0..50 {
        get().await.unwrap().bytes().await.unwrap();
    }
    let mut lat = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let res = get().await.unwrap();
        assert!(res.status().is_success());
        res.bytes().await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
                res.bytes().await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap();
    }
    Run {
        median_ms: median(&mut lat),
        p99_ms: p99(&mut lat),
        per_sec: n as f64 / 3.0,
        instances,
    }
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    let (alone, days) = expansion_alone();
    println!(
        "expansion alone: 50 series, a month ({days} days): {alone:.3} ms (median of 500; target < 2 ms)"
    );

    let dir = std::env::temp_dir().join(format!("planner-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stack = System::one_process(
        &dir,
        &format!("sqlite://{}/planner.db?mode=rwc", dir.display()),
        &[],
    )
    .await;
    let gw = stack.gw.clone();
    let client = reqwest::Client::new();
    let plain = register(&client, &gw, "bench-plain").await;
    let planner = register(&client, &gw, "bench-planner").await;
    for (token, bodies) in [(&plain, plain_bodies()), (&planner, series_bodies())] {
        for b in bodies {
            let res = client
                .post(format!("{gw}/api/v1/events"))
                .bearer_auth(token)
                .json(&b)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        }
    }
    let url = format!(
        "{gw}/api/v1/events?start_date={}&end_date={}",
        MONTH.0, MONTH.1
    );
    let health = measure(&client, &format!("{gw}/health"), &plain).await;
    let base = measure(&client, &url, &plain).await;
    let month = measure(&client, &url, &planner).await;
    println!(
        "GET /health: median {:.3} ms, {:.0} req/s with 8 clients",
        health.median_ms, health.per_sec
    );
    for (name, r) in [
        ("50 plain events", &base),
        ("50 series, their days", &month),
    ] {
        println!(
            "GET /events, a month, {name} ({} instances): median {:.3} ms, p99 {:.3} ms, {:.0} req/s with 8 clients",
            r.instances, r.median_ms, r.p99_ms, r.per_sec
        );
    }
    println!(
        "series ÷ plain: latency {:.2}×, throughput {:.2}× (target: latency ≤ 3×)",
        month.median_ms / base.median_ms,
        base.per_sec / month.per_sec
    );
    // The calendar feed of each user (every event; the routines as rules), as a calendar app
    // polls it: no bearer token, the address is the key.
    let mut feeds = Vec::new();
    for token in [&plain, &planner] {
        let made: Value = client
            .post(format!("{gw}/api/v1/calendar/feed"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = made["url"].as_str().unwrap().to_owned();
        let mut lat = Vec::new();
        let mut size = 0;
        for i in 0..150 {
            let t = Instant::now();
            let res = client.get(&url).send().await.unwrap();
            assert!(res.status().is_success());
            size = res.bytes().await.unwrap().len();
            if i >= 50 {
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        feeds.push((median(&mut lat), size));
    }
    for ((ms, size), name) in feeds.iter().zip(["50 plain events", "50 series"]) {
        println!("GET /ical/<token>.ics, {name} ({size} bytes): median {ms:.3} ms");
    }
    println!(
        "feed, series ÷ plain: latency {:.2}×",
        feeds[1].0 / feeds[0].0
    );
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}
