//! The streaming reverse proxy (the routes it serves are in `routing`).
//!
//! Bodies stream both ways through bounded buffers: an upload is pumped from actix's payload
//! into a small channel that the upstream connection reads, and the upstream answer is
//! relayed chunk by chunk (an SSE reply reaches the client as the model writes it).
//! Hop-by-hop headers are dropped, only an allowlist of client headers is forwarded, and the
//! internal token, trace context and request id are added.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::{Frame, Incoming};
use shared::ApiError;
use shared::ErrorCode;
use shared::contracts::PUBLIC_URL_HEADER;
use shared::internal_client::{InternalClient, Peer};
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::AuthUser;
use crate::routing::{Access, Route};
use crate::state::AppState;
use crate::upstream::{Body, BodyStream, UpstreamClient, UpstreamError};

/// Client headers that reach a service, as the names the upstream request is built with.
/// Everything else (cookies, authorization, any `x-internal-*`, `x-fc-*`, forwarded or trace
/// headers a client made up) is dropped.
fn forwarded_request_header(name: &str) -> Option<http::HeaderName> {
    use http::header;
    Some(match name {
        "accept" => header::ACCEPT,
        "accept-language" => header::ACCEPT_LANGUAGE,
        "cache-control" => header::CACHE_CONTROL,
        "content-length" => header::CONTENT_LENGTH,
        "content-type" => header::CONTENT_TYPE,
        "if-match" => header::IF_MATCH,
        "if-modified-since" => header::IF_MODIFIED_SINCE,
        "if-none-match" => header::IF_NONE_MATCH,
        "last-event-id" => http::HeaderName::from_static("last-event-id"),
        // Whose cabinet (a dependent's); svc-drugs checks the caller may.
        "x-person-id" => http::HeaderName::from_static("x-person-id"),
        "range" => header::RANGE,
        "user-agent" => header::USER_AGENT,
        _ => return None,
    })
}

/// Connection-level headers (RFC 9110 §7.6.1) never relayed in either direction.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Answer headers the gateway writes itself: the body's length (from the relayed body), and
/// the request and trace ids (the request-context middleware; the service's are the same ids,
/// since the gateway sent them).
const SET_BY_THE_GATEWAY: &[&str] = &["content-length", "x-request-id", "x-trace-id"];

/// `shared::middleware::DEADLINE_HEADER`, as the upstream client's header type.
const DEADLINE_HEADER: http::HeaderName = http::HeaderName::from_static("x-request-deadline-ms");
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_millis(250);

/// The gateway's default service: proxy a known prefix, 404 otherwise.
pub async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    internal: web::Data<InternalClient>,
    upstream: web::Data<UpstreamClient>,
) -> Result<HttpResponse, ApiError> {
    let Some(route) = state.routes.find(req.path()) else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "no such route or resource",
        ));
    };
    let result = forward_on(route, req, payload, &state, &internal, &upstream).await;
    // The legacy client shows errors to its (Chinese) user as they come: the gateway's own
    // (413, 502, 504) in Chinese too, as svc-drugs answers on these routes.
    match route.access {
        Access::Legacy => result.map_err(ApiError::in_chinese),
        Access::User | Access::Public => result,
    }
}

async fn forward_on(
    route: &Route,
    req: HttpRequest,
    payload: web::Payload,
    state: &AppState,
    internal: &InternalClient,
    upstream: &UpstreamClient,
) -> Result<HttpResponse, ApiError> {
    let user = match route.access {
        Access::User => Some(AuthUser::authenticate(&req, state).await?.id),
        Access::Legacy => {
            state.limits.check_legacy_ip(state.client_ip(&req))?;
            Some(state.legacy_user().await?)
        }
        Access::Public => {
            if req.method() != actix_web::http::Method::GET {
                return Err(ApiError::new(
                    ErrorCode::MethodNotAllowed,
                    "only GET is served here",
                ));
            }
            None
        }
    };
    let declared_len = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > state.max_body_bytes) {
        return Err(too_large());
    }
    let deadline = tokio::time::Instant::now() + route.timeout;

    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri = http::Uri::try_from(format!("{}{path_and_query}", route.peer.base_url))
        .map_err(|e| ApiError::new(ErrorCode::InvalidPath, format!("unusable path: {e}")))?;
    let method =
        http::Method::from_bytes(req.method().as_str().as_bytes()).map_err(ApiError::internal)?;
    let overflow = Arc::new(AtomicBool::new(false));
    let body: Body = if has_body(&req) {
        BodyExt::boxed(StreamBody::new(
            pump(payload, state.max_body_bytes, overflow.clone()).map(|r| r.map(Frame::data)),
        ))
    } else {
        BodyExt::boxed(Empty::new().map_err(|never| match never {}))
    };
    let mut request = http::Request::new(body);
    // Room for the forwarded headers and ours without growing the map on the hot path.
    *request.headers_mut() = http::HeaderMap::with_capacity(16);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    for (name, value) in req.headers() {
        if let Some(n) = forwarded_request_header(name.as_str())
            && let Ok(v) = http::HeaderValue::from_bytes(value.as_bytes())
        {
            headers.append(n, v);
        }
    }
    if let Ok(v) = http::HeaderValue::from_str(&state.client_ip(&req).to_string()) {
        headers.insert("x-forwarded-for", v);
    }
    // The address the client reached us at, for links a service writes (the calendar
    // feed's), decided here where the proxy settings are known.
    if let Ok(v) = http::HeaderValue::from_str(&state.public_url(&req)) {
        headers.insert(PUBLIC_URL_HEADER, v);
    }
    internal.decorate(headers, route.peer.name, user);
    // The service stops the request a little before we would give up on it, so the user gets
    // its answer (504 `deadline_exceeded`, its transaction rolled back) rather than ours.
    headers.insert(
        DEADLINE_HEADER,
        http::HeaderValue::from(route.timeout.saturating_sub(DEADLINE_MARGIN).as_millis() as u64),
    );

    let response = upstream.send(request, deadline).await.map_err(|e| {
        if overflow.load(Ordering::Relaxed) {
            too_large()
        } else {
            classify(&route.peer, &e)
        }
    })?;
    Ok(relay(response, deadline))
}

fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, "request body is too large")
}

fn has_body(req: &HttpRequest) -> bool {
    let chunked = req
        .headers()
        .get("transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    chunked || length > 0
}

/// Move the client's body into a bounded channel that the upstream connection reads from
/// another task. At most a few chunks are ever held, whatever the body's size.
fn pump(
    mut payload: web::Payload,
    limit: u64,
    overflow: Arc<AtomicBool>,
) -> ReceiverStream<Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    actix_web::rt::spawn(async move {
        let mut seen: u64 = 0;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    seen += bytes.len() as u64;
                    if seen > limit {
                        overflow.store(true, Ordering::Relaxed);
                        Err(std::io::Error::other(
                            "request body exceeds the gateway limit",
                        ))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    ReceiverStream::new(rx)
}

fn classify(peer: &Peer, err: &UpstreamError) -> ApiError {
    let cause = format_args!("{} ({}): {err}", peer.name, peer.base_url);
    match err {
        UpstreamError::Timeout => ApiError::gateway_timeout(ErrorCode::UpstreamTimeout, cause),
        UpstreamError::Connect(_) => ApiError::bad_gateway(ErrorCode::UpstreamUnavailable, cause),
        UpstreamError::Other(_) => ApiError::bad_gateway(ErrorCode::UpstreamError, cause),
    }
}

fn relay(response: http::Response<Incoming>, deadline: tokio::time::Instant) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status = StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HttpResponse::build(status);
    // Headers the service named in `Connection` are hop-by-hop too (read once; HTTP/2 answers
    // have no such header).
    let connection_listed: Vec<&str> = parts
        .headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || SET_BY_THE_GATEWAY.contains(&n)
            || connection_listed.iter().any(|c| c.eq_ignore_ascii_case(n))
        {
            continue;
        }
        out.append_header((n, value.as_bytes()));
    }
    let body = BodyStream::new(body, deadline);
    let length = body.exact_len();
    let body = body.inspect_err(|e| tracing::warn!(error = %e, "upstream body interrupted"));
    match length {
        Some(n) => out.body(SizedStream::new(n, body)),
        None => out.streaming(body),
    }
}
