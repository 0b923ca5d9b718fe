//! Barcode reading on a grey image: EAN-13 (and EAN-8/UPC-A), Code 128, DataMatrix and QR.
//! A UPC-A is answered as its GTIN-13 (`ean_13`, a leading 0), whichever reader found it.
//!
//! Phone photos of boxes often show the barcode small and turned. [`super::locate`] finds the
//! places that look like 1-D barcodes and their angle in a few milliseconds; each is read
//! along its own direction, first by our sub-pixel EAN-13 reader ([`super::ean`], the code on
//! nearly every box sold in China, which reads the small soft codes general readers miss),
//! then by rxing (ZXing) on the place straightened out (EAN-8, UPC-A, Code 128). 2-D codes
//! (QR, DataMatrix) are found by rxing's own detectors, which do not care about rotation, in
//! one pass over the image. Nothing is upscaled and no reader "tries harder" over the whole
//! photo, so a photo without a barcode costs little (`examples/barcode_bench.rs`).

use std::collections::HashSet;

use image::GrayImage;
use rxing::{BarcodeFormat, DecodeHints, helpers};

use super::{ean, locate};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Barcode {
    /// `ean_13` (UPC-A included), `ean_8`, `code_128`, `data_matrix`, `qr_code`.
    pub format: String,
    pub text: String,
}

/// How far past each side of a place the scanlines reach, as a share of its half width: the
/// quiet zones (EAN: 11 modules of 95 on each side, about 23 % of the half width).
const MARGIN: f32 = 0.35;
/// Samples averaged along the bars for each point of a scanline.
const THICK: usize = 5;

fn format_name(format: BarcodeFormat) -> &'static str {
    match format {
        BarcodeFormat::EAN_13 => "ean_13",
        BarcodeFormat::EAN_8 => "ean_8",
        BarcodeFormat::CODE_128 => "code_128",
        BarcodeFormat::DATA_MATRIX => "data_matrix",
        BarcodeFormat::QR_CODE => "qr_code",
        _ => "other",
    }
}

fn zxing(grey: &GrayImage, formats: &[BarcodeFormat]) -> Option<Barcode> {
    let mut hints = DecodeHints {
        PossibleFormats: Some(formats.iter().copied().collect::<HashSet<_>>()),
        ..DecodeHints::default()
    };
    let result = helpers::detect_in_luma_slice_with_hints(
        grey.as_raw(),
        grey.width(),
        grey.height(),
        None,
        &mut hints,
    )
    .ok()?;
    let text = result.getText().trim().to_owned();
    if text.is_empty() {
        return None;
    }
    let format = *result.getBarcodeFormat();
    // A UPC-A is the GTIN-13 with a leading 0, as our EAN-13 reader reads it: one code, one
    // answer, whichever reader found it.
    if format == BarcodeFormat::UPC_A && text.len() == 12 {
        return Some(Barcode {
            format: "ean_13".to_owned(),
            text: format!("0{text}"),
        });
    }
    Some(Barcode {
        format: format_name(format).to_owned(),
        text,
    })
}

/// The scanlines of a place as an image, one row each (the place straightened out).
fn straightened(lines: &[Vec<f32>]) -> Option<GrayImage> {
    let width = lines.iter().map(Vec::len).min()?;
    let pixels: Vec<u8> = lines
        .iter()
        .flat_map(|l| l[..width].iter().map(|v| v.round().clamp(0.0, 255.0) as u8))
        .collect();
    GrayImage::from_raw(
        u32::try_from(width).ok()?,
        u32::try_from(lines.len()).ok()?,
        pixels,
    )
}

/// The first barcode found in the image.
pub fn detect(grey: &GrayImage) -> Option<Barcode> {
    for place in locate::regions(grey) {
        // A scanline about every 2 px along the bars, 6 to 32 of them.
        let count = ((place.half_along * 0.8) as usize).clamp(6, 32);
        let lines = place.lines(grey, count, THICK, MARGIN);
        let mut votes = ean::Votes::default();
        for line in &lines {
            votes.read(line);
        }
        if let Some(text) = votes.winner() {
            return Some(Barcode {
                format: "ean_13".to_owned(),
                text,
            });
        }
        if let Some(found) = straightened(&lines).and_then(|img| {
            zxing(
                &img,
                &[
                    BarcodeFormat::EAN_13,
                    BarcodeFormat::EAN_8,
                    BarcodeFormat::UPC_A,
                    BarcodeFormat::CODE_128,
                ],
            )
        }) {
            return Some(found);
        }
    }
    zxing(grey, &[BarcodeFormat::QR_CODE, BarcodeFormat::DATA_MATRIX])
}
