//! The normalisation step on the real photos of `shared/fixtures/drug-photos`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::Cursor;
use std::path::PathBuf;

use image::{ImageDecoder, ImageReader};
use svc_drugs::pipeline::normalize::{NormalizeError, NormalizeLimits, normalize};

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

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    let err = normalize(&png_bomb(), NormalizeLimits::default()).unwrap_err();
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
