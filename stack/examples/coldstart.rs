//! Cold start of each service from its unpacked FC package: time from exec to the first 200
//! on `/healthz`, and RSS at that moment; median of 20 runs, without TLS to PostgreSQL and
//! with it (`sslmode=require`, the usual managed-database setup) in the same run. Package
//! sizes too.
//!
//! ```text
//! deploy/package.sh
//! cargo run --release -p stack --example coldstart        # PostgreSQL at TEST_DATABASE_URL
//! ```
//!
//! Each start is a production start: connect to PostgreSQL, check migrations (under the
//! advisory lock), bind, answer. `sslmode` in `TEST_DATABASE_URL` is replaced by each mode's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::table_row;

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(50),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dist = std::env::var_os("UNILIFE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("dist"));
    let database = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let work = std::env::temp_dir().join(format!("coldstart-{}", std::process::id()));
    let runs = 20;
    println!(
        "{:<14} {:<6} {:>10} {:>12} {:>12} {:>10}",
        "service", "db", "zip MB", "median ms", "max ms", "RSS MB"
    );
    for s in ["gateway", "svc-drugs", "svc-chat", "svc-scheduler"] {
        let zip = dist.join(format!("fc/{s}.zip"));
        let zip_mb = std::fs::metadata(&zip)
            .map(|m| m.len() as f64 / 1048576.0)
            .expect("run deploy/package.sh first");
        let code = work.join(s);
        std::fs::create_dir_all(&code).unwrap();
        assert!(
            Command::new("unzip")
                .arg("-qo")
                .arg(&zip)
                .arg("-d")
                .arg(&code)
                .status()
                .unwrap()
                .success()
        );
        let plain = start_times(&code, &with_sslmode(&database, "disable"), runs, s);
        let tls = start_times(&code, &with_sslmode(&database, "require"), runs, s);
        for (mode, result) in [("plain", &plain), ("TLS", &tls)] {
            match result {
                Ok((times, rss)) => println!(
                    "{s:<14} {mode:<6} {zip_mb:>10.2} {:>12.1} {:>12.1} {:>10.1}",
                    times[runs / 2],
                    times[runs - 1],
                    rss[runs / 2]
                ),
                Err(why) => println!("{s:<14} {mode:<6} did not start: {why}"),
            }
        }
        let median = |r: &Result<(Vec<f64>, Vec<f64>), String>| {
            r.as_ref().map_or_else(
                |why| format!("did not start: {why}"),
                |(t, _)| format!("{:.1} ms", t[runs / 2]),
            )
        };
        table_row(
            &format!(
                "cold start over TLS to PostgreSQL (`sslmode=require`), `{s}` package: exec → first 200, median of {runs}"
            ),
            &median(&tls),
            &format!("without TLS {}", median(&plain)),
            "≤ 60 ms",
            Some(tls.as_ref().is_ok_and(|(t, _)| t[runs / 2] <= 60.0)),
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// `runs` starts of the unpacked service in `code` against `database`: exec → first 200 on
/// `/healthz` (ms, sorted) and RSS then (MB, sorted); what the service said if it exited
/// instead (a server without TLS refuses `sslmode=require`, for one).
fn start_times(
    code: &Path,
    database: &str,
    runs: usize,
    s: &str,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let mut child = Command::new(code.join("bootstrap"))
            .current_dir(code)
            .env_clear()
            .env("FC_SERVER_PORT", port.to_string())
            .env("APP__APP__MODE", "production")
            .env("SERVERLESS", "true")
            .env("DATABASE_URL", database)
            .env(
                "JWT_SECRET_KEY",
                "coldstart-jwt-secret-0123456789abcdef0123",
            )
            .env(
                "APP__AUTH__INTERNAL_SECRET",
                "coldstart-internal-secret-0123456789abcd",
            )
            .env(
                "APP__SCHEDULER__CHANNEL_KEY",
                "coldstart-channel-key-0123456789abcdef01",
            )
            .env("APP__STORAGE__BACKEND", "s3")
            .env("APP__STORAGE__S3_BUCKET", "coldstart")
            .env("APP__STORAGE__S3_ENDPOINT", "http://127.0.0.1:1")
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        loop {
            if healthy(port) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut said = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = err.read_to_string(&mut said);
                }
                let last = said.lines().last().unwrap_or("").trim().to_owned();
                return Err(format!("{s} exited ({status}): {last}"));
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{s} did not start"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        rss.push(rss_kib(child.id()) as f64 / 1024.0);
        let _ = child.kill();
        let _ = child.wait();
    }
    times.sort_by(f64::total_cmp);
    rss.sort_by(f64::total_cmp);
    Ok((times, rss))
}

/// `url` with its `sslmode` set to `mode` (whatever it had).
fn with_sslmode(url: &str, mode: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("sslmode="))
        .collect();
    let sslmode = format!("sslmode={mode}");
    params.push(&sslmode);
    format!("{base}?{}", params.join("&"))
}
