//! Streaming chat through the gateway: time to first byte added by gateway + svc-chat, and
//! memory per open stream.
//!
//! ```text
//! cargo build --release -p stack -p gateway -p svc-chat
//! cargo run --release -p stack --example stream_bench
//! ```
//!
//! A fake model streams 50 tokens 20 ms apart (the first after 20 ms). Time to first byte is
//! measured at the client, directly against the model (its own first-token time) and through
//! gateway → svc-chat → model; the difference is what we add. The model is served twice: over
//! HTTPS with a private CA (`llm_chat.ca_file`), where ALPN picks HTTP/2 and every open stream
//! of svc-chat shares one connection, as with a provider's HTTPS endpoint that speaks HTTP/2;
//! and over plain HTTP/1.1, a connection per open stream (`BENCH_MODELS=https`, `http1` or
//! `https,http1`, the default). Then 200 streams are held open
//! at once (tokens 200 ms apart) and each process's RSS is compared with its idle RSS and with
//! its RSS at 100 open streams (the marginal cost of a stream). Both
//! are measured with the whole stack in one process (`cargo run -p stack`, h2c inside), and
//! with the gateway and svc-chat in processes of their own, as they are deployed, once with
//! HTTP/1.1 between them and once with h2c (`services.h2c`), each with the database pool the
//! deploy files give it (5 connections; `BENCH_POOL` to change).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{register, wait_healthy};
use serde_json::json;

/// A fake model: where it is, the CA to trust if it speaks TLS, its token gap in ms
/// (changeable while it runs).
struct Model {
    name: &'static str,
    url: String,
    ca_file: Option<std::path::PathBuf>,
    gap_ms: Arc<AtomicU64>,
}

/// Send, then wait for the first body chunk; the response is returned still open.
async fn ttfb(req: reqwest::RequestBuilder) -> (Duration, reqwest::Response) {
    let started = Instant::now();
    let mut res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    loop {
        let chunk = res.chunk().await.unwrap().expect("a first chunk");
        if chunk.windows(5).any(|w| w == b"delta" || w == b"conte") {
            return (started.elapsed(), res);
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    let which = std::env::var("BENCH_MODELS").unwrap_or_else(|_| "https,http1".into());
    let mut models = Vec::new();
    // Kept alive for the whole run (dropping it stops the server).
    let mut tls_model = None;
    for kind in which.split(',').map(str::trim) {
        match kind {
            "https" => {
                let tls = shared::testing::TlsModel::start(50, 20).unwrap();
                models.push(Model {
                    name: "model over HTTPS, HTTP/2 by ALPN",
                    url: tls.url.clone(),
                    ca_file: Some(tls.ca_file.clone()),
                    gap_ms: tls.gap_ms.clone(),
                });
                tls_model = Some(tls);
            }
            "http1" => {
                let raw = shared::testing::RawModel::start(50, 20).await.unwrap();
                models.push(Model {
                    name: "model over plain HTTP/1.1",
                    url: raw.url,
                    ca_file: None,
                    gap_ms: raw.gap_ms,
                });
            }
            other => panic!("BENCH_MODELS: {other:?} is neither https nor http1"),
        }
    }
    let release = |name: &str| {
        std::env::var_os(format!(
            "BENCH_{}_BIN",
            name.replace('-', "_").to_uppercase()
        ))
        .map_or_else(|| common::binary(name), std::path::PathBuf::from)
    };
    let dir = std::env::temp_dir().join(format!("stream-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let client = reqwest::Client::new();
    // The separate processes' pool size: what deploy/fc/s.yaml and deploy/scf/*/serverless.yml
    // set (`APP__DATABASE__MAX_CONNECTIONS`); 10 is the built-in default. Each open SQLite
    // connection holds its page cache and prepared statements (~0.3 MiB here), which the
    // 200-stream burst opens once and "over idle" counts.
    let pool = std::env::var("BENCH_POOL").unwrap_or_else(|_| DEPLOYED_POOL.to_owned());
    println!("gateway and svc-chat apart: database pools of {pool} connections (BENCH_POOL)");

    for model in &models {
        println!("== {} ==", model.name);
        // The model's own first-token time, from a client that trusts its CA.
        let mut direct_client = reqwest::Client::builder();
        if let Some(ca) = &model.ca_file {
            direct_client = direct_client.tls_certs_merge(
                reqwest::Certificate::from_pem_bundle(&std::fs::read(ca).unwrap()).unwrap(),
            );
        }
        let direct_client = direct_client.build().unwrap();
        let body =
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true});
        let mut direct: Vec<f64> = Vec::new();
        for _ in 0..20 {
            let (t, _) = ttfb(
                direct_client
                    .post(format!("{}/chat/completions", model.url))
                    .json(&body),
            )
            .await;
            direct.push(t.as_secs_f64() * 1000.0);
        }
        let direct = median(direct);

        // 1. The whole stack in one process (`cargo run -p stack`).
        let port = shared::testing::free_port();
        let stack = spawn(
            Command::new(release("stack")).args(["--port", &port.to_string()]),
            &dir,
            model,
            &format!("stack-{}.db", model.ca_file.is_some()),
        );
        let gw = format!("http://127.0.0.1:{port}");
        wait_healthy(&format!("{gw}/health")).await;
        let token = register(&client, &gw, "bench").await;
        let figures = measure(&client, &gw, &token, model, &[("stack", stack.id())]).await;
        println!(
            "one process (gateway + svc-chat + the others): time to first byte, median of 20: model alone {direct:.2} ms, through the stack {:.2} ms: added {:.2} ms (target <= 5 ms)",
            figures.ttfb_ms,
            figures.ttfb_ms - direct
        );
        figures.print();
        stop(stack);

        // 2. As deployed: the gateway and svc-chat in processes of their own, the hop between
        //    them in HTTP/1.1 (a connection per open stream) and in h2c (`services.h2c`: one
        //    connection per gateway worker).
        //    Their database pools are as large as the deploy files make them (`BENCH_POOL`).
        for (protocol, h2c) in [("HTTP/1.1", "false"), ("h2c", "true")] {
            let db = format!("split-{h2c}-{}.db", model.ca_file.is_some());
            let chat_port = shared::testing::free_port();
            let chat = spawn(
                Command::new(release("svc-chat"))
                    .env("PORT", chat_port.to_string())
                    .env("APP__DATABASE__MAX_CONNECTIONS", &pool),
                &dir,
                model,
                &db,
            );
            wait_healthy(&format!("http://127.0.0.1:{chat_port}/healthz")).await;
            let gw_port = shared::testing::free_port();
            let gateway = spawn(
                Command::new(release("gateway"))
                    .env("PORT", gw_port.to_string())
                    .env("APP__DATABASE__MAX_CONNECTIONS", &pool)
                    .env("APP__SERVICES__H2C", h2c)
                    .env(
                        "APP__SERVICES__CHAT",
                        format!("http://127.0.0.1:{chat_port}"),
                    ),
                &dir,
                model,
                &db,
            );
            let gw = format!("http://127.0.0.1:{gw_port}");
            wait_healthy(&format!("{gw}/health")).await;
            let token = register(&client, &gw, "bench").await;
            let figures = measure(
                &client,
                &gw,
                &token,
                model,
                &[("gateway", gateway.id()), ("svc-chat", chat.id())],
            )
            .await;
            println!(
                "separate processes, gateway -> svc-chat in {protocol}: time to first byte through gateway + svc-chat {:.2} ms: added {:.2} ms (target <= 5 ms)",
                figures.ttfb_ms,
                figures.ttfb_ms - direct
            );
            figures.print();
            stop(gateway);
            stop(chat);
        }
    }
    if let Some(tls) = &tls_model {
        let (requests, connections, all_h2) = tls.seen();
        println!(
            "the HTTPS model saw {requests} requests over {connections} connections ({})",
            if all_h2 {
                "all HTTP/2"
            } else {
                "not all HTTP/2"
            }
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `APP__DATABASE__MAX_CONNECTIONS` in the deploy files.
const DEPLOYED_POOL: &str = "5";

fn spawn(command: &mut Command, dir: &Path, model: &Model, db: &str) -> std::process::Child {
    if let Some(ca) = &model.ca_file {
        command.env("APP__LLM_CHAT__CA_FILE", ca);
    }
    command
        .current_dir(dir)
        .env("APP__SERVER__HOST", "127.0.0.1")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/{db}?mode=rwc", dir.display()),
        )
        .env("DEEPSEEK_BASE_URL", &model.url)
        .env("DEEPSEEK_API_KEY", "k")
        .env("APP__CHAT__DAILY_QUOTA", "1000000")
        .env("APP__RATE_LIMIT__ENABLED", "false")
        .env("APP__SCHEDULER__CLOCK", "false")
        .env("APP__LLM_CHAT__MAX_CONCURRENCY", "1000")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{command:?}: {e} (cargo build --release -p stack -p gateway -p svc-chat)")
        })
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

struct Figures {
    ttfb_ms: f64,
    /// (process, KiB idle, with half the streams open, with all open, 2 s after all closed)
    rss: Vec<(&'static str, u64, u64, u64, u64)>,
    streams: u64,
}

impl Figures {
    fn print(&self) {
        let (mut total, mut total_marginal) = (0, 0);
        let n = self.streams;
        for (name, idle, half, busy, after) in &self.rss {
            let per = busy.saturating_sub(*idle) as f64 / n as f64;
            let marginal = busy.saturating_sub(*half) as f64 / (n - n / 2) as f64;
            total += busy.saturating_sub(*idle);
            total_marginal += busy.saturating_sub(*half);
            println!(
                "  {name:<9} RSS idle {:.1} MiB, {} open {:.1} MiB, {n} open {:.1} MiB, all closed {:.1} MiB: {per:.1} KiB per open stream over idle; {marginal:.1} KiB per stream from {} to {n} (target <= 64 KiB)",
                *idle as f64 / 1024.0,
                n / 2,
                *half as f64 / 1024.0,
                *busy as f64 / 1024.0,
                *after as f64 / 1024.0,
                n / 2,
            );
        }
        if self.rss.len() > 1 {
            println!(
                "  together: {:.1} KiB per open stream over idle; {:.1} KiB per stream from {} to {n}",
                total as f64 / n as f64,
                total_marginal as f64 / (n - n / 2) as f64,
                n / 2
            );
        }
    }
}

/// Time to first byte (median of 20 after 5 warm-ups, tokens 20 ms apart), then RSS of each
/// process idle, with 100 streams open and with 200 open at once. Over idle, the figure also
/// carries what grows once to a bound (the database pool opening its connections, allocator
/// arenas of threads that wake up); from 100 to 200 it is what one more stream costs.
async fn measure(
    client: &reqwest::Client,
    gw: &str,
    token: &str,
    model: &Model,
    processes: &[(&'static str, u32)],
) -> Figures {
    model.gap_ms.store(20, Ordering::Relaxed);
    let chat = |c: &reqwest::Client| {
        c.post(format!("{gw}/api/v1/chat"))
            .bearer_auth(token)
            .json(&json!({"message": "hi", "stream": true}))
    };
    for _ in 0..5 {
        let (_, res) = ttfb(chat(client)).await;
        let _ = res.bytes().await;
    }
    let mut through = Vec::new();
    for _ in 0..20 {
        let (t, res) = ttfb(chat(client)).await;
        through.push(t.as_secs_f64() * 1000.0);
        let _ = res.bytes().await;
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle: Vec<u64> = processes.iter().map(|(_, pid)| rss_kib(*pid)).collect();
    // Streams last 10 s (50 tokens 200 ms apart): the first half stays open while the second
    // half opens.
    model.gap_ms.store(200, Ordering::Relaxed);
    let streams = 200;
    let opened = Arc::new(AtomicU64::new(0));
    let mut open = Vec::new();
    let mut half = Vec::new();
    for i in 0..streams {
        if i == streams / 2 {
            while opened.load(Ordering::SeqCst) < streams / 2 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            half = processes.iter().map(|(_, pid)| rss_kib(*pid)).collect();
        }
        let req = chat(client);
        let opened = opened.clone();
        open.push(tokio::spawn(async move {
            let (_, res) = ttfb(req).await;
            opened.fetch_add(1, Ordering::SeqCst);
            let _ = res.bytes().await;
        }));
    }
    while opened.load(Ordering::SeqCst) < streams {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy: Vec<u64> = processes.iter().map(|(_, pid)| rss_kib(*pid)).collect();
    for t in open {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after: Vec<u64> = processes.iter().map(|(_, pid)| rss_kib(*pid)).collect();
    Figures {
        ttfb_ms: median(through),
        rss: processes
            .iter()
            .enumerate()
            .map(|(k, (name, _))| (*name, idle[k], half[k], busy[k], after[k]))
            .collect(),
        streams,
    }
}
