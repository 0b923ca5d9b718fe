use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use std::sync::LazyLock;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string(&crate::openapi::document()).unwrap_or_else(|_| "{}".into())
});

pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT.as_str())
}

/// A self-contained page (no CDN, no build-time download) that renders the document.
pub async fn get_docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((
            "content-security-policy",
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        ))
        .body(include_str!("docs.html"))
}
