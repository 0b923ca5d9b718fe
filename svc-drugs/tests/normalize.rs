//! The normalisation step on the real photos of `shared/fixtures/drug-photos`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::Cursor;
use std::path::PathBuf;

use image::{ImageDecoder, ImageReader};
use svc_drugs::pipeline::normalize::{
    NormalizeError, NormalizeLimits, decode_jpeg_scaled, normalize, target_size,
};

fn photo(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/drug-photos");
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_calcium_photo_is_oriented_bounded_and_stripped_of_its_exif_and_gps() {
    let original = photo("calcium-d3-front.jpg");
    assert!(contains(&original, b"Exif\0\0"), "the fixture carries EXIF");
    let mut decoder = ImageReader::new(Cursor::new(&original))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    let orientation = decoder.orientation().unwrap();
    let (w, h) = decoder.dimensions();
    assert_eq!((w, h), (4000, 3000));

    let out = normalize(&original, NormalizeLimits::default()).unwrap();
    assert_eq!(out.source_format, "jpeg");
    assert_eq!(out.width.max(out.height), 1536);
    let turned = matches!(
        orientation,
        image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH
    );
    let expected = if turned { (1152, 1536) } else { (1536, 1152) };
    assert_eq!(
        (out.width, out.height),
        expected,
        "orientation {orientation:?} applied"
    );

    // What is stored and sent: a plain JPEG with no metadata segment at all.
    assert!(!contains(&out.jpeg, b"Exif"), "EXIF survived");
    assert!(!contains(&out.jpeg, b"GPS"), "GPS survived");
    assert!(
        out.jpeg.len() < original.len() / 10,
        "{} bytes",
        out.jpeg.len()
    );
    let decoded = image::load_from_memory(&out.jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), expected);
}

#[test]
fn a_small_photo_keeps_its_size_and_is_reencoded_as_jpeg() {
    let out = normalize(
        &photo("cotton-swab-side-barcode.jpg"),
        NormalizeLimits::default(),
    )
    .unwrap();
    assert_eq!((out.width, out.height), (1534, 1279));
    assert_eq!(
        image::guess_format(&out.jpeg).unwrap(),
        image::ImageFormat::Jpeg
    );
}

#[test]
fn png_and_webp_are_accepted_by_content() {
    let img = image::load_from_memory(&photo("cotton-swab-front.jpg")).unwrap();
    for format in [image::ImageFormat::Png, image::ImageFormat::WebP] {
        let mut bytes = Vec::new();
        img.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
        let out = normalize(&bytes, NormalizeLimits::default()).unwrap();
        assert_eq!((out.width, out.height), (1534, 1279), "{format:?}");
        assert_eq!(
            image::guess_format(&out.jpeg).unwrap(),
            image::ImageFormat::Jpeg
        );
    }
}

#[test]
fn anything_else_is_unsupported_whatever_it_is_called() {
    for bytes in [
        &b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"[..],
        b"%PDF-1.7 not an image",
        b"",
        b"\xff\xd8",
    ] {
        let err = normalize(bytes, NormalizeLimits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                NormalizeError::Unsupported | NormalizeError::Undecodable(_)
            ),
            "{err:?}"
        );
    }
    let err = normalize(
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        NormalizeLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, NormalizeError::Unsupported), "{err:?}");
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid 1×1 PNG whose header then claims 60 000 × 60 000 pixels.
fn png_bomb() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::DynamicImage::new_rgb8(1, 1)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    // Signature (8) + length (4) + "IHDR" (4): width and height follow.
    bytes[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Refused for the 60 000 × 60 000 pixels its header declares.
fn refused_as_60_000_square(bytes: &[u8]) {
    let err = normalize(bytes, NormalizeLimits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            NormalizeError::TooManyPixels {
                width: 60_000,
                height: 60_000,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    refused_as_60_000_square(&png_bomb());
}

/// A JPEG whose frame header declares 60 000 × 60 000 pixels is refused from its header,
/// before the decoder allocates anything for the scan.
#[test]
fn a_jpeg_declaring_too_many_pixels_is_refused_before_decoding() {
    let mut jpeg = Vec::new();
    image::GrayImage::new(16, 16)
        .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    // FFC0, length (2), precision (1), height (2), width (2).
    jpeg[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    // The decoder itself stops at the header: it never asks for the output size.
    let asked = std::cell::Cell::new(false);
    let direct = decode_jpeg_scaled(&jpeg, NormalizeLimits::default(), |w, h| {
        asked.set(true);
        (w, h)
    });
    assert!(
        matches!(direct, Err(NormalizeError::TooManyPixels { .. })),
        "{:?}",
        direct.map(|d| d.map(|d| (d.width, d.height)))
    );
    assert!(!asked.get(), "went past the header");
    refused_as_60_000_square(&jpeg);
}

/// The decoder's memory is bounded from the header too: the DCT coefficients a JPEG may keep
/// for the whole image (128 bytes an 8×8 block a component) against the allocation cap.
#[test]
fn a_jpeg_needing_more_memory_than_allowed_is_refused() {
    let limits = NormalizeLimits {
        max_alloc: 1 << 20,
        ..NormalizeLimits::default()
    };
    let err = normalize(&photo("cotton-swab-side-barcode.jpg"), limits).unwrap_err();
    assert!(
        matches!(&err, NormalizeError::Undecodable(m) if m.contains("over the limit of 1 MiB")),
        "{err:?}"
    );
}

/// The EXIF orientation of a phone photo is applied: the same photo with "rotate 90°"
/// (orientation 6) written first comes out turned, its sides swapped.
#[test]
fn the_exif_orientation_of_a_jpeg_is_applied() {
    let original = photo("cotton-swab-side-barcode.jpg");
    let upright = normalize(&original, NormalizeLimits::default()).unwrap();
    // APP1 "Exif\0\0", little-endian TIFF header, one IFD with one entry: 0x0112 SHORT 1 = 6.
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend(u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    app1.extend(b"Exif\0\0");
    app1.extend(tiff);
    let mut turned = original[..2].to_vec();
    turned.extend(app1);
    turned.extend(&original[2..]);
    // Read by the JPEG decoder itself (not left to the general path).
    let limits = NormalizeLimits::default();
    let decoded = decode_jpeg_scaled(&turned, limits, |w, h| {
        target_size(w, h, limits.max_long_edge)
    })
    .unwrap()
    .expect("the JPEG path takes it");
    assert_eq!(decoded.orientation, image::metadata::Orientation::Rotate90);
    let out = normalize(&turned, limits).unwrap();
    assert_eq!((upright.width, upright.height), (1534, 1279));
    assert_eq!((out.width, out.height), (1279, 1534));
    let decoded = image::load_from_memory(&out.jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1279, 1534));
}

/// A greyscale JPEG (one component) takes the same path and comes out as a colour JPEG of
/// the bounded size, its pixels still grey.
#[test]
fn a_greyscale_jpeg_is_normalised() {
    let colour = image::load_from_memory(&photo("cotton-swab-front.jpg")).unwrap();
    let grey = colour
        .resize_exact(3000, 2000, image::imageops::FilterType::Nearest)
        .into_luma8();
    let mut jpeg = Vec::new();
    grey.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    // Decoded by the JPEG path, not left to the general path, at 5/8: the smallest n/8 whose
    // output (1875×1250) still covers 1536×1024.
    let limits = NormalizeLimits::default();
    let decoded = decode_jpeg_scaled(&jpeg, limits, |w, h| {
        target_size(w, h, limits.max_long_edge)
    })
    .unwrap()
    .expect("the JPEG path takes it");
    assert_eq!((decoded.width, decoded.height), (1875, 1250));
    assert_eq!(decoded.rgb.len(), 1875 * 1250 * 3);
    let out = normalize(&jpeg, limits).unwrap();
    assert_eq!((out.width, out.height), (1536, 1024));
    let decoded = image::load_from_memory(&out.jpeg).unwrap().into_rgb8();
    let (mut spread, mut dark) = (0u8, 0usize);
    for p in decoded.pixels() {
        let [r, g, b] = p.0;
        spread = spread.max(r.max(g).max(b) - r.min(g).min(b));
        dark += usize::from(r < 128);
    }
    assert!(spread <= 6, "colour crept in: {spread}");
    assert!(
        dark > 0 && dark < decoded.pixels().len(),
        "the picture survived"
    );
}

/// Cut inside its headers, a JPEG has no picture at all (→ 422). A JPEG cut inside its scan
/// still decodes (the decoder fills the missing rows), as phone galleries show it.
#[test]
fn a_jpeg_cut_before_its_image_data_is_undecodable() {
    let original = photo("cotton-swab-front.jpg");
    let result =
        normalize(&original[..300], NormalizeLimits::default()).map(|n| (n.width, n.height));
    assert!(
        matches!(result, Err(NormalizeError::Undecodable(_))),
        "{result:?}"
    );
}

#[test]
fn the_small_rotated_barcode_on_the_side_photo_is_read_after_normalisation() {
    use svc_drugs::pipeline::barcode::detect;
    use svc_drugs::pipeline::normalize::normalize_with_grey;
    let side = normalize_with_grey(
        &photo("cotton-swab-side-barcode.jpg"),
        NormalizeLimits::default(),
    )
    .unwrap();
    let found = detect(side.grey.as_ref().unwrap()).expect("a barcode");
    assert_eq!(
        (found.format.as_str(), found.text.as_str()),
        ("ean_13", "6950715599358")
    );
    // Photos without a barcode give none (no false positive).
    for name in ["cotton-swab-front.jpg", "calcium-d3-front.jpg"] {
        let n = normalize_with_grey(&photo(name), NormalizeLimits::default()).unwrap();
        assert_eq!(detect(n.grey.as_ref().unwrap()), None, "{name}");
    }
}

/// The public photos of `tests/fixtures/barcodes` (QuaggaJS's, MIT): nearly all read, and
/// none read as another code. `examples/barcode_bench.rs` prints the rate and the time.
#[test]
fn public_barcode_photos_are_read_and_none_is_misread() {
    use svc_drugs::pipeline::barcode::detect;
    use svc_drugs::pipeline::normalize::normalize_with_grey;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/barcodes");
    let labels: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("labels.json")).unwrap()).unwrap();
    let (mut right, mut missed, mut wrong) = (0, Vec::new(), Vec::new());
    for (format, files) in labels
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "about")
    {
        for (file, label) in files.as_object().unwrap() {
            let label = label.as_str().or_else(|| label["text"].as_str()).unwrap();
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let n = normalize_with_grey(&bytes, NormalizeLimits::default()).unwrap();
            match detect(n.grey.as_ref().unwrap()) {
                // A UPC-A is also its 13-digit GTIN with a leading 0.
                Some(b) if b.text == label || b.text.strip_prefix('0') == Some(label) => {
                    right += 1;
                }
                Some(b) => wrong.push(format!("{file} ({format}): {label} read as {b:?}")),
                None => missed.push(file.clone()),
            }
        }
    }
    assert!(wrong.is_empty(), "misread: {wrong:?}");
    assert!(right >= 38, "{right} of 40 read; missed {missed:?}");
}

/// Each format the reader claims, printed small onto the calcium photo (3 px a module for
/// bars, 4 for 2-D codes) and turned 0°, 30° and 90°, is found and read.
#[test]
fn every_claimed_format_is_read_on_a_photo_at_any_angle() {
    use rxing::{BarcodeFormat, MultiFormatWriter, Writer};
    use svc_drugs::pipeline::barcode::detect;
    use svc_drugs::pipeline::normalize::normalize_with_grey;
    let background =
        normalize_with_grey(&photo("calcium-d3-front.jpg"), NormalizeLimits::default())
            .unwrap()
            .grey
            .unwrap();
    let cases = [
        (BarcodeFormat::EAN_8, "90311208", "ean_8", 3),
        (BarcodeFormat::UPC_A, "039047013551", "ean_13", 3),
        (BarcodeFormat::EAN_13, "6950715599358", "ean_13", 3),
        (BarcodeFormat::CODE_128, "P472410001", "code_128", 3),
        // China's 20-digit drug traceability code (药品追溯码) is printed as Code 128.
        (
            BarcodeFormat::CODE_128,
            "81234567890123456789",
            "code_128",
            3,
        ),
        (
            BarcodeFormat::QR_CODE,
            "https://example.com/d?id=42",
            "qr_code",
            4,
        ),
        (
            BarcodeFormat::DATA_MATRIX,
            "010695071559935817271006",
            "data_matrix",
            4,
        ),
    ];
    let mut failed = Vec::new();
    for (format, text, name, module) in cases {
        let matrix = MultiFormatWriter.encode(text, &format, 0, 0).unwrap();
        let (mw, mh) = (matrix.width(), matrix.height().max(1));
        let one_d = mh == 1;
        // The code in pixels with a quiet zone of 12 modules (bars 60 px tall).
        let quiet = 12 * module;
        let (pw, ph) = (
            mw * module + 2 * quiet,
            if one_d { 60 } else { mh * module } + 2 * quiet,
        );
        let ink = |x: u32, y: u32| -> bool {
            let (Some(x), Some(y)) = (x.checked_sub(quiet), y.checked_sub(quiet)) else {
                return false;
            };
            let (mx, my) = (x / module, if one_d { 0 } else { y / module });
            mx < mw && (one_d && y < 60 || !one_d && my < mh) && matrix.get(mx, my)
        };
        for degrees in [0.0f32, 30.0, 90.0] {
            let mut img = background.clone();
            let (sin, cos) = degrees.to_radians().sin_cos();
            let (cx, cy) = (700.0f32, 500.0f32);
            let r = ((pw * pw + ph * ph) as f32).sqrt() / 2.0 + 2.0;
            for y in (cy - r) as u32..(cy + r) as u32 {
                for x in (cx - r) as u32..(cx + r) as u32 {
                    // Back into the code's own frame.
                    let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                    let (sx, sy) = (
                        cos * dx + sin * dy + pw as f32 / 2.0,
                        -sin * dx + cos * dy + ph as f32 / 2.0,
                    );
                    if sx >= 0.0 && sy >= 0.0 && sx < pw as f32 && sy < ph as f32 {
                        let v = if ink(sx as u32, sy as u32) { 30 } else { 230 };
                        img.put_pixel(x, y, image::Luma([v]));
                    }
                }
            }
            let found = detect(&img).map(|b| (b.format, b.text));
            let expected = (name.to_owned(), text.to_owned());
            let ok = found.as_ref().is_some_and(|(f, t)| {
                *f == expected.0 && (*t == expected.1 || t.strip_prefix('0') == Some(text))
            });
            if !ok {
                failed.push(format!("{format:?} at {degrees}°: {found:?}"));
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
