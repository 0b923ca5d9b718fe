//! Normalise an uploaded photo before it is stored or sent anywhere: type decided by content,
//! a pixel cap and an allocation cap checked before decoding (decompression bombs), EXIF
//! orientation applied, every piece of metadata dropped (the encoder writes none: no EXIF, no
//! GPS), the long edge bounded, and the result re-encoded as JPEG. The original bytes go
//! nowhere.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

#[derive(Debug, Clone, Copy)]
pub struct NormalizeLimits {
    /// Largest accepted width × height of the decoded image.
    pub max_pixels: u64,
    /// Largest allocation the decoder may make, in bytes.
    pub max_alloc: u64,
    /// The long edge of the output, in pixels.
    pub max_long_edge: u32,
    /// JPEG quality of the output (1–100).
    pub jpeg_quality: u8,
}

impl Default for NormalizeLimits {
    fn default() -> Self {
        Self {
            max_pixels: 50_000_000,
            max_alloc: 256 * 1024 * 1024,
            max_long_edge: 1536,
            jpeg_quality: 85,
        }
    }
}

#[derive(Debug)]
pub struct Normalized {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub source_format: &'static str,
    /// The normalised image in grey, for barcode reading (only with [`normalize_with_grey`]).
    pub grey: Option<image::GrayImage>,
}

#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// Not JPEG, PNG or WebP, whatever the file is called (→ 415).
    #[error("unsupported image type: only JPEG, PNG and WebP are accepted")]
    Unsupported,
    /// Declares more pixels than allowed (→ 422).
    #[error("image is {width}×{height} pixels, over the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// Recognised but could not be decoded, or would need too much memory (→ 422).
    #[error("image could not be decoded: {0}")]
    Undecodable(String),
    #[error("image could not be encoded: {0}")]
    Encode(String),
}

/// A JPEG decoded by [`decode_jpeg_scaled`]: RGB pixels at the DCT scale chosen, the size
/// they are still to be resized to, and the EXIF orientation still to apply.
pub struct ScaledJpeg {
    /// What `target(width, height)` asked for, the scale chosen to cover it.
    pub target: (u32, u32),
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    pub orientation: image::metadata::Orientation,
}

/// The JPEG fast path, the one phone photos take: MozJPEG 4 (a libjpeg-turbo fork, through
/// the `mozjpeg` crate, its SIMD code assembled with nasm) scales in the DCT domain to the
/// smallest n/8 still at least the target, so a 12 MP photo is never decoded in full; a SIMD
/// resize takes it to the exact target; orientation is applied to the small image; the same
/// library's SIMD encoder writes it with no metadata. `None` for the colour spaces it leaves to
/// the general path (CMYK, YCCK). Arithmetic-coded and 12-bit JPEGs are refused (422), as
/// before; so are lossless ones (SOF3), which the previous pure-Rust decoder read — rare
/// outside medical imaging, and no camera app writes them.
fn fast_jpeg(
    bytes: &[u8],
    limits: NormalizeLimits,
    keep_grey: bool,
) -> Result<Option<Normalized>, NormalizeError> {
    let Some(decoded) = decode_jpeg_scaled(bytes, limits, |w, h| {
        target_size(w, h, limits.max_long_edge)
    })?
    else {
        return Ok(None);
    };
    let rgb = resize_rgb(decoded.rgb, (decoded.width, decoded.height), decoded.target)?;
    let mut img = DynamicImage::ImageRgb8(rgb);
    img.apply_orientation(decoded.orientation);
    let rgb = img.into_rgb8();
    let jpeg = encode_jpeg(&rgb, limits.jpeg_quality)?;
    let grey = keep_grey.then(|| image::imageops::grayscale(&rgb));
    Ok(Some(Normalized {
        width: rgb.width(),
        height: rgb.height(),
        jpeg,
        source_format: "jpeg",
        grey,
    }))
}

/// Decode stage of the fast path: the header first — the pixel cap and the memory cap checked
/// before any image data is read or any image-sized buffer allocated — then the scan at the
/// smallest n/8 (n = 1..8) whose output still covers what `target(width, height)` asks for
/// (full scale when nothing is to be resized). libjpeg reports a fatal error by unwinding (the
/// `mozjpeg` crate's error manager); it is caught here and becomes
/// [`NormalizeError::Undecodable`].
pub fn decode_jpeg_scaled(
    bytes: &[u8],
    limits: NormalizeLimits,
    target: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Option<ScaledJpeg>, NormalizeError> {
    use mozjpeg::{ColorSpace, Decompress, Marker};
    let decode = || -> Result<Option<ScaledJpeg>, NormalizeError> {
        let undecodable = |e: std::io::Error| NormalizeError::Undecodable(e.to_string());
        let mut decompress = Decompress::with_markers(&[Marker::APP(1)])
            .from_mem(bytes)
            .map_err(undecodable)?;
        let (width, height) = dimensions(decompress.width(), decompress.height())?;
        if u64::from(width) * u64::from(height) > limits.max_pixels {
            return Err(NormalizeError::TooManyPixels {
                width,
                height,
                limit: limits.max_pixels,
            });
        }
        // A progressive or multi-scan JPEG keeps every component's DCT coefficients for the
        // whole image, at full size whatever the output scale: 64 coefficients of 2 bytes per
        // 8×8 block. Counted for every JPEG (the header does not say how the scans are laid
        // out), it bounds what libjpeg may allocate.
        let coefficients: u64 = decompress
            .components()
            .iter()
            .map(|c| u64::from(c.width_in_blocks) * u64::from(c.height_in_blocks) * 128)
            .sum();
        if coefficients > limits.max_alloc {
            return Err(NormalizeError::Undecodable(format!(
                "decoding would need {} MiB, over the limit of {} MiB",
                coefficients >> 20,
                limits.max_alloc >> 20
            )));
        }
        if !matches!(
            decompress.color_space(),
            ColorSpace::JCS_YCbCr | ColorSpace::JCS_GRAYSCALE | ColorSpace::JCS_RGB
        ) {
            return Ok(None);
        }
        let orientation = decompress
            .markers()
            .find_map(|m| m.data.strip_prefix(b"Exif\0\0"))
            .and_then(image::metadata::Orientation::from_exif_chunk)
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        let (target_w, target_h) = target(width, height);
        // ceil(side × n / 8) is the side libjpeg outputs at scale n/8.
        let covers = |side: u32, n: u32, want: u32| (side * n).div_ceil(8) >= want;
        let n = if (target_w, target_h) == (width, height) {
            8
        } else {
            (1..8)
                .find(|&n| covers(width, n, target_w) && covers(height, n, target_h))
                .unwrap_or(8)
        };
        decompress.scale(n as u8);
        let mut started = decompress.rgb().map_err(undecodable)?;
        let (w, h) = dimensions(started.width(), started.height())?;
        let rgb: Vec<u8> = started.read_scanlines().map_err(undecodable)?;
        started.finish().map_err(undecodable)?;
        Ok(Some(ScaledJpeg {
            target: (target_w, target_h),
            width: w,
            height: h,
            rgb,
            orientation,
        }))
    };
    libjpeg(decode).unwrap_or_else(|fatal| Err(NormalizeError::Undecodable(fatal)))
}

/// Runs libjpeg code, which reports a fatal error by unwinding (the `mozjpeg` crate's error
/// manager, without the panic hook, its payload a `String` starting "libjpeg fatal error: "):
/// that unwind is caught and becomes its message. Any other panic — a bug, not bad input —
/// goes on unwinding.
fn libjpeg<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        match payload
            .downcast_ref::<String>()
            .and_then(|m| m.strip_prefix("libjpeg fatal error: "))
        {
            Some(message) => message.to_owned(),
            None => std::panic::resume_unwind(payload),
        }
    })
}

// libjpeg's errors reach Rust by unwinding; with panic = "abort" a corrupt photo would kill the
// service instead of being answered 422.
#[cfg(panic = "abort")]
compile_error!("svc-drugs needs panic = \"unwind\": libjpeg reports errors by unwinding");

fn dimensions(width: usize, height: usize) -> Result<(u32, u32), NormalizeError> {
    let side = |v: usize| {
        u32::try_from(v).map_err(|_| NormalizeError::Undecodable("image too wide".into()))
    };
    Ok((side(width)?, side(height)?))
}

/// Resize stage of the fast path: SIMD bilinear from `from` to `to` (nothing to do when equal).
pub fn resize_rgb(
    rgb: Vec<u8>,
    from: (u32, u32),
    to: (u32, u32),
) -> Result<image::RgbImage, NormalizeError> {
    use fast_image_resize as fr;
    let lost = || NormalizeError::Encode("resize lost pixels".into());
    if from == to {
        return image::RgbImage::from_raw(from.0, from.1, rgb).ok_or_else(lost);
    }
    let src = fr::images::Image::from_vec_u8(from.0, from.1, rgb, fr::PixelType::U8x3)
        .map_err(|e| NormalizeError::Encode(e.to_string()))?;
    let mut dst = fr::images::Image::new(to.0, to.1, fr::PixelType::U8x3);
    fr::Resizer::new()
        .resize(
            &src,
            &mut dst,
            &fr::ResizeOptions::new()
                .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear)),
        )
        .map_err(|e| NormalizeError::Encode(e.to_string()))?;
    image::RgbImage::from_raw(to.0, to.1, dst.into_vec()).ok_or_else(lost)
}

/// Encode stage of the fast path: MozJPEG's encoder in its libjpeg-turbo-compatible fastest
/// setting (baseline, 4:2:0, standard Huffman tables; none of MozJPEG's trellis quantisation or
/// progressive scans), no metadata but the JFIF header. About three times as fast as
/// `jpeg-encoder` (AVX2) was, its output about the same size (231 against 232 kB for the
/// 12 MP photo at 1500×1125, q85).
pub fn encode_jpeg(rgb: &image::RgbImage, quality: u8) -> Result<Vec<u8>, NormalizeError> {
    let encode = || -> std::io::Result<Vec<u8>> {
        let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        compress.set_size(rgb.width() as usize, rgb.height() as usize);
        compress.set_fastest_defaults();
        compress.set_quality(f32::from(quality));
        let mut started = compress.start_compress(Vec::with_capacity(256 * 1024))?;
        started.write_scanlines(rgb.as_raw())?;
        started.finish()
    };
    libjpeg(encode)
        .map_err(NormalizeError::Encode)?
        .map_err(|e| NormalizeError::Encode(e.to_string()))
}

/// The output size for an image of `width` × `height`: its long edge bounded by `max_long_edge`.
pub fn target_size(width: u32, height: u32, max_long_edge: u32) -> (u32, u32) {
    let long_edge = width.max(height);
    if long_edge <= max_long_edge {
        return (width, height);
    }
    let scale = f64::from(max_long_edge) / f64::from(long_edge);
    (
        ((f64::from(width) * scale).round() as u32).max(1),
        ((f64::from(height) * scale).round() as u32).max(1),
    )
}

fn format_name(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg => Some("jpeg"),
        ImageFormat::Png => Some("png"),
        ImageFormat::WebP => Some("webp"),
        _ => None,
    }
}

pub fn normalize(bytes: &[u8], limits: NormalizeLimits) -> Result<Normalized, NormalizeError> {
    normalize_inner(bytes, limits, false)
}

/// [`normalize`], keeping a grey copy of the result for the barcode reader.
pub fn normalize_with_grey(
    bytes: &[u8],
    limits: NormalizeLimits,
) -> Result<Normalized, NormalizeError> {
    normalize_inner(bytes, limits, true)
}

fn normalize_inner(
    bytes: &[u8],
    limits: NormalizeLimits,
    keep_grey: bool,
) -> Result<Normalized, NormalizeError> {
    let format = image::guess_format(bytes).map_err(|_| NormalizeError::Unsupported)?;
    let source_format = format_name(format).ok_or(NormalizeError::Unsupported)?;
    if format == ImageFormat::Jpeg
        && let Some(done) = fast_jpeg(bytes, limits, keep_grey)?
    {
        return Ok(done);
    }

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| NormalizeError::Undecodable(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(NormalizeError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let orientation = decoder
        .orientation()
        .map_err(|e| NormalizeError::Undecodable(e.to_string()))?;
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| NormalizeError::Undecodable(e.to_string()))?;
    img.apply_orientation(orientation);

    let (w, h) = target_size(img.width(), img.height(), limits.max_long_edge);
    if (w, h) != (img.width(), img.height()) {
        img = img.resize_exact(w, h, FilterType::Triangle);
    }
    let rgb = img.into_rgb8();
    let mut jpeg = Vec::with_capacity(256 * 1024);
    JpegEncoder::new_with_quality(&mut jpeg, limits.jpeg_quality)
        .encode_image(&rgb)
        .map_err(|e| NormalizeError::Encode(e.to_string()))?;
    let grey = keep_grey.then(|| image::imageops::grayscale(&rgb));
    Ok(Normalized {
        width: rgb.width(),
        height: rgb.height(),
        jpeg,
        source_format,
        grey,
    })
}
