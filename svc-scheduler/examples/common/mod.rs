//! What the scheduler's benchmarks share.

/// This process's resident memory, KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// A number from the environment, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `RSS idle …; peak per tenth of the run (MiB): …` from samples taken along the run.
pub fn rss_line(idle: u64, samples: &[u64]) -> String {
    let tenth = samples.len().div_ceil(10).max(1);
    let peaks: Vec<String> = samples
        .chunks(tenth)
        .map(|c| format!("{:.1}", *c.iter().max().unwrap_or(&0) as f64 / 1024.0))
        .collect();
    format!(
        "RSS idle {:.1} MiB; peak per tenth of the run (MiB): {}",
        idle as f64 / 1024.0,
        peaks.join(" ")
    )
}
