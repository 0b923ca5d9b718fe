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

/// The JPEG fast path, the one phone photos take: the decoder scales in the DCT domain
/// (1/2, 1/4 or 1/8) to the smallest size still at least the target, so a 12 MP photo is
/// never decoded in full; a SIMD resize takes it to the exact target; orientation is applied
/// to the small image; a SIMD encoder writes it with no metadata. `None` for what it does not
/// handle (CMYK, 16-bit grey), which takes the general path.
fn fast_jpeg(
    bytes: &[u8],
    limits: NormalizeLimits,
    keep_grey: bool,
) -> Result<Option<Normalized>, NormalizeError> {
    use fast_image_resize as fr;

    let undecodable = |e: &dyn std::fmt::Display| NormalizeError::Undecodable(e.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| undecodable(&e))?;
    let info = decoder
        .info()
        .ok_or_else(|| NormalizeError::Undecodable("no image header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(NormalizeError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    if !matches!(
        info.pixel_format,
        jpeg_decoder::PixelFormat::RGB24 | jpeg_decoder::PixelFormat::L8
    ) {
        return Ok(None);
    }
    let (target_w, target_h) = target_size(width, height, limits.max_long_edge);
    let request = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    let (w, h) = decoder
        .scale(request(target_w), request(target_h))
        .map_err(|e| undecodable(&e))?;
    let orientation = decoder
        .exif_data()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let pixels = decoder.decode().map_err(|e| undecodable(&e))?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            let grey = image::GrayImage::from_raw(w, h, pixels)
                .ok_or_else(|| NormalizeError::Undecodable("short grey image".into()))?;
            DynamicImage::ImageLuma8(grey).into_rgb8()
        }
        _ => image::RgbImage::from_raw(w, h, pixels)
            .ok_or_else(|| NormalizeError::Undecodable("short image".into()))?,
    };
    let rgb = if (w, h) == (target_w, target_h) {
        rgb
    } else {
        let src = fr::images::Image::from_vec_u8(w, h, rgb.into_raw(), fr::PixelType::U8x3)
            .map_err(|e| NormalizeError::Encode(e.to_string()))?;
        let mut dst = fr::images::Image::new(target_w, target_h, fr::PixelType::U8x3);
        fr::Resizer::new()
            .resize(
                &src,
                &mut dst,
                &fr::ResizeOptions::new()
                    .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear)),
            )
            .map_err(|e| NormalizeError::Encode(e.to_string()))?;
        image::RgbImage::from_raw(target_w, target_h, dst.into_vec())
            .ok_or_else(|| NormalizeError::Encode("resize lost pixels".into()))?
    };
    let mut img = DynamicImage::ImageRgb8(rgb);
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    let mut jpeg = Vec::with_capacity(256 * 1024);
    let (ew, eh) = (
        u16::try_from(rgb.width()).map_err(|e| NormalizeError::Encode(e.to_string()))?,
        u16::try_from(rgb.height()).map_err(|e| NormalizeError::Encode(e.to_string()))?,
    );
    jpeg_encoder::Encoder::new(&mut jpeg, limits.jpeg_quality)
        .encode(rgb.as_raw(), ew, eh, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| NormalizeError::Encode(e.to_string()))?;
    let grey = keep_grey.then(|| image::imageops::grayscale(&rgb));
    Ok(Some(Normalized {
        width: rgb.width(),
        height: rgb.height(),
        jpeg,
        source_format: "jpeg",
        grey,
    }))
}

/// The size with the long edge at most `max_long_edge`, aspect kept.
fn target_size(width: u32, height: u32, max_long_edge: u32) -> (u32, u32) {
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

    let long_edge = img.width().max(img.height());
    if long_edge > limits.max_long_edge {
        let scale = f64::from(limits.max_long_edge) / f64::from(long_edge);
        let w = ((f64::from(img.width()) * scale).round() as u32).max(1);
        let h = ((f64::from(img.height()) * scale).round() as u32).max(1);
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
