//! One table for the paths users take: runs each benchmark of `docs/PERFORMANCE.md` that has
//! a target for them — image normalisation against Pillow, the barcode pass against the
//! previous pipeline, recognition through the one-process stack, the lists and reads next to
//! `GET /health` (one-process stack on SQLite, then the services apart on PostgreSQL), cold
//! start over TLS against plain — and prints the rows each printed (`table|…` lines) as one
//! Markdown table, with the date and the machine. Every figure sits next to its baseline from
//! the same run.
//!
//! ```text
//! cargo build --release -p stack -p gateway -p svc-drugs -p svc-chat -p svc-scheduler --bins --examples
//! ./target/release/examples/perf_table
//! ```
//!
//! The benchmarks' own output goes to stderr as they run. `BENCH_TABLE_ONLY` (comma-separated
//! benchmark names) runs some of them; the cold-start rows need the packages
//! (`deploy/package.sh`; `UNILIFE_DIST` for another checkout's) and are left out, with a
//! note, when `dist/fc` is not there. Each
//! benchmark's own options (`BENCH_SECONDS`, `TEST_DATABASE_URL`, `BENCH_PROFILE`…) pass
//! through.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The benchmarks in the table's order.
const BENCHMARKS: [&str; 5] = [
    "normalize_bench",
    "barcode_bench",
    "recognize_bench",
    "lists_bench",
    "coldstart",
];

fn main() {
    let only = std::env::var("BENCH_TABLE_ONLY").unwrap_or_default();
    for name in only.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        assert!(
            BENCHMARKS.contains(&name),
            "BENCH_TABLE_ONLY: no benchmark {name:?} (one of {BENCHMARKS:?})"
        );
    }
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for name in BENCHMARKS {
        if !only.is_empty() && !only.split(',').any(|o| o.trim() == name) {
            continue;
        }
        let dist = std::env::var_os("UNILIFE_DIST")
            .map_or_else(|| common::root().join("dist"), std::path::PathBuf::from);
        if name == "coldstart" && !dist.join("fc").is_dir() {
            notes.push("cold start not measured: run `deploy/package.sh` first".to_owned());
            continue;
        }
        let bin = common::binary(&format!("examples/{name}"));
        eprintln!("== {name} ({})", bin.display());
        let mut child = match Command::new(&bin).stdout(Stdio::piped()).spawn() {
            Ok(child) => child,
            Err(e) => {
                notes.push(format!(
                    "{name} not run: {}: {e} (build the examples first)",
                    bin.display()
                ));
                continue;
            }
        };
        let out = BufReader::new(child.stdout.take().unwrap());
        for line in out.lines() {
            let line = line.unwrap();
            match line.strip_prefix("table|") {
                Some(row) => rows.push(row.split('|').map(str::to_owned).collect::<Vec<_>>()),
                None => eprintln!("{line}"),
            }
        }
        let status = child.wait().unwrap();
        if !status.success() {
            notes.push(format!("{name} failed: {status} (its rows may be missing)"));
        }
    }

    println!("\n{}, {}\n", today(), machine());
    println!("| path | ours | baseline, same run | target | met |");
    println!("|---|---|---|---|---|");
    for row in &rows {
        println!("| {} |", row.join(" | "));
    }
    for note in notes {
        println!("\n{note}");
    }
}

/// The time of the run, UTC, to the minute.
fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// CPUs, their model and the memory, from `/proc`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU", str::trim);
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cpus} CPUs ({model}), {mem_gib:.0} GiB")
}
