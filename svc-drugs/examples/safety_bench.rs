//! Time the safety check of a 40-item cabinet (target ≤ 1 ms): every name matched to its
//! ingredients, every pair of drugs looked up, duplicates found. The 40 names are the first
//! distinct product names of the labelled pairs (`tests/data/interaction_pairs.csv`), so the
//! cabinet is full of interactions. Prints the median of 2,000 checks, the target, and as
//! baseline from the same run the check with the table parsed and indexed again each time
//! (what a request would pay without the index kept in memory).
//!
//! ```text
//! cargo run --release -p svc-drugs --example safety_bench
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::time::{Duration, Instant};

use svc_drugs::safety::{Item, Table, check};
use uuid::Uuid;

const PAIRS: &str = include_str!("../tests/data/interaction_pairs.csv");
const TABLE: &str = include_str!("../data/interactions.toml");

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut names: Vec<&str> = Vec::new();
    for line in PAIRS.lines().filter(|l| !l.starts_with('#')).skip(1) {
        for name in line.split(',').take(2) {
            if !names.contains(&name) && names.len() < 40 {
                names.push(name);
            }
        }
    }
    let items: Vec<Item<'_>> = names
        .iter()
        .map(|name| Item {
            id: Uuid::new_v4(),
            name,
            generic_name: None,
            brand: None,
            dosage_form: None,
        })
        .collect();
    let table = Table::get().unwrap();
    let report = check(table, &items);

    let mut warm = Vec::new();
    for _ in 0..2_000 {
        let t = Instant::now();
        std::hint::black_box(check(table, std::hint::black_box(&items)));
        warm.push(t.elapsed());
    }
    let mut cold = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let fresh = Table::parse(TABLE).unwrap();
        std::hint::black_box(check(&fresh, &items));
        cold.push(t.elapsed());
    }
    let (warm, cold) = (median(warm), median(cold));
    println!(
        "cabinet of {} drugs: {} interactions, {} duplicate ingredients, {} not in the table",
        items.len(),
        report.interactions.len(),
        report.duplicates.len(),
        report
            .drugs
            .iter()
            .filter(|d| d.status == svc_drugs::safety::DrugStatus::NotInTable)
            .count()
    );
    println!(
        "| interaction + duplicate check, 40-item cabinet | {:.1} µs | target 1,000 µs ({:.0}× under) | table parsed per check: {:.1} µs ({:.0}× slower) |",
        warm.as_secs_f64() * 1e6,
        1e-3 / warm.as_secs_f64(),
        cold.as_secs_f64() * 1e6,
        cold.as_secs_f64() / warm.as_secs_f64()
    );
}
