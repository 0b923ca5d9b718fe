//! Streaming chat through the gateway: time to first byte added by gateway + svc-chat, and
//! memory per open stream.
//!
//! ```text
//! cargo build --release -p stack
//! cargo run --release -p stack --example stream_bench
//! ```
//!
//! A fake model streams 50 tokens 20 ms apart (the first after 20 ms). Time to first byte is
//! measured at the client, directly against the model (its own first-token time) and through
//! the stack (gateway → svc-chat → model); the difference is what we add. Then 200 streams
//! are held open at once (tokens 100 ms apart) and the stack process's RSS is compared with
//! its idle RSS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Token gap in ms, changeable while the server runs.
static GAP_MS: AtomicU64 = AtomicU64::new(20);

async fn fake_model() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for i in 0..50 {
                    tokio::time::sleep(Duration::from_millis(GAP_MS.load(Ordering::Relaxed))).await;
                    let event = format!(
                        "data: {}\n\n",
                        json!({"choices": [{"index": 0, "delta": {"content": format!("t{i} ")}}]})
                    );
                    if sock
                        .write_all(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                let done = "data: [DONE]\n\n";
                let _ = sock
                    .write_all(format!("{:x}\r\n{done}\r\n0\r\n\r\n", done.len()).as_bytes())
                    .await;
            });
        }
    });
    url
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
    let model = fake_model().await;
    let client = reqwest::Client::new();
    let body =
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true});

    // The model's own first-token time, from the client.
    let mut direct = Vec::new();
    for _ in 0..20 {
        let (t, _) = ttfb(client.post(format!("{model}/chat/completions")).json(&body)).await;
        direct.push(t.as_secs_f64() * 1000.0);
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = std::env::var("BENCH_STACK_BIN")
        .unwrap_or_else(|_| root.join("target/release/stack").display().to_string());
    let dir = std::env::temp_dir().join(format!("stream-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut stack = Command::new(&bin)
        .args(["--port", &port.to_string()])
        .current_dir(&dir)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
        )
        .env("DEEPSEEK_BASE_URL", &model)
        .env("DEEPSEEK_API_KEY", "k")
        .env("APP__CHAT__DAILY_QUOTA", "1000000")
        .env("APP__RATE_LIMIT__ENABLED", "false")
        .env("APP__SCHEDULER__CLOCK", "false")
        .env("APP__LLM_CHAT__MAX_CONCURRENCY", "1000")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e} (cargo build --release -p stack)"));
    let gw = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if client.get(format!("{gw}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session: serde_json::Value = client
        .post(format!("{gw}/api/v1/auth/register"))
        .json(&json!({"user_id": "bench", "password": "bench-passw0rd!"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let chat = |c: &reqwest::Client| {
        c.post(format!("{gw}/api/v1/chat"))
            .bearer_auth(&token)
            .json(&json!({"message": "hi", "stream": true}))
    };

    // Warm up, then time through the stack.
    for _ in 0..5 {
        let (_, res) = ttfb(chat(&client)).await;
        let _ = res.bytes().await;
    }
    let mut through = Vec::new();
    for _ in 0..20 {
        let (t, res) = ttfb(chat(&client)).await;
        through.push(t.as_secs_f64() * 1000.0);
        let _ = res.bytes().await;
    }
    let (d, s) = (median(direct), median(through));
    println!(
        "time to first byte, median of 20: model alone {d:.2} ms, through gateway + svc-chat {s:.2} ms"
    );
    println!("added: {:.2} ms (target <= 5 ms)", s - d);

    // Memory per open stream.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(stack.id());
    GAP_MS.store(100, Ordering::Relaxed);
    let opened = Arc::new(AtomicU64::new(0));
    let mut open = Vec::new();
    for _ in 0..200 {
        let c = client.clone();
        let req = chat(&c);
        let opened = opened.clone();
        open.push(tokio::spawn(async move {
            let (_, res) = ttfb(req).await;
            opened.fetch_add(1, Ordering::SeqCst);
            let _ = res.bytes().await;
        }));
    }
    while opened.load(Ordering::SeqCst) < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = rss_kib(stack.id());
    println!(
        "RSS of the stack: idle {:.1} MiB, 200 streams open {:.1} MiB: {:.1} KiB per open stream (target <= 64 KiB)",
        idle as f64 / 1024.0,
        busy as f64 / 1024.0,
        (busy.saturating_sub(idle)) as f64 / 200.0
    );
    for t in open {
        let _ = t.await;
    }
    let _ = stack.kill();
    let _ = stack.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
