//! Recognition on the path the app takes: the 12 MP photo `calcium-d3-front.jpg` posted to
//! `POST /api/v1/drugs/recognize?save=false` through the gateway of the one-process stack,
//! against a fake vision model in this process that answers at once (so what is measured is
//! ours: upload, normalisation, barcode pass, hash, the call, the answer).
//!
//! ```text
//! cargo build --release -p stack
//! cargo run --release -p stack --example recognize_bench
//! ```
//!
//! Prints the end-to-end time of one recognition at a time (median of 5, each by another
//! user), then 8 users' recognitions at once: the wall time and the stack's peak RSS
//! (`VmHWM`) before and after. Targets: 8 at once in ≤ 1.5 s with peak RSS ≤ 200 MiB.
//! Each photo carries one byte of its own, so no answer is reused. `BENCH_PROFILE` picks the
//! build (`release`; `profiling` for `perf`), `BENCH_STACK_BIN` another stack binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::time::Instant;

use common::{System, register, table_row};
use serde_json::{Value, json};
use shared::testing::request_head;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An OpenAI-compatible vision model that answers every request at once with the fields
/// printed on the calcium box.
async fn fake_model() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fields = json!({
        "name": "碳酸钙D3颗粒(Ⅱ)", "brand": "钙诺", "manufacturer": "上海诺成药业股份有限公司",
        "dosage_form": "颗粒", "strength": "每袋含碳酸钙1.25克(相当于钙500毫克)", "package": "12袋/盒",
    });
    let answer = json!({
        "id": "bench", "object": "chat.completion", "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": fields.to_string()}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })
    .to_string();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1 << 16];
                let mut got = Vec::new();
                loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if let Some((at, length)) = request_head(&got)
                        && got.len() >= at + length
                    {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            answer.len()
                        );
                        let _ = sock.write_all(head.as_bytes()).await;
                        let _ = sock.write_all(answer.as_bytes()).await;
                        got.clear();
                    }
                }
            });
        }
    });
    url
}

fn kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// One recognition of `photo` by the user of `token`; its time in ms.
async fn recognize(client: &reqwest::Client, gw: &str, token: &str, photo: Vec<u8>) -> f64 {
    let part = reqwest::multipart::Part::bytes(photo)
        .file_name("box.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("files", part);
    let t = Instant::now();
    let res = client
        .post(format!("{gw}/api/v1/drugs/recognize?save=false"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(body["recognition"]["fields"]["brand"], "钙诺", "{body}");
    t.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    let photo =
        std::fs::read(common::root().join("../shared/fixtures/drug-photos/calcium-d3-front.jpg"))
            .unwrap();
    let model = fake_model().await;
    let dir = std::env::temp_dir().join(format!("recognize-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stack = System::one_process(
        &dir,
        &format!("sqlite://{}/recognize.db?mode=rwc", dir.display()),
        &[("API_KEY", "bench".into()), ("API_BASE_URL", model)],
    )
    .await;
    let gw = stack.gw.clone();
    let pid = stack.pids[0].1;
    let client = reqwest::Client::new();
    let idle = kib(pid, "VmRSS:");
    let mut one = Vec::new();
    for i in 0..5u8 {
        let token = register(&client, &gw, &format!("bench-one-{i}")).await;
        let mut mine = photo.clone();
        mine.push(i);
        one.push(recognize(&client, &gw, &token, mine).await);
    }
    one.sort_by(f64::total_cmp);
    println!(
        "one at a time, 12 MP photo, through the gateway: median {:.0} ms (min {:.0}, max {:.0}) of 5",
        one[2], one[0], one[4]
    );
    let before = kib(pid, "VmHWM:");
    let mut tokens = Vec::new();
    for i in 0..8 {
        tokens.push(register(&client, &gw, &format!("bench-eight-{i}")).await);
    }
    let t = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (client, gw) = (client.clone(), gw.clone());
            let mut mine = photo.clone();
            mine.extend_from_slice(&[0xFF, u8::try_from(i).unwrap()]);
            tokio::spawn(async move { recognize(&client, &gw, &token, mine).await })
        })
        .collect();
    let mut each = Vec::new();
    for task in tasks {
        each.push(task.await.unwrap());
    }
    let wall = t.elapsed().as_secs_f64();
    let peak = kib(pid, "VmHWM:");
    each.sort_by(f64::total_cmp);
    println!(
        "8 at once: wall {wall:.2} s (each {:.0}–{:.0} ms); the stack's peak RSS {:.1} MiB (before: {:.1}, idle {:.1}) — targets ≤ 1.5 s, ≤ 200 MiB",
        each[0],
        each[7],
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    table_row(
        "recognition through the gateway, one 12 MP photo (`save=false`, model answering at once; median of 5)",
        &format!("{:.0} ms", one[2]),
        "—",
        "—",
        None,
    );
    let peak_mib = peak as f64 / 1024.0;
    table_row(
        "8 recognitions at once: wall; the stack's peak RSS",
        &format!("{wall:.2} s; {peak_mib:.1} MiB"),
        &format!(
            "one after another would take {:.2} s; idle {:.1} MiB",
            8.0 * one[2] / 1000.0,
            idle as f64 / 1024.0
        ),
        "≤ 1.5 s, ≤ 200 MiB",
        Some(wall <= 1.5 && peak_mib <= 200.0),
    );
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}
