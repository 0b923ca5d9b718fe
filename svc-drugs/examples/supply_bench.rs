//! Time the run-out walk per plan over the two-year horizon (target ≤ 1 ms a plan), for
//! every plan shape: four times a day, weekdays, every third day, a five-phase taper, and an
//! as-needed plan by its average. Each stock is large enough that the walk goes the whole
//! horizon (the worst case). The baseline from the same run: the same answer found by
//! expanding every dose instant over two years with `Plan::occurrences` (what the dose list
//! uses) and counting them off.
//!
//! ```text
//! cargo run --release -p svc-drugs --example supply_bench
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use svc_drugs::domain::schedule::{Phase, Plan, parse_time};
use svc_drugs::domain::supply::{HORIZON_DAYS, run_out, run_out_by_average};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn plan(times: &[&str]) -> Plan {
    Plan {
        times: times.iter().map(|t| parse_time(t).unwrap()).collect(),
        days_of_week: None,
        every_n_days: None,
        start_date: Utc::now().date_naive(),
        end_date: None,
        timezone: chrono_tz::America::New_York,
        dose_amount: 1.0,
        phases: None,
    }
}

fn main() {
    let now = Utc::now();
    let mut shapes: Vec<(&str, Plan)> = Vec::new();
    shapes.push(("4 times a day", plan(&["08:00", "12:00", "18:00", "22:00"])));
    let mut weekdays = plan(&["08:00", "20:00"]);
    weekdays.days_of_week = Some(vec![1, 3, 5]);
    shapes.push(("Mon/Wed/Fri twice", weekdays));
    let mut every = plan(&["09:00"]);
    every.every_n_days = Some(3);
    shapes.push(("every 3 days", every));
    let mut taper = plan(&["08:00", "20:00"]);
    taper.phases = Some(
        (0..5)
            .map(|i| Phase {
                days: 146,
                amount: 5.0 - f64::from(i),
            })
            .collect(),
    );
    shapes.push(("5-phase taper", taper));

    println!("| plan shape | run-out walk | expanding every dose (baseline) | ratio |");
    println!("|---|---|---|---|");
    let mut worst = Duration::ZERO;
    for (name, p) in &shapes {
        let stock = 1e9;
        let r = run_out(p, stock, now);
        assert!(r.runs_out_on.is_none());
        let mut walk = Vec::new();
        for _ in 0..500 {
            let t = Instant::now();
            std::hint::black_box(run_out(std::hint::black_box(p), stock, now));
            walk.push(t.elapsed());
        }
        let mut expand = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let doses = p.occurrences(now, now + Days::days(HORIZON_DAYS));
            let mut left = stock;
            let out = doses.iter().find(|o| {
                left -= o.amount;
                left < 0.0
            });
            std::hint::black_box(out);
            expand.push(t.elapsed());
        }
        let (walk, expand) = (median(walk), median(expand));
        worst = worst.max(walk);
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {:.0}× |",
            walk.as_secs_f64() * 1e6,
            expand.as_secs_f64() * 1e6,
            expand.as_secs_f64() / walk.as_secs_f64()
        );
    }
    let mut prn = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        std::hint::black_box(run_out_by_average(30.0, 14.0, 14, now.date_naive()));
        prn.push(t.elapsed());
    }
    println!(
        "| as needed, by its average | {:.2} µs | — | — |",
        median(prn).as_secs_f64() * 1e6
    );
    println!(
        "worst plan: {:.1} µs against the 1,000 µs target ({:.0}× under)",
        worst.as_secs_f64() * 1e6,
        1e-3 / worst.as_secs_f64()
    );
}
