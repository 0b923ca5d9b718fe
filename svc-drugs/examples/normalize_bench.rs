//! Time the normalisation of `calcium-d3-front.jpg` (4000×3000, 3.2 MB): decode, orient,
//! strip, resize to a 1536 px long edge, encode. Prints the median of 20 runs and the bytes
//! that would go to the model, against the original product's untouched base64 photo.
//!
//! ```text
//! cargo run --release -p svc-drugs --example normalize_bench
//! python3 svc-drugs/benches/pillow_baseline.py   # the same work in Pillow's fastest form
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::time::Instant;

use svc_drugs::pipeline::normalize::{NormalizeLimits, normalize};

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/drug-photos/calcium-d3-front.jpg");
    let original = std::fs::read(&path).unwrap();
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..20 {
        let t = Instant::now();
        out = Some(normalize(&original, NormalizeLimits::default()).unwrap());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let out = out.unwrap();
    let b64 = |n: usize| n.div_ceil(3) * 4;
    println!(
        "normalize calcium-d3-front.jpg -> {}x{}",
        out.width, out.height
    );
    println!(
        "median {:.1} ms (min {:.1}, max {:.1}) over 20 runs",
        times[10], times[0], times[19]
    );
    println!(
        "bytes to the model (base64): {} vs {} for the untouched photo = {:.1} %",
        b64(out.jpeg.len()),
        b64(original.len()),
        100.0 * b64(out.jpeg.len()) as f64 / b64(original.len()) as f64
    );
}
