//! A scanline EAN-13 reader for small, soft barcodes in phone photos.
//!
//! General-purpose readers binarise whole pixels, so a barcode whose narrowest bar is 3–4
//! pixels wide and blurred by the lens loses its thin spaces. Here every scanline is
//! thresholded against its local minimum and maximum and the edges are placed with sub-pixel
//! precision by interpolation; digits are matched against the EAN tables by normalised run widths, the check digit is
//! verified, and a code must be read on several scanlines and fit the tables best to count.
//! The scanlines come from [`super::locate`]: across the bars of each place that looks like a
//! barcode, at its own angle.

use std::collections::HashMap;

/// Widths (space, bar, space, bar) of the left-hand odd-parity ("L") codes; right-hand codes
/// have the same widths starting with a bar, and even-parity ("G") codes are these reversed.
const L_CODES: [[u8; 4]; 10] = [
    [3, 2, 1, 1],
    [2, 2, 2, 1],
    [2, 1, 2, 2],
    [1, 4, 1, 1],
    [1, 1, 3, 2],
    [1, 2, 3, 1],
    [1, 1, 1, 4],
    [1, 3, 1, 2],
    [1, 2, 1, 3],
    [3, 1, 1, 2],
];

/// Parity of the six left-hand digits (bit set = G) for each implied first digit.
const FIRST_DIGIT_PARITY: [u8; 10] = [
    0b000000, 0b001011, 0b001101, 0b001110, 0b010011, 0b011001, 0b011100, 0b010101, 0b010110,
    0b011010,
];

const RUNS: usize = 3 + 24 + 5 + 24 + 3;
const MIN_CONTRAST: f32 = 6.0;
const MIN_VOTES: u32 = 3;

/// Codes read on scanlines so far, each with how many lines read it and its summed cost.
#[derive(Debug, Default)]
pub struct Votes(HashMap<String, (u32, f32)>);

impl Votes {
    /// Read one scanline (grey values, one a pixel), both ways.
    pub fn read(&mut self, line: &[f32]) {
        for (code, cost) in scan_line(line) {
            let e = self.0.entry(code).or_insert((0, 0.0));
            e.0 += 1;
            e.1 += cost;
        }
    }

    /// The code the lines agree on, or `None`.
    ///
    /// Misread scanlines give checksum-valid codes now and then, and a soft barcode read
    /// backwards can give the same wrong code on many lines; but the true code is read on
    /// many lines *and* fits the EAN tables best. So: among the codes read on at least half
    /// as many lines as the most-read one (and on `MIN_VOTES` at least), the one whose reads
    /// cost least on average.
    pub fn winner(&self) -> Option<String> {
        let most = self.0.values().map(|v| v.0).max().unwrap_or(0);
        let mut best: Option<(&String, f32)> = None;
        for (code, &(n, cost)) in &self.0 {
            if n < MIN_VOTES || 2 * n < most {
                continue;
            }
            let mean = cost / n as f32;
            if best.is_none_or(|(b, c)| mean < c || (mean == c && code < b)) {
                best = Some((code, mean));
            }
        }
        best.map(|(code, _)| code.clone())
    }
}

/// Codes read on one scanline, in both directions.
fn scan_line(line: &[f32]) -> Vec<(String, f32)> {
    let mut found = Vec::new();
    let runs = runs(line);
    found.extend(decode_runs(&runs));
    let reversed: Vec<Run> = runs.iter().rev().copied().collect();
    found.extend(decode_runs(&reversed));
    found
}

#[derive(Debug, Clone, Copy)]
struct Run {
    dark: bool,
    width: f32,
}

/// Runs of dark and light with sub-pixel widths. The line (already the mean of a few
/// neighbouring scanlines) is walked for
/// alternating local extremes (a bar's darkest point, a space's lightest) that differ by at
/// least `MIN_CONTRAST`; each edge lies where the signal crosses the middle of its two
/// neighbouring extremes. So a thin, blurred bar that never gets as dark as a thick one still
/// counts, which a single threshold would miss.
fn runs(line: &[f32]) -> Vec<Run> {
    let n = line.len();
    if n < 3 {
        return Vec::new();
    }

    // Alternating extremes with hysteresis: (index, value, is_minimum).
    let mut extremes: Vec<(usize, f32, bool)> = Vec::new();
    let (mut cand_idx, mut cand_val) = (0usize, line[0]);
    let mut looking_for_min: Option<bool> = None;
    for (i, &v) in line.iter().enumerate().skip(1) {
        match looking_for_min {
            None => {
                if v <= cand_val - MIN_CONTRAST {
                    extremes.push((cand_idx, cand_val, false));
                    looking_for_min = Some(true);
                    (cand_idx, cand_val) = (i, v);
                } else if v >= cand_val + MIN_CONTRAST {
                    extremes.push((cand_idx, cand_val, true));
                    looking_for_min = Some(false);
                    (cand_idx, cand_val) = (i, v);
                } else if (v - line[0]).abs() < f32::EPSILON {
                    continue;
                }
            }
            Some(true) => {
                if v < cand_val {
                    (cand_idx, cand_val) = (i, v);
                } else if v >= cand_val + MIN_CONTRAST {
                    extremes.push((cand_idx, cand_val, true));
                    looking_for_min = Some(false);
                    (cand_idx, cand_val) = (i, v);
                }
            }
            Some(false) => {
                if v > cand_val {
                    (cand_idx, cand_val) = (i, v);
                } else if v <= cand_val - MIN_CONTRAST {
                    extremes.push((cand_idx, cand_val, false));
                    looking_for_min = Some(true);
                    (cand_idx, cand_val) = (i, v);
                }
            }
        }
    }
    if let Some(min) = looking_for_min {
        extremes.push((cand_idx, cand_val, min));
    }
    if extremes.len() < 2 {
        return vec![Run {
            dark: false,
            width: n as f32,
        }];
    }
    let mut out = Vec::with_capacity(extremes.len() + 1);
    let mut start = 0.0f32;
    for pair in extremes.windows(2) {
        let ((a_idx, a_val, a_min), (b_idx, b_val, _)) = (pair[0], pair[1]);
        let level = (a_val + b_val) / 2.0;
        let mut edge = (a_idx + b_idx) as f32 / 2.0;
        for i in a_idx..b_idx {
            let (x, y) = (line[i] - level, line[i + 1] - level);
            if x == 0.0 || (x < 0.0) != (y < 0.0) {
                let frac = if (x - y).abs() > f32::EPSILON {
                    x / (x - y)
                } else {
                    0.0
                };
                edge = i as f32 + frac.clamp(0.0, 1.0);
                break;
            }
        }
        out.push(Run {
            dark: a_min,
            width: edge - start,
        });
        start = edge;
    }
    if let Some(&(_, _, last_min)) = extremes.last() {
        out.push(Run {
            dark: last_min,
            width: n as f32 - start,
        });
    }
    out
}

fn decode_runs(runs: &[Run]) -> Vec<(String, f32)> {
    let mut found = Vec::new();
    if runs.len() < RUNS {
        return found;
    }
    for start in 0..=runs.len() - RUNS {
        if !runs[start].dark {
            continue;
        }
        let window = &runs[start..start + RUNS];
        let total: f32 = window.iter().map(|r| r.width).sum();
        let module = total / 95.0;
        if module < 0.8 {
            continue;
        }
        // A quiet zone of at least five modules before the start guard and after the end
        // guard (a window inside another kind of code, a Code 128 say, has bars there).
        if start > 0 && runs[start - 1].width < 5.0 * module {
            continue;
        }
        if runs
            .get(start + RUNS)
            .is_some_and(|r| r.width < 5.0 * module)
        {
            continue;
        }
        if let Some(code) = decode_window(window, module) {
            found.push(code);
        }
    }
    found
}

fn guard_ok(runs: &[Run], module: f32) -> bool {
    runs.iter()
        .all(|r| r.width > 0.3 * module && r.width < 2.0 * module)
}

fn decode_window(w: &[Run], module: f32) -> Option<(String, f32)> {
    if !guard_ok(&w[0..3], module) || !guard_ok(&w[27..32], module) || !guard_ok(&w[56..59], module)
    {
        return None;
    }
    // Cost of every (digit, parity) at every position, then the cheapest assignment whose
    // parity pattern names a first digit and whose check digit is right (a small dynamic
    // programme over (weighted sum mod 10, parity bits)).
    let mut costs = [[[f32::INFINITY; 2]; 10]; 12];
    for (pos, cost) in costs.iter_mut().enumerate() {
        let (start, left) = if pos < 6 {
            (3 + pos * 4, true)
        } else {
            (32 + (pos - 6) * 4, false)
        };
        digit_costs(&w[start..start + 4], left, cost);
    }
    const STATES: usize = 10 * 64;
    let mut best = vec![f32::INFINITY; STATES];
    let mut back: Vec<Vec<(usize, u8)>> = Vec::with_capacity(12);
    best[0] = 0.0;
    for (pos, cost) in costs.iter().enumerate() {
        // digits[pos + 1]; weights 3,1,3,... starting at digits[1].
        let weight = if pos % 2 == 0 { 3 } else { 1 };
        let mut next = vec![f32::INFINITY; STATES];
        let mut from = vec![(usize::MAX, 0u8); STATES];
        for (state, &so_far) in best.iter().enumerate() {
            if !so_far.is_finite() {
                continue;
            }
            let (sum, mask) = (state % 10, state / 10);
            for (digit, by_parity) in (0..10u8).zip(cost.iter()) {
                for (g, &c) in by_parity.iter().enumerate() {
                    if !c.is_finite() {
                        continue;
                    }
                    let new_mask = if pos < 6 { (mask << 1) | g } else { mask };
                    let new_sum = (sum + weight * usize::from(digit)) % 10;
                    let to = new_sum + 10 * new_mask;
                    if so_far + c < next[to] {
                        next[to] = so_far + c;
                        from[to] = (state, digit);
                    }
                }
            }
        }
        back.push(from);
        best = next;
    }
    let mut winner: Option<(f32, usize, u8)> = None;
    for (first, &parity) in FIRST_DIGIT_PARITY.iter().enumerate() {
        for sum in 0..10 {
            let state = sum + 10 * usize::from(parity);
            if (sum + first) % 10 == 0 && best[state] < winner.map_or(f32::INFINITY, |w| w.0) {
                winner = Some((best[state], state, first as u8));
            }
        }
    }
    let (total, mut state, first) = winner?;
    if total > 12.0 * MAX_DIGIT_COST {
        return None;
    }
    let mut digits = [0u8; 13];
    digits[0] = first;
    for pos in (0..12).rev() {
        let (prev, digit) = back[pos][state];
        if prev == usize::MAX {
            return None;
        }
        digits[pos + 1] = digit;
        state = prev;
    }
    Some((digits.iter().map(|d| char::from(b'0' + d)).collect(), total))
}

/// Average cost per digit above which a window is not a barcode.
const MAX_DIGIT_COST: f32 = 1.2;

/// How far four runs are from each digit's pattern, as L and G codes on the left and as R
/// codes on the right. Distances are measured between like edges (bar+space pairs), which
/// ink spread and blur leave unchanged, plus a little of the bars' total width to tell 1
/// from 7 and 2 from 8.
fn digit_costs(runs: &[Run], left: bool, out: &mut [[f32; 2]; 10]) {
    let sum: f32 = runs.iter().map(|r| r.width).sum();
    if sum <= 0.0 {
        return;
    }
    let n: Vec<f32> = runs.iter().map(|r| r.width * 7.0 / sum).collect();
    let bars: &[usize] = if left { &[1, 3] } else { &[0, 2] };
    let cost = |p: [u8; 4]| -> f32 {
        let p = p.map(f32::from);
        let pairs: f32 = (0..3)
            .map(|i| ((n[i] + n[i + 1]) - (p[i] + p[i + 1])).abs())
            .sum();
        let bm: f32 = bars.iter().map(|&i| n[i]).sum();
        let bp: f32 = bars.iter().map(|&i| p[i]).sum();
        pairs + 0.5 * (bm - bp).abs()
    };
    for (digit, code) in L_CODES.iter().enumerate() {
        out[digit][0] = cost(*code);
        if left {
            out[digit][1] = cost([code[3], code[2], code[1], code[0]]);
        }
    }
}
