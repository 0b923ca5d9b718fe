//! A closed-loop HTTP load for the benchmarks: `connections` clients each send the next GET as
//! soon as the last answer is read, for a while, recording every latency. Each request carries
//! the bearer token (the gateway checks it; a service reached directly ignores it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a load run measured.
pub struct Run {
    pub requests: usize,
    pub elapsed: Duration,
    /// Every request's latency in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Run {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at `p` (0–1), in milliseconds.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let idx = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[idx]) / 1000.0
    }
}

/// A GET of `url` with the bearer token.
pub fn get(client: &reqwest::Client, url: &str, token: &str) -> reqwest::RequestBuilder {
    client.get(url).bearer_auth(token)
}

/// A client with `connections` connections open to `url` (each answered 2xx once).
///
/// # Panics
/// When a request fails or is not answered 2xx: a benchmark fails loudly.
pub async fn warm_client(url: &str, token: &str, connections: u64) -> reqwest::Client {
    warm_client_with(
        url,
        token,
        connections,
        reqwest::header::HeaderMap::new(),
        success,
    )
    .await
}

/// The answer a benchmark expects unless it says otherwise: any 2xx.
pub fn success(status: reqwest::StatusCode) -> bool {
    status.is_success()
}

/// [`warm_client`] whose requests all carry `headers` too (`X-Person-Id`, say), each answer
/// checked by `expected`.
///
/// # Panics
/// When a request fails or its answer is not `expected`.
pub async fn warm_client_with(
    url: &str,
    token: &str,
    connections: u64,
    headers: reqwest::header::HeaderMap,
    expected: fn(reqwest::StatusCode) -> bool,
) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(usize::try_from(connections).unwrap_or(usize::MAX))
        .tcp_nodelay(true)
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    let warm: Vec<_> = (0..connections)
        .map(|_| get(&client, url, token).send())
        .collect();
    for res in futures_util::future::join_all(warm).await {
        let res = res.unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(expected(res.status()), "{url}: {}", res.status());
    }
    client
}

/// `connections` clients in a closed loop on `url` for `seconds`.
///
/// # Panics
/// When a request fails or is not answered 2xx.
pub async fn closed_loop(url: String, token: String, connections: u64, seconds: u64) -> Run {
    closed_loop_with(
        url,
        token,
        reqwest::header::HeaderMap::new(),
        success,
        connections,
        seconds,
    )
    .await
}

/// [`closed_loop`] with `headers` on every request, each answer checked by `expected`.
///
/// # Panics
/// When a request fails or its answer is not `expected`.
pub async fn closed_loop_with(
    url: String,
    token: String,
    headers: reqwest::header::HeaderMap,
    expected: fn(reqwest::StatusCode) -> bool,
    connections: u64,
    seconds: u64,
) -> Run {
    let client = warm_client_with(&url, &token, connections, headers, expected).await;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, token, stop) =
                (client.clone(), url.clone(), token.clone(), stop.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(100_000);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let res = get(&client, &url, &token)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("{url}: {e}"));
                    assert!(expected(res.status()), "{url}: {}", res.status());
                    let _ = res.bytes().await;
                    latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for t in tasks {
        // A client that panicked (a wrong answer mid-run) fails the benchmark, as it says.
        match t.await {
            Ok(latencies) => latencies_us.extend(latencies),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("load task: {e}"),
        }
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Run {
        requests: latencies_us.len(),
        elapsed,
        latencies_us,
    }
}
