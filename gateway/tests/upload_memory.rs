//! The 10 MiB upload relay, alone in its own test binary so that the memory it measures is
//! not disturbed by other tests running in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "api/upstream.rs"]
#[allow(dead_code)]
mod upstream;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::Value;

use helpers::spawn_app_with;
use upstream::spawn_upstream;

fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_10_mib_upload_streams_through_without_being_held_whole() {
    // One after the other in one test: the two measurements must not overlap.
    relay_10_mib(false).await;
    relay_10_mib(true).await;
}

/// A 10 MiB upload through the gateway to the fake service, the hop in HTTP/1.1 or h2c.
async fn relay_10_mib(h2c: bool) {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 160;
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| {
        s.services.drugs = base;
        s.services.h2c = h2c;
    })
    .await;
    let session = app.register(&format!("oscar{h2c}")).await;

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let chunk = Bytes::from(vec![7u8; CHUNK]);
    let state = upstream.state.clone();
    let sender = tokio::spawn(async move {
        // The upstream must see the body while the client is still sending: if the gateway
        // held the body whole, nothing would arrive before the last chunk is sent.
        let mut max_lag = 0u64;
        for i in 0..CHUNKS {
            tx.send(Ok(chunk.clone())).await.unwrap();
            let sent = ((i + 1) * CHUNK) as u64;
            if i == CHUNKS / 2 {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                while state.received.load(Ordering::SeqCst) == 0 {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "nothing reached the upstream by half way"
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            max_lag = max_lag.max(sent - state.received.load(Ordering::SeqCst));
        }
        max_lag
    });
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = vm_kib("VmRSS:");
    let res = app
        .client
        .post(app.url("/api/v1/drugs/count"))
        .bearer_auth(&session.access)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .send()
        .await
        .unwrap();
    let max_lag = sender.await.unwrap();
    let peak = vm_kib("VmHWM:");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["bytes"], (CHUNK * CHUNKS) as u64);
    let growth_kib = peak.saturating_sub(rss_before);
    println!(
        "10 MiB upload (h2c = {h2c}): peak RSS growth {growth_kib} KiB, max bytes in flight {max_lag}"
    );
    assert!(
        growth_kib < 6 * 1024,
        "h2c = {h2c}: the process grew by {growth_kib} KiB while relaying 10 MiB"
    );
}
