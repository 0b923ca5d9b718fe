//! Where a 1-D barcode may be in a photo, and at what angle, found cheaply enough that a photo
//! without one costs a few milliseconds.
//!
//! The image is cut into square cells; each cell's local gradients give its structure tensor
//! (sums of gx², gy², gx·gy over the cell). A barcode's cells have strong gradients that all
//! point one way (across the bars): high energy *and* high coherence, where printed text,
//! photos and backgrounds have one without the other. Neighbouring such cells whose angles
//! agree form a region; each region's angle comes from its summed tensor, so a code at any
//! rotation is read along its own direction ([`Region::lines`]), not only along rows and
//! columns. Regions are ranked by their summed, coherent energy.

use image::GrayImage;

/// A place that looks like a 1-D barcode: its centre, the unit vector across its bars
/// (`ux`, `uy`), and its half extents across and along the bars, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    pub cx: f32,
    pub cy: f32,
    pub ux: f32,
    pub uy: f32,
    pub half_across: f32,
    pub half_along: f32,
    score: f32,
}

/// Mean squared gradient per pixel below which a cell is flat (paper, background).
const MIN_ENERGY: f32 = 60.0;
/// Coherence (0: gradients every way, 1: all one way) above which a cell looks like bars.
const MIN_COHERENCE: f32 = 0.55;
/// Largest angle between neighbouring cells of one region (radians, about 17°).
const MAX_TURN: f32 = 0.3;
/// Fewest cells for a region.
const MIN_CELLS: usize = 3;
/// Most regions returned (the best first).
pub const MAX_REGIONS: usize = 6;

#[derive(Clone, Copy, Default)]
struct Cell {
    xx: f32,
    yy: f32,
    xy: f32,
    angle: f32,
    bar_like: bool,
}

/// Side of a cell in pixels: about 1/96 of the long edge, at least 8.
fn cell_size(grey: &GrayImage) -> usize {
    (grey.width().max(grey.height()) as usize / 96).max(8)
}

/// The regions that look like barcodes, best first.
pub fn regions(grey: &GrayImage) -> Vec<Region> {
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let size = cell_size(grey);
    let (cols, rows) = (w / size, h / size);
    if cols < 2 || rows < 2 {
        return Vec::new();
    }
    let cells = tensors(grey, size, cols, rows);
    let mut seen = vec![false; cells.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..cells.len() {
        if seen[start] || !cells[start].bar_like {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut members = Vec::new();
        while let Some(i) = stack.pop() {
            members.push(i);
            let (x, y) = (i % cols, i / cols);
            for (dx, dy) in [
                (-1i64, -1i64),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if nx < 0 || ny < 0 || nx >= cols as i64 || ny >= rows as i64 {
                    continue;
                }
                let j = ny as usize * cols + nx as usize;
                if !seen[j] && cells[j].bar_like && turn(cells[i].angle, cells[j].angle) < MAX_TURN
                {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        if members.len() >= MIN_CELLS {
            out.push(region(&cells, &members, cols, size));
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(MAX_REGIONS);
    out
}

/// The angle between two orientations (defined modulo π).
fn turn(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(std::f32::consts::PI);
    d.min(std::f32::consts::PI - d)
}

/// Each cell's structure tensor from central differences, summed row by row.
fn tensors(grey: &GrayImage, size: usize, cols: usize, rows: usize) -> Vec<Cell> {
    let w = grey.width() as usize;
    let px = grey.as_raw();
    let mut cells = vec![Cell::default(); cols * rows];
    for y in 1..(rows * size).min(grey.height() as usize - 1) {
        let (above, here, below) = (
            &px[(y - 1) * w..y * w],
            &px[y * w..(y + 1) * w],
            &px[(y + 1) * w..(y + 2) * w],
        );
        let row = &mut cells[(y / size) * cols..(y / size + 1) * cols];
        for (cx, cell) in row.iter_mut().enumerate() {
            let (x0, x1) = ((cx * size).max(1), ((cx + 1) * size).min(w - 1));
            let (mut xx, mut yy, mut xy) = (0i32, 0i32, 0i32);
            for x in x0..x1 {
                let gx = i32::from(here[x + 1]) - i32::from(here[x - 1]);
                let gy = i32::from(below[x]) - i32::from(above[x]);
                xx += gx * gx;
                yy += gy * gy;
                xy += gx * gy;
            }
            cell.xx += xx as f32;
            cell.yy += yy as f32;
            cell.xy += xy as f32;
        }
    }
    // Each cell is judged by its 3×3 neighbourhood (the structure tensor's integration
    // window): a wide space inside a code has no gradient of its own but is among bars.
    let area = (size * size) as f32;
    let mut judged = cells.clone();
    for y in 0..rows {
        for x in 0..cols {
            let (mut xx, mut yy, mut xy, mut n) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
            for ny in y.saturating_sub(1)..(y + 2).min(rows) {
                for nx in x.saturating_sub(1)..(x + 2).min(cols) {
                    let c = &cells[ny * cols + nx];
                    (xx, yy, xy, n) = (xx + c.xx, yy + c.yy, xy + c.xy, n + 1.0);
                }
            }
            let energy = xx + yy;
            let spread = ((xx - yy).powi(2) + 4.0 * xy * xy).sqrt();
            let cell = &mut judged[y * cols + x];
            cell.angle = 0.5 * (2.0 * xy).atan2(xx - yy);
            cell.bar_like = energy / (n * area) >= MIN_ENERGY && spread >= MIN_COHERENCE * energy;
        }
    }
    judged
}

fn region(cells: &[Cell], members: &[usize], cols: usize, size: usize) -> Region {
    let (mut xx, mut yy, mut xy) = (0.0f32, 0.0f32, 0.0f32);
    let (mut sx, mut sy) = (0.0f32, 0.0f32);
    for &i in members {
        let c = &cells[i];
        xx += c.xx;
        yy += c.yy;
        xy += c.xy;
        sx += ((i % cols) * size) as f32 + size as f32 / 2.0;
        sy += ((i / cols) * size) as f32 + size as f32 / 2.0;
    }
    let n = members.len() as f32;
    let (cx, cy) = (sx / n, sy / n);
    let angle = 0.5 * (2.0 * xy).atan2(xx - yy);
    let (ux, uy) = (angle.cos(), angle.sin());
    let (mut across, mut along) = (0.0f32, 0.0f32);
    for &i in members {
        let dx = ((i % cols) * size) as f32 + size as f32 / 2.0 - cx;
        let dy = ((i / cols) * size) as f32 + size as f32 / 2.0 - cy;
        across = across.max((dx * ux + dy * uy).abs());
        along = along.max((-dx * uy + dy * ux).abs());
    }
    let energy = xx + yy;
    let spread = ((xx - yy).powi(2) + 4.0 * xy * xy).sqrt();
    Region {
        cx,
        cy,
        ux,
        uy,
        half_across: across + size as f32 / 2.0,
        half_along: along + size as f32 / 2.0,
        score: spread.min(energy),
    }
}

/// The grey value at a point between pixels (bilinear), the image's edge continued outside it.
fn sample(grey: &GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let x = x.clamp(0.0, (w - 1) as f32 - 0.001);
    let y = y.clamp(0.0, (h - 1) as f32 - 0.001);
    let (x0, y0) = (x as usize, y as usize);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let px = grey.as_raw();
    let at = |x: usize, y: usize| f32::from(px[y * w + x]);
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

impl Region {
    /// Scanlines across the bars, one pixel a sample, each the mean of `thick` samples spaced
    /// a pixel apart along the bars (which run that way, so averaging keeps their edges). The
    /// lines reach `margin` times the region's width past each side, for the quiet zones (the
    /// image's edge continued past it). `count` lines spread over the middle of the bars'
    /// length; all have the same length.
    pub fn lines(
        &self,
        grey: &GrayImage,
        count: usize,
        thick: usize,
        margin: f32,
    ) -> Vec<Vec<f32>> {
        let reach = self.half_across * (1.0 + margin) + 8.0;
        let spread = self.half_along * 0.8;
        let (vx, vy) = (-self.uy, self.ux);
        let mut out = Vec::with_capacity(count);
        for k in 0..count {
            let s = if count == 1 {
                0.0
            } else {
                -spread + 2.0 * spread * k as f32 / (count - 1) as f32
            };
            let steps = 2 * reach as usize + 1;
            let line = (0..steps)
                .map(|i| {
                    let t = i as f32 - reach;
                    let sum: f32 = (0..thick)
                        .map(|j| {
                            let o = s + j as f32 - (thick as f32 - 1.0) / 2.0;
                            sample(
                                grey,
                                self.cx + t * self.ux + o * vx,
                                self.cy + t * self.uy + o * vy,
                            )
                        })
                        .sum();
                    sum / thick as f32
                })
                .collect();
            out.push(line);
        }
        out
    }
}
