//! Gateway overhead: the same load against an upstream directly and through the gateway,
//! in one run. Prints throughput ratio and p50/p99 added latency at saturation (closed loop:
//! every connection sends again as soon as it has an answer), p50/p99 added latency at a
//! fixed rate below saturation (open loop; direct then through, and both at once), the
//! gateway's RSS idle and under load, each CPU's steal time during every run (on a
//! virtual machine, the time a vCPU waited for the hypervisor: it sets the tail here), and
//! this process's CPU per request split into the load generator's and the upstream's threads
//! (what bounds the ratio when both share CPU 0).
//!
//! ```text
//! cargo build --release -p gateway --bins --examples && ./target/release/examples/proxy_bench
//! cargo build --profile dist -p gateway --bins --examples && ./target/dist/examples/proxy_bench
//! ```
//! The second measures the build that ships (`deploy/package.sh`, the Dockerfile). Both runs
//! send the same requests, the user's bearer token included.
//! Options (environment): `BENCH_CONNECTIONS` (64), `BENCH_SECONDS` (5), `BENCH_ROUNDS` (3:
//! direct then through, repeated; medians reported), `BENCH_PIN` (1: the
//! gateway runs on CPU 1 and this process — load generator and upstream — on CPU 0, in both
//! runs, as when the gateway has its own instance; 0: everything shares every core),
//! `BENCH_H2C` (0: the gateway speaks HTTP/1.1 to the upstream; 1: h2c, `services.h2c`),
//! `BENCH_RATE` (req/s of the fixed-rate runs; default a tenth of the direct throughput),
//! `BENCH_RELAY` (1: each round also runs the load through a byte-copying TCP relay placed as
//! the gateway is — the cost of the hop itself, a ceiling for any proxy on this machine).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use shared::testing::load::{Run, closed_loop as load, get, warm_client};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Per CPU: (steal, all) ticks so far, from `/proc/stat`. Steal is the time a virtual CPU
/// wanted to run but the hypervisor ran something else: a stall this machine suffers, not one
/// the gateway causes.
fn cpu_ticks() -> Vec<(u64, u64)> {
    std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            (v.get(7).copied().unwrap_or(0), v.iter().take(8).sum())
        })
        .collect()
}

/// Steal in percent of each CPU's time between two `cpu_ticks` readings, as "a/b %".
fn steal(before: &[(u64, u64)], after: &[(u64, u64)]) -> String {
    let pct: Vec<String> = before
        .iter()
        .zip(after)
        .map(|((s0, t0), (s1, t1))| {
            format!(
                "{:.0}",
                100.0 * (s1 - s0) as f64 / ((t1 - t0).max(1)) as f64
            )
        })
        .collect();
    format!("{}%", pct.join("/"))
}

/// User + system CPU seconds of a process so far.
fn cpu_secs(pid: u32) -> f64 {
    stat_cpu_secs(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// utime + stime of a `/proc/…/stat` line, in seconds.
fn stat_cpu_secs(stat: &str) -> f64 {
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// User + system CPU seconds so far of this process's threads, split into the upstream's
/// (actix-server's acceptor and worker threads, named `actix-server …`) and the rest (the load
/// generator on the main runtime).
fn own_cpu_split() -> (f64, f64) {
    let mut upstream = 0.0;
    let mut client = 0.0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let comm = stat
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map_or("", |(comm, _)| comm);
        if comm.starts_with("actix-server") {
            upstream += stat_cpu_secs(&stat);
        } else {
            client += stat_cpu_secs(&stat);
        }
    }
    (client, upstream)
}

/// The relay baseline (`BENCH_RELAY=1`): this binary again, on CPU 1 in place of the gateway,
/// copying bytes between each client connection and a connection of its own to the upstream.
/// No parsing, no headers added: what the hop to another CPU costs by itself.
async fn relay(target: &str) {
    let port = std::env::var("PORT").unwrap();
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    loop {
        let (mut inbound, _) = listener.accept().await.unwrap();
        let target = target.to_owned();
        tokio::spawn(async move {
            let mut outbound = tokio::net::TcpStream::connect(&target).await.unwrap();
            inbound.set_nodelay(true).unwrap();
            outbound.set_nodelay(true).unwrap();
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}

/// `program`, on CPU 1 when pinning (where the gateway runs, or the relay in its place).
fn on_cpu_1(pin: bool, program: &std::path::Path) -> Command {
    if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// The same requests at a fixed rate (open loop): each connection sends on a schedule, and a
/// latency counts from when its request was due, so a stall delays the ones behind it too
/// (no coordinated omission). Below saturation this is the latency a hop adds, not queueing.
async fn paced(url: String, token: String, connections: u64, seconds: u64, rate: f64) -> Run {
    let client = warm_client(&url, &token, connections).await;
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let started = Instant::now() + Duration::from_millis(10);
    let end = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let client = client.clone();
            let url = url.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut due = started + interval.mul_f64(i as f64 / connections as f64);
                while due < end {
                    tokio::time::sleep_until(due.into()).await;
                    let res = get(&client, &url, &token).send().await.unwrap();
                    assert!(res.status().is_success(), "{}", res.status());
                    let _ = res.bytes().await.unwrap();
                    latencies.push(due.elapsed().as_micros() as u32);
                    due += interval;
                }
                latencies
            })
        })
        .collect();
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.unwrap());
    }
    latencies_us.sort_unstable();
    Run {
        requests: latencies_us.len(),
        elapsed: started.elapsed(),
        latencies_us,
    }
}

/// One thread for the load generator: pinned to one CPU, a multi-threaded runtime would only
/// add wake-ups between its own workers (it cost 0.7–1 µs per request).
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Ok(target) = std::env::var("BENCH_RELAY_TO") {
        return relay(&target).await;
    }
    shared::install_crypto_provider();
    let connections = env_or("BENCH_CONNECTIONS", 64);
    let seconds = env_or("BENCH_SECONDS", 5);

    // The upstream: a small JSON GET, one worker, in this process for both runs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_port = listener.local_addr().unwrap().port();
    let upstream = HttpServer::new(|| {
        App::new()
            .route(
                "/healthz",
                web::get()
                    .to(|| async { HttpResponse::Ok().json(serde_json::json!({"status": "up"})) }),
            )
            .route(
                "/api/v1/drugs/ping",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .json(serde_json::json!({"id": 1, "name": "碳酸钙D3颗粒", "status": "ok"}))
                }),
            )
    })
    // As every service does (`shared::server`).
    .tcp_nodelay(true)
    .listen_auto_h2c(listener)
    .unwrap()
    .workers(1)
    .disable_signals()
    .run();
    tokio::spawn(upstream);

    // The gateway of the same build profile as this benchmark (target/<profile>/gateway),
    // unless another is named.
    let binary = std::env::var("BENCH_GATEWAY_BIN").map_or_else(
        |_| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("gateway")
        },
        std::path::PathBuf::from,
    );
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build --release -p gateway --bins --examples)",
        binary.display()
    );
    let dir = std::env::temp_dir().join(format!("proxy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gateway_port = shared::testing::free_port();
    let pin = env_or("BENCH_PIN", 1) == 1
        && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    if pin {
        let own = std::process::id().to_string();
        let ok = Command::new("taskset")
            .args(["-a", "-p", "-c", "0", &own])
            .stdout(Stdio::null())
            .status();
        assert!(
            ok.is_ok_and(|s| s.success()),
            "taskset is needed for BENCH_PIN=1"
        );
    }
    let mut child = on_cpu_1(pin, &binary)
        .current_dir(&dir)
        .env("PORT", gateway_port.to_string())
        .env("APP__SERVER__HOST", "127.0.0.1")
        .env(
            "APP__SERVICES__DRUGS",
            format!("http://127.0.0.1:{upstream_port}"),
        )
        .env("APP__RATE_LIMIT__USER_PER_MINUTE", "100000000")
        .env(
            "APP__SERVICES__H2C",
            if env_or("BENCH_H2C", 0) == 1 {
                "true"
            } else {
                "false"
            },
        )
        .env(
            "LOG_LEVEL",
            std::env::var("BENCH_LOG_LEVEL").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{gateway_port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "gateway did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let session: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&serde_json::json!({"user_id": "bench-user", "password": "bench-passw0rd"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(child.id());

    let own = std::process::id();
    let pid = child.id();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let peak = peak.clone();
        let sampling = sampling.clone();
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // The relay baseline, when asked for: placed as the gateway is (CPU 1 when pinned).
    let mut relay = (env_or("BENCH_RELAY", 0) == 1).then(|| {
        let port = shared::testing::free_port();
        let child = on_cpu_1(pin, &std::env::current_exe().unwrap())
            .env("BENCH_RELAY_TO", format!("127.0.0.1:{upstream_port}"))
            .env("PORT", port.to_string())
            .spawn()
            .unwrap();
        (child, port)
    });
    if let Some((_, port)) = &relay {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
            assert!(Instant::now() < deadline, "relay did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let direct_url = format!("http://127.0.0.1:{upstream_port}/api/v1/drugs/ping");
    let through_url = format!("{base}/api/v1/drugs/ping");
    // Direct and through alternate, round after round, so a slow spell of the machine falls
    // on both; the figures are the medians over the rounds.
    let mut rounds = Vec::new();
    for _ in 0..env_or("BENCH_ROUNDS", 3) {
        let bench_cpu_0 = cpu_secs(own);
        let split_0 = own_cpu_split();
        let ticks_0 = cpu_ticks();
        let direct = load(direct_url.clone(), token.clone(), connections, seconds).await;
        let bench_cpu_1 = cpu_secs(own);
        let split_1 = own_cpu_split();
        let ticks_1 = cpu_ticks();
        let gateway_cpu_0 = cpu_secs(pid);
        let through = load(through_url.clone(), token.clone(), connections, seconds).await;
        let gateway_cpu = cpu_secs(pid) - gateway_cpu_0;
        let ticks_2 = cpu_ticks();
        let bench_cpu_2 = cpu_secs(own);
        let split_2 = own_cpu_split();
        let per_request = |a: (f64, f64), b: (f64, f64), n: usize| {
            (1e6 * (b.0 - a.0) / n as f64, 1e6 * (b.1 - a.1) / n as f64)
        };
        let relayed = match &relay {
            Some((child, port)) => {
                let relay_cpu_0 = cpu_secs(child.id());
                let run = load(
                    format!("http://127.0.0.1:{port}/api/v1/drugs/ping"),
                    token.clone(),
                    connections,
                    seconds,
                )
                .await;
                Some(Relayed {
                    rps: run.rps(),
                    split: per_request(split_2, own_cpu_split(), run.requests),
                    relay_us: 1e6 * (cpu_secs(child.id()) - relay_cpu_0) / run.requests as f64,
                })
            }
            None => None,
        };
        rounds.push(Round {
            relayed,
            split_direct: per_request(split_0, split_1, direct.requests),
            split_through: per_request(split_1, split_2, through.requests),
            direct_rps: direct.rps(),
            through_rps: through.rps(),
            direct_p50: direct.percentile(0.50),
            through_p50: through.percentile(0.50),
            direct_p99: direct.percentile(0.99),
            through_p99: through.percentile(0.99),
            bench_us_direct: 1e6 * (bench_cpu_1 - bench_cpu_0) / direct.requests as f64,
            bench_us_through: 1e6 * (bench_cpu_2 - bench_cpu_1) / through.requests as f64,
            gateway_us: 1e6 * gateway_cpu / through.requests as f64,
            steal: format!(
                "{}, {}",
                steal(&ticks_0, &ticks_1),
                steal(&ticks_1, &ticks_2)
            ),
        });
    }
    // The same load at a fixed rate, a tenth of what the upstream serves directly (or
    // BENCH_RATE): the latency the hop adds when nothing queues.
    let rate = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| (median(rounds.iter().map(|r| r.direct_rps).collect()) / 10.0).round());
    let mut paced_rounds = Vec::new();
    for _ in 0..env_or("BENCH_ROUNDS", 3) {
        let ticks_0 = cpu_ticks();
        let direct = paced(
            direct_url.clone(),
            token.clone(),
            connections,
            seconds,
            rate,
        )
        .await;
        let ticks_1 = cpu_ticks();
        let through = paced(
            through_url.clone(),
            token.clone(),
            connections,
            seconds,
            rate,
        )
        .await;
        paced_rounds.push(Paced {
            direct,
            through,
            steal: format!(
                "{}, {}",
                steal(&ticks_0, &ticks_1),
                steal(&ticks_1, &cpu_ticks())
            ),
        });
    }
    // The same fixed rate, direct and through at once (each on its own connections), so a
    // slow spell of the machine falls on both.
    let mut paired_rounds = Vec::new();
    for _ in 0..env_or("BENCH_ROUNDS", 3) {
        let ticks_0 = cpu_ticks();
        let (direct, through) = tokio::join!(
            paced(
                direct_url.clone(),
                token.clone(),
                connections,
                seconds,
                rate,
            ),
            paced(
                through_url.clone(),
                token.clone(),
                connections,
                seconds,
                rate,
            )
        );
        paired_rounds.push(Paced {
            direct,
            through,
            steal: steal(&ticks_0, &cpu_ticks()),
        });
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    let _ = child.kill();
    if let Some((mut relay, _)) = relay.take() {
        let _ = relay.kill();
        let _ = relay.wait();
    }
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "gateway overhead: {connections} connections, {seconds} s per run, small JSON GET, {}, {} rounds of direct then through",
        if pin {
            "gateway on CPU 1, load generator + upstream on CPU 0"
        } else {
            "all processes share all cores"
        },
        rounds.len()
    );
    println!(
        "round  direct req/s  through req/s  ratio   p50 added  p99 added  gateway CPU/req  client+upstream CPU/req (direct, through)  client / upstream (direct; through)  steal cpu0/cpu1 (direct, through)"
    );
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "{:>5}  {:>12.0}  {:>13.0}  {:>5.1}%  {:>6.3} ms  {:>6.3} ms  {:>12.1} us  {:.1} us, {:.1} us  {:.1} / {:.1} us; {:.1} / {:.1} us  {}",
            i + 1,
            r.direct_rps,
            r.through_rps,
            100.0 * r.ratio(),
            r.through_p50 - r.direct_p50,
            r.through_p99 - r.direct_p99,
            r.gateway_us,
            r.bench_us_direct,
            r.bench_us_through,
            r.split_direct.0,
            r.split_direct.1,
            r.split_through.0,
            r.split_through.1,
            r.steal
        );
    }
    if rounds.iter().any(|r| r.relayed.is_some()) {
        println!(
            "relay baseline (bytes copied on the gateway's CPU, nothing parsed or added): round  req/s  ÷ direct  relay CPU/req  client / upstream CPU/req"
        );
        for (i, r) in rounds.iter().enumerate() {
            if let Some(x) = &r.relayed {
                println!(
                    "{:>5}  {:>6.0}  {:>5.1}%  {:>6.1} us  {:.1} / {:.1} us",
                    i + 1,
                    x.rps,
                    100.0 * x.rps / r.direct_rps,
                    x.relay_us,
                    x.split.0,
                    x.split.1
                );
            }
        }
        println!(
            "relay ÷ direct    {:.1}%, median: the most any proxy on the other CPU could reach here",
            100.0
                * median(
                    rounds
                        .iter()
                        .filter_map(|r| r.relayed.as_ref().map(|x| x.rps / r.direct_rps))
                        .collect()
                )
        );
    }
    let ratio = median(rounds.iter().map(Round::ratio).collect());
    let p99 = median(
        rounds
            .iter()
            .map(|r| r.through_p99 - r.direct_p99)
            .collect(),
    );
    let p50 = median(
        rounds
            .iter()
            .map(|r| r.through_p50 - r.direct_p50)
            .collect(),
    );
    let gateway_us = median(rounds.iter().map(|r| r.gateway_us).collect());
    println!(
        "throughput ratio  {:.1}% of direct, median of the rounds (target >= 80%)",
        100.0 * ratio
    );
    println!("p50 added         {p50:.3} ms at saturation, median");
    println!("p99 added         {p99:.3} ms at saturation, median (target <= 1 ms)");
    println!("gateway CPU       {gateway_us:.1} us per request, median");
    println!(
        "at a fixed rate of {rate:.0} req/s ({connections} connections, open loop, latency from when each request was due):"
    );
    print_paced(&paced_rounds, rate);
    println!(
        "the same, direct and through at the same time ({rate:.0} req/s each, {connections} connections each):"
    );
    print_paced(&paired_rounds, rate);
    println!(
        "gateway RSS       idle {:.1} MB, under load {:.1} MB (target idle <= 20 MB)",
        idle_rss as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
}

/// One fixed-rate round: the direct and the through run, and the steal while they ran.
struct Paced {
    direct: Run,
    through: Run,
    steal: String,
}

fn print_paced(rounds: &[Paced], rate: f64) {
    println!(
        "round  direct req/s  through req/s  direct p50/p99     through p50/p99    p50 added  p99 added  steal cpu0/cpu1"
    );
    let added = |r: &Paced, p: f64| r.through.percentile(p) - r.direct.percentile(p);
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "{:>5}  {:>12.0}  {:>13.0}  {:.3}/{:.3} ms  {:.3}/{:.3} ms  {:>6.3} ms  {:>6.3} ms  {}",
            i + 1,
            r.direct.rps(),
            r.through.rps(),
            r.direct.percentile(0.50),
            r.direct.percentile(0.99),
            r.through.percentile(0.50),
            r.through.percentile(0.99),
            added(r, 0.50),
            added(r, 0.99),
            r.steal
        );
    }
    println!(
        "p50 added         {:.3} ms at {rate:.0} req/s, median",
        median(rounds.iter().map(|r| added(r, 0.50)).collect())
    );
    println!(
        "p99 added         {:.3} ms at {rate:.0} req/s, median (target <= 1 ms)",
        median(rounds.iter().map(|r| added(r, 0.99)).collect())
    );
}

/// One round's run through the relay baseline.
struct Relayed {
    rps: f64,
    /// The load generator's and the upstream's CPU per request.
    split: (f64, f64),
    relay_us: f64,
}

struct Round {
    relayed: Option<Relayed>,
    direct_rps: f64,
    through_rps: f64,
    direct_p50: f64,
    through_p50: f64,
    direct_p99: f64,
    through_p99: f64,
    bench_us_direct: f64,
    bench_us_through: f64,
    /// The load generator's and the upstream's CPU per request, direct and through.
    split_direct: (f64, f64),
    split_through: (f64, f64),
    gateway_us: f64,
    /// Steal per CPU during the direct run, then during the run through the gateway.
    steal: String,
}

impl Round {
    fn ratio(&self) -> f64 {
        self.through_rps / self.direct_rps
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
