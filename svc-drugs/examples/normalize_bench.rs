//! Time the normalisation of `calcium-d3-front.jpg` (4000×3000, 3.2 MB): decode, orient,
//! strip, resize to a 1536 px long edge, encode. Prints the median of 20 runs, Pillow's
//! fastest form doing the same work in the same invocation (when `python3` with Pillow is
//! there), the bytes that would go to the model against the original product's untouched
//! base64 photo, and the peak RSS of 8 recognitions' image work (normalise + barcode scan)
//! at once.
//!
//! ```text
//! pip install pillow   # once, for the baseline
//! cargo run --release -p svc-drugs --example normalize_bench
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::time::Instant;

use svc_drugs::pipeline::barcode;
use svc_drugs::pipeline::normalize::{
    NormalizeLimits, decode_jpeg_scaled, encode_jpeg, normalize, normalize_with_grey, resize_rgb,
    target_size,
};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = dir.join("../../shared/fixtures/drug-photos/calcium-d3-front.jpg");
    let original = std::fs::read(&path).unwrap();
    let idle = rss_kib("VmRSS:");

    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..20 {
        let t = Instant::now();
        out = Some(normalize(&original, NormalizeLimits::default()).unwrap());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let out = out.unwrap();
    let ours = times[10];
    println!(
        "normalize calcium-d3-front.jpg -> {}x{}",
        out.width, out.height
    );
    println!(
        "ours: median {ours:.1} ms (min {:.1}, max {:.1}) over 20 runs",
        times[0], times[19]
    );

    let baseline = std::process::Command::new("python3")
        .arg(dir.join("benches/pillow_baseline.py"))
        .output();
    match baseline {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            print!("{text}");
            let pillow: Option<f64> = text
                .split("median ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|v| v.parse().ok());
            if let Some(p) = pillow {
                println!(
                    "ratio: ours / pillow = {:.2} ({:.1}x faster)",
                    ours / p,
                    p / ours
                );
                println!(
                    "table|image normalisation, 12 MP photo → 1536 px JPEG (median of 20)|{ours:.1} ms|Pillow `draft()` {p:.1} ms: {:.1}× as fast|≥ 3.5×|{}",
                    p / ours,
                    met(p / ours >= 3.5)
                );
            }
        }
        _ => println!("pillow baseline not run (python3 with Pillow not found)"),
    }

    stages(&original);

    let b64 = |n: usize| n.div_ceil(3) * 4;
    println!(
        "bytes to the model (base64): {} vs {} for the untouched photo = {:.1} %",
        b64(out.jpeg.len()),
        b64(original.len()),
        100.0 * b64(out.jpeg.len()) as f64 / b64(original.len()) as f64
    );

    // 8 recognitions' image work at once (normalise + barcode scan, the memory-heavy part),
    // first with the service's own bound on concurrent decodes (the CPU count, at least 2;
    // the other requests hold only their upload), then unbounded, the worst case.
    let bound = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .max(2);
    let run = |permits: usize| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(permits);
        let rx = std::sync::Mutex::new(rx);
        for _ in 0..permits {
            tx.send(()).unwrap();
        }
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let upload = original.clone();
                    rx.lock().unwrap().recv().unwrap();
                    let n = normalize_with_grey(&upload, NormalizeLimits::default()).unwrap();
                    let _ = barcode::detect(n.grey.as_ref().unwrap());
                    drop(n);
                    tx.send(()).unwrap();
                });
            }
        });
        rss_kib("VmHWM:")
    };
    let bounded = run(bound);
    println!(
        "peak RSS, 8 recognitions at once, {bound} decoding at a time (as the service runs them): {:.1} MiB (idle {:.1} MiB)",
        bounded as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    let unbounded = run(8);
    println!(
        "peak RSS, 8 decoding at once (no bound, worst case): {:.1} MiB",
        unbounded as f64 / 1024.0
    );
    println!(
        "table|peak RSS of 8 recognitions' image work at once|{:.1} MiB|{:.1} MiB with no bound on decodes|≤ 200 MiB|{}",
        bounded as f64 / 1024.0,
        unbounded as f64 / 1024.0,
        met(bounded <= 200 * 1024)
    );
}

/// Where the time goes, each stage alone (median of 11), each the function the normalisation
/// itself calls: the decode at the scale it uses (1/2 for this photo), the same decode at 1/8
/// — the entropy decoding alone, nearly: an 8×8 block is then its DC value, no inverse
/// transform, 1/64 of the pixels — the resize to 1536 px and the encode.
fn stages(original: &[u8]) {
    let limits = NormalizeLimits::default();
    let median = |f: &mut dyn FnMut()| {
        let mut times: Vec<f64> = (0..11)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[5]
    };
    let used = |w, h| target_size(w, h, limits.max_long_edge);
    let decode = |target: &dyn Fn(u32, u32) -> (u32, u32)| {
        decode_jpeg_scaled(original, limits, target)
            .unwrap()
            .unwrap()
    };
    let decoded = decode(&used);
    let (w, h) = (decoded.width, decoded.height);
    let target = decoded.target;
    let at_scale = median(&mut || drop(decode(&used)));
    let at_eighth = median(&mut || drop(decode(&|w, h| (w / 8, h / 8))));
    // The resize consumes its input, as the normalisation hands it over: each run gets a copy
    // made outside its timing.
    let mut times: Vec<f64> = (0..11)
        .map(|_| {
            let input = decoded.rgb.clone();
            let t = Instant::now();
            drop(resize_rgb(input, (w, h), target).unwrap());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let resize = times[5];
    let small = resize_rgb(decoded.rgb.clone(), (w, h), target).unwrap();
    let encode = median(&mut || drop(encode_jpeg(&small, limits.jpeg_quality).unwrap()));
    println!(
        "stages: decode at scale ({w}x{h}) {at_scale:.1} ms, of which entropy decoding ≈ the decode at 1/8: {at_eighth:.1} ms; resize {resize:.1} ms; encode {encode:.1} ms"
    );
}

/// `yes` or `no` for the last column of a `table|` line (read by `perf_table`).
fn met(yes: bool) -> &'static str {
    if yes { "yes" } else { "**no**" }
}
