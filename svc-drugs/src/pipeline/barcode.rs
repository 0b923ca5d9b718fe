//! Barcode reading on a grey image: EAN-13 (and EAN-8/UPC-A), Code 128, DataMatrix and QR.
//!
//! Phone photos of boxes often show the barcode small and turned 90°. EAN-13, the code on
//! nearly every box sold in China, goes first through [`super::ean`], which scans rows and
//! columns with sub-pixel edges. The other formats go through rxing (ZXing): it tries harder
//! (which includes the rotated image), and when nothing is found at the photo's own size the
//! image is upscaled 2× and tried again, since the ZXing family needs a few pixels per module.

use std::collections::HashSet;

use image::GrayImage;
use image::imageops::{self, FilterType};
use rxing::{BarcodeFormat, DecodeHints, helpers};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Barcode {
    /// `ean_13`, `code_128`, `data_matrix`, `qr_code`, ...
    pub format: String,
    pub text: String,
}

fn formats() -> HashSet<BarcodeFormat> {
    HashSet::from([
        BarcodeFormat::EAN_13,
        BarcodeFormat::EAN_8,
        BarcodeFormat::UPC_A,
        BarcodeFormat::CODE_128,
        BarcodeFormat::DATA_MATRIX,
        BarcodeFormat::QR_CODE,
    ])
}

fn format_name(format: BarcodeFormat) -> &'static str {
    match format {
        BarcodeFormat::EAN_13 => "ean_13",
        BarcodeFormat::EAN_8 => "ean_8",
        BarcodeFormat::UPC_A => "upc_a",
        BarcodeFormat::CODE_128 => "code_128",
        BarcodeFormat::DATA_MATRIX => "data_matrix",
        BarcodeFormat::QR_CODE => "qr_code",
        _ => "other",
    }
}

fn detect_once(grey: &GrayImage) -> Option<Barcode> {
    let mut hints = DecodeHints {
        PossibleFormats: Some(formats()),
        TryHarder: Some(true),
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
    Some(Barcode {
        format: format_name(*result.getBarcodeFormat()).to_owned(),
        text,
    })
}

/// The first barcode found in the image: our sub-pixel EAN-13 reader first (fast, and it reads
/// the small rotated codes that ZXing misses), then ZXing at the image's own size, then at 2×
/// (only for images small enough that doubling them stays cheap).
pub fn detect(grey: &GrayImage) -> Option<Barcode> {
    if let Some(text) = super::ean::detect(grey) {
        return Some(Barcode {
            format: "ean_13".to_owned(),
            text,
        });
    }
    if let Some(found) = detect_once(grey) {
        return Some(found);
    }
    let long_edge = grey.width().max(grey.height());
    if long_edge == 0 || long_edge > 2048 {
        return None;
    }
    let up = imageops::resize(
        grey,
        grey.width() * 2,
        grey.height() * 2,
        FilterType::Triangle,
    );
    detect_once(&up)
}
