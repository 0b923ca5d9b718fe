//! The web console (`web/` at the top of the repository): `/` is its page, `/assets/…` its
//! scripts and styles. Release builds carry the files inside the binary; debug builds read
//! them from `web/` on each request, so an edit shows on reload. Files go out gzipped when the
//! client accepts it (compressed once, at first request), with an ETag from their hash.
//!
//! The console is a client of the public API like any other: nothing here gives it access the
//! API does not give every client.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{LazyLock, Mutex};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use rust_embed::Embed;
use shared::{ApiError, ErrorCode};

#[derive(Embed)]
#[folder = "../web/"]
#[exclude = "*.md"]
struct Assets;

/// Scripts, styles and images from the console's own origin only; the API on the same origin.
/// `blob:` for the preview of a photo before it is sent.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Gzipped bodies by path and content hash (a debug build's file may change under us).
type GzipCache = HashMap<(String, [u8; 32]), Bytes>;
static GZIPPED: LazyLock<Mutex<GzipCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/assets/{file:.*}", web::get().to(asset));
}

async fn index(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    if file == "index.html" || file.split('/').any(|part| part.is_empty() || part == "..") {
        return Err(missing());
    }
    serve(&req, &file)
}

fn missing() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such file in the console")
}

fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, ApiError> {
    let Some(file) = Assets::get(path) else {
        return Err(missing());
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!("\"{}\"", hex::encode(&hash[..12]));
    let mut response = HttpResponse::Ok();
    response
        .content_type(content_type(file.metadata.mimetype()))
        .insert_header((header::ETAG, etag.as_str()))
        // Revalidated every time: a new release's files show at once, an unchanged one is a 304.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "accept-encoding"))
        .insert_header(("content-security-policy", CSP))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("x-frame-options", "DENY"));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if matches {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    if accepts_gzip(req.headers().get(header::ACCEPT_ENCODING))
        && let Some(body) = gzipped(path, hash, &file.data)
    {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
        return Ok(response.body(body));
    }
    Ok(response.body(file.data.into_owned()))
}

/// Text is UTF-8 (the console is mostly Chinese).
fn content_type(mime: &str) -> String {
    if mime.starts_with("text/") || mime.ends_with("javascript") || mime.ends_with("json") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    }
}

fn accepts_gzip(value: Option<&HeaderValue>) -> bool {
    value.and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
    })
}

fn gzipped(path: &str, hash: [u8; 32], data: &[u8]) -> Option<Bytes> {
    let key = (path.to_owned(), hash);
    if let Some(body) = GZIPPED.lock().ok()?.get(&key) {
        return Some(body.clone());
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).ok()?;
    let body = Bytes::from(encoder.finish().ok()?);
    GZIPPED.lock().ok()?.insert(key, body.clone());
    Some(body)
}
