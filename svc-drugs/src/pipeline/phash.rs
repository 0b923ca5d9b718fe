//! A perceptual hash of a normalised photo, so the same picture sent again with other bytes
//! (one byte appended, re-encoded, resized, its metadata changed) is known as a repeat and does
//! not cost another model call.
//!
//! The hash is a 256-bit gradient hash (dHash: is each cell of a 17×16 thumbnail brighter than
//! its right neighbour) of the grey image. Two photos are the same picture when at most
//! [`SAME_PICTURE_BITS`] bits differ. Measured on the fixture photos: re-encoded at quality
//! 40–90 and scaled to 30–100 %, 2–19 bits differ; the front and the side of the same box 65,
//! different boxes 123–128 (the tests hold these margins).

use image::GrayImage;
use image::imageops::FilterType;
use image_hasher::{HashAlg, Hasher, HasherConfig, ImageHash};

/// Most differing bits (of 256) for two photos to count as the same picture.
pub const SAME_PICTURE_BITS: u32 = 24;

/// Side of the thumbnail taken first with a cheap box filter, so the hasher's resize filter
/// runs over a few thousand pixels instead of millions.
const PRESHRINK: u32 = 128;

fn hasher() -> Hasher {
    HasherConfig::new()
        .hash_alg(HashAlg::Gradient)
        .hash_size(16, 16)
        .resize_filter(FilterType::Triangle)
        .to_hasher()
}

/// The hash of a grey image, base64 (as stored).
pub fn of_grey(grey: &GrayImage) -> String {
    let small = image::imageops::thumbnail(grey, PRESHRINK, PRESHRINK);
    hasher().hash_image(&small).to_base64()
}

/// Whether two stored hashes are of the same picture (an unreadable one never is).
pub fn same_picture(a: &str, b: &str) -> bool {
    match (
        ImageHash::<Box<[u8]>>::from_base64(a),
        ImageHash::from_base64(b),
    ) {
        (Ok(a), Ok(b)) => a.dist(&b) <= SAME_PICTURE_BITS,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::normalize::{NormalizeLimits, normalize_with_grey};

    fn limits() -> NormalizeLimits {
        NormalizeLimits {
            max_pixels: 50_000_000,
            max_alloc: 256 << 20,
            max_long_edge: 1536,
            jpeg_quality: 85,
        }
    }

    fn photo(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../shared/fixtures/drug-photos/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn hash(bytes: &[u8]) -> String {
        let n = normalize_with_grey(bytes, limits()).unwrap_or_else(|e| panic!("{e}"));
        of_grey(n.grey.as_ref().unwrap_or_else(|| panic!("no grey")))
    }

    fn distance(a: &str, b: &str) -> u32 {
        let a = ImageHash::<Box<[u8]>>::from_base64(a).unwrap_or_else(|e| panic!("{e:?}"));
        let b = ImageHash::<Box<[u8]>>::from_base64(b).unwrap_or_else(|e| panic!("{e:?}"));
        a.dist(&b)
    }

    /// The photo re-encoded at another quality and size, as a client trying to dodge the
    /// byte-level repeat check would send it.
    fn reencoded(bytes: &[u8], scale: f32, quality: u8) -> Vec<u8> {
        let img = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{e}"));
        let (w, h) = (img.width() as f32 * scale, img.height() as f32 * scale);
        let img = img.resize(w as u32, h as u32, FilterType::Triangle);
        let mut out = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
        img.write_with_encoder(enc)
            .unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn the_same_picture_in_other_bytes_is_the_same_and_other_photos_are_not() {
        let names = [
            "calcium-d3-front.jpg",
            "cotton-swab-front.jpg",
            "cotton-swab-side-barcode.jpg",
        ];
        let hashes: Vec<String> = names.iter().map(|n| hash(&photo(n))).collect();
        for (name, original) in names.iter().zip(&hashes) {
            let bytes = photo(name);
            let mut appended = bytes.clone();
            appended.push(0);
            assert_eq!(&hash(&appended), original, "{name}: one byte appended");
            for (scale, quality) in [(1.0, 60), (0.5, 90), (0.3, 40)] {
                let other = hash(&reencoded(&bytes, scale, quality));
                let d = distance(&other, original);
                assert!(
                    same_picture(&other, original),
                    "{name} at {scale}× q{quality}: {d} bits differ"
                );
            }
        }
        for (i, a) in hashes.iter().enumerate() {
            for (j, b) in hashes.iter().enumerate().skip(i + 1) {
                let d = distance(a, b);
                assert!(
                    d > 2 * SAME_PICTURE_BITS,
                    "{} vs {}: only {d} bits differ",
                    names[i],
                    names[j]
                );
            }
        }
    }

    #[test]
    fn an_unreadable_hash_is_never_the_same_picture() {
        let h = hash(&photo("cotton-swab-front.jpg"));
        assert!(same_picture(&h, &h));
        assert!(!same_picture(&h, "not base64!"));
        assert!(!same_picture("", ""));
    }
}
