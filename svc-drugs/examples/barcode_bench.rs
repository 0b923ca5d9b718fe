//! The barcode pass as a recognition runs it (on the normalised grey image), against the
//! previous pipeline in the same run: our EAN-13 reader, then ZXing (rxing) trying harder,
//! then ZXing again on the image upscaled 2× (`baseline` below).
//!
//! ```text
//! cargo run --release -p svc-drugs --example barcode_bench
//! ```
//!
//! Prints, for the three fixture photos (two without a barcode, one with a small EAN-13 turned
//! 90°): the median time of each pass, ours and the baseline; then the detection rate and the
//! time per photo on the public set under `svc-drugs/tests/fixtures/barcodes` (40 photos of
//! EAN-13, EAN-8, UPC-A and Code 128, with their licence), counting wrong reads apart; then the
//! whole image work of a recognition before the model is asked (normalise, perceptual hash,
//! barcode) on the 12 MP photo. Targets: ≤ 40 ms with no barcode, ≤ 60 ms for any pass,
//! ≤ 150 ms for the image work.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use image::GrayImage;
use image::imageops::{self, FilterType};
use rxing::{BarcodeFormat, DecodeHints, helpers};
use svc_drugs::pipeline::normalize::{NormalizeLimits, normalize_with_grey};
use svc_drugs::pipeline::{barcode, ean, phash};

/// The previous EAN-13 pass: every other row and column of the whole image, each the mean
/// of 8 neighbours.
fn rows_and_columns(grey: &GrayImage) -> Option<String> {
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let px = grey.as_raw();
    let mut votes = ean::Votes::default();
    for y in (0..h.saturating_sub(8)).step_by(2) {
        let line: Vec<f32> = (0..w)
            .map(|x| (0..8).map(|k| f32::from(px[(y + k) * w + x])).sum::<f32>() / 8.0)
            .collect();
        votes.read(&line);
    }
    for x in (0..w.saturating_sub(8)).step_by(2) {
        let line: Vec<f32> = (0..h)
            .map(|y| {
                px[y * w + x..y * w + x + 8]
                    .iter()
                    .map(|&v| f32::from(v))
                    .sum::<f32>()
                    / 8.0
            })
            .collect();
        votes.read(&line);
    }
    votes.winner()
}

/// The previous pipeline, kept here as the baseline.
fn baseline(grey: &GrayImage) -> Option<(String, String)> {
    if let Some(text) = rows_and_columns(grey) {
        return Some(("ean_13".into(), text));
    }
    let zxing = |g: &GrayImage| {
        let mut hints = DecodeHints {
            PossibleFormats: Some(HashSet::from([
                BarcodeFormat::EAN_13,
                BarcodeFormat::EAN_8,
                BarcodeFormat::UPC_A,
                BarcodeFormat::CODE_128,
                BarcodeFormat::DATA_MATRIX,
                BarcodeFormat::QR_CODE,
            ])),
            TryHarder: Some(true),
            ..DecodeHints::default()
        };
        helpers::detect_in_luma_slice_with_hints(
            g.as_raw(),
            g.width(),
            g.height(),
            None,
            &mut hints,
        )
        .ok()
        .map(|r| {
            (
                format!("{:?}", r.getBarcodeFormat()).to_lowercase(),
                r.getText().to_owned(),
            )
        })
    };
    if let Some(found) = zxing(grey) {
        return Some(found);
    }
    if grey.width().max(grey.height()) > 2048 {
        return None;
    }
    let up = imageops::resize(
        grey,
        grey.width() * 2,
        grey.height() * 2,
        FilterType::Triangle,
    );
    zxing(&up)
}

fn ours(grey: &GrayImage) -> Option<(String, String)> {
    barcode::detect(grey).map(|b| (b.format, b.text))
}

/// Median milliseconds of `runs` calls, and the last answer.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        out = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[runs / 2], out.unwrap())
}

fn grey_of(bytes: &[u8]) -> GrayImage {
    normalize_with_grey(bytes, NormalizeLimits::default())
        .unwrap()
        .grey
        .unwrap()
}

/// A read is right when it is the label (a UPC-A may come back as its 13-digit GTIN).
fn right(read: &str, label: &str) -> bool {
    read == label || read.strip_prefix('0') == Some(label)
}

#[derive(Default)]
struct Tally {
    right: usize,
    wrong: usize,
    total: usize,
    ms: Vec<f64>,
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let verbose = std::env::var_os("BENCH_VERBOSE").is_some();
    let photos = dir.join("../../shared/fixtures/drug-photos");
    println!("barcode pass on the normalised fixture photos (median of 9 / 5 runs)");
    println!(
        "{:<30} {:>12} {:>12}  found",
        "photo", "ours ms", "baseline ms"
    );
    for name in [
        "calcium-d3-front.jpg",
        "cotton-swab-front.jpg",
        "cotton-swab-side-barcode.jpg",
    ] {
        let grey = grey_of(&std::fs::read(photos.join(name)).unwrap());
        let (ms, found) = time(9, || ours(&grey));
        let (base_ms, base_found) = time(5, || baseline(&grey));
        println!("{name:<30} {ms:>12.1} {base_ms:>12.1}  {found:?} / baseline {base_found:?}");
        // Of the three, only the side photo has a barcode (its EAN-13 must be found).
        let has_barcode = name == "cotton-swab-side-barcode.jpg";
        let limit = if has_barcode { 60.0 } else { 40.0 };
        let read = found
            .as_ref()
            .map_or_else(|| "none read".to_owned(), |(f, t)| format!("read {f} {t}"));
        println!(
            "table|barcode pass, `{name}` ({}; {read})|{ms:.1} ms|previous pipeline {base_ms:.1} ms|≤ {limit:.0} ms, {}|{}",
            if has_barcode {
                "has a barcode"
            } else {
                "no barcode"
            },
            if has_barcode { "found" } else { "none read" },
            met(ms <= limit && found.is_some() == has_barcode)
        );
    }

    let set = dir.join("tests/fixtures/barcodes");
    let labels: serde_json::Value =
        serde_json::from_slice(&std::fs::read(set.join("labels.json")).unwrap()).unwrap();
    println!(
        "\npublic set ({}): right / wrong / photos, median and max ms per photo",
        set.display()
    );
    let (mut all_ours, mut all_base) = (Tally::default(), Tally::default());
    for (format, files) in labels
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "about")
    {
        let (mut o, mut b) = (Tally::default(), Tally::default());
        for (file, label) in files.as_object().unwrap() {
            let label = label.as_str().or_else(|| label["text"].as_str()).unwrap();
            let grey = grey_of(&std::fs::read(set.join(file)).unwrap());
            for (who, tally, f) in [
                ("ours", &mut o, ours as fn(&GrayImage) -> _),
                ("baseline", &mut b, baseline),
            ] {
                let (ms, found) = time(3, || f(&grey));
                tally.total += 1;
                tally.ms.push(ms);
                match &found {
                    Some((_, text)) if right(text, label) => tally.right += 1,
                    Some(_) => tally.wrong += 1,
                    None => {}
                }
                if verbose && !found.as_ref().is_some_and(|(_, t)| right(t, label)) {
                    println!("  {who}: {file}: {label} read as {found:?}");
                }
            }
        }
        for (who, t) in [("ours", &mut o), ("baseline", &mut b)] {
            t.ms.sort_by(f64::total_cmp);
            println!(
                "{format:<9} {who:<9} {:>2} / {} / {}   median {:.1} ms, max {:.1} ms",
                t.right,
                t.wrong,
                t.total,
                t.ms[t.ms.len() / 2],
                t.ms[t.ms.len() - 1]
            );
        }
        for (all, t) in [(&mut all_ours, o), (&mut all_base, b)] {
            all.right += t.right;
            all.wrong += t.wrong;
            all.total += t.total;
            all.ms.extend(t.ms);
        }
    }
    for (who, t) in [("ours", &mut all_ours), ("baseline", &mut all_base)] {
        t.ms.sort_by(f64::total_cmp);
        println!(
            "all       {who:<9} {:>2} / {} / {} ({:.0} %)   median {:.1} ms, max {:.1} ms",
            t.right,
            t.wrong,
            t.total,
            100.0 * t.right as f64 / t.total as f64,
            t.ms[t.ms.len() / 2],
            t.ms[t.ms.len() - 1]
        );
    }
    let summary = |t: &Tally| {
        format!(
            "{} right, {} wrong; median {:.1} ms, max {:.1} ms",
            t.right,
            t.wrong,
            t.ms[t.ms.len() / 2],
            t.ms[t.ms.len() - 1]
        )
    };
    println!(
        "table|barcodes found in the public set ({} photos)|{}|previous pipeline {}|reported; ≤ 60 ms|{}",
        all_ours.total,
        summary(&all_ours),
        summary(&all_base),
        met(all_ours.ms[all_ours.ms.len() - 1] <= 60.0)
    );

    let calcium = std::fs::read(photos.join("calcium-d3-front.jpg")).unwrap();
    let image_work = |scan: fn(&GrayImage) -> Option<(String, String)>| {
        let mut n = normalize_with_grey(&calcium, NormalizeLimits::default()).unwrap();
        let grey = n.grey.take().unwrap();
        (phash::of_grey(&grey), scan(&grey), n.jpeg.len())
    };
    let (ms, _) = time(9, || image_work(ours));
    let (base_ms, _) = time(5, || image_work(baseline));
    println!(
        "\nimage work of a recognition, calcium-d3-front.jpg (4000x3000): ours {ms:.1} ms, baseline {base_ms:.1} ms (target ≤ 150 ms)"
    );
    println!(
        "table|image work of a recognition, 12 MP photo (normalise + hash + barcode)|{ms:.1} ms|previous pipeline {base_ms:.1} ms|≤ 150 ms|{}",
        met(ms <= 150.0)
    );
}

/// `yes` or `no` for the last column of a `table|` line (read by `perf_table`).
fn met(yes: bool) -> &'static str {
    if yes { "yes" } else { "**no**" }
}
