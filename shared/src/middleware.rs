//! The outermost middleware of every service: request id, trace context, one span and one
//! log line per request, and the error envelope for anything actix answered on its own.

use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::envelope_for_status;
use crate::request_id;
use crate::trace_context;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACE_ID_HEADER: HeaderName = HeaderName::from_static("x-trace-id");

/// The request id, also stored in request extensions for handlers that want it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The path as logs may show it: a calendar feed's address is its key, so what follows
/// `/ical/` is replaced.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/ical/") {
        "/ical/[redacted]"
    } else {
        path
    }
}

/// Names a request the router did not match itself, for logs and traces: the gateway's proxied
/// routes are one default service to actix, and would all read "unmatched". Registered as app
/// data; it must return a pattern (a route's prefix), never the path itself.
#[derive(Clone)]
pub struct RouteNamer(pub std::sync::Arc<NameRoute>);

/// A path to its route's pattern, when there is one.
pub type NameRoute = dyn Fn(&str) -> Option<String> + Send + Sync;

pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id::from_headers(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    let pattern = req.match_pattern().or_else(|| {
        req.app_data::<RouteNamer>()
            .and_then(|namer| (namer.0)(req.path()))
    });
    let route = pattern.as_deref().unwrap_or("unmatched");
    let method = req.method().as_str();
    // Every field a `&str`: a `%` (Display) field is formatted through `fmt` by each layer.
    let name = [method, route].join(" ");
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        otel.name = name.as_str(),
        http.request.method = method,
        url.path = loggable_path(req.path()),
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        request_id = id.as_str(),
        trace_id = tracing::field::Empty,
    );
    // HEAD is answered as GET would be: routed as GET, and the server (HTTP/1.1 and HTTP/2
    // alike) sends the headers without the body, since the connection saw a HEAD request.
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    let parent = trace_context::extract(req.headers());
    let _ = span.set_parent(parent.clone());
    let trace = trace_context::for_request(&span, &parent);
    let trace_id = trace_context::trace_id_hex(&trace);
    span.record("trace_id", trace_id.as_str());
    let result = request_id::scope(id.clone(), trace, async {
        match next.call(req).await {
            Ok(res) => {
                let res = res.map_into_boxed_body();
                if needs_envelope(&res) {
                    let status = res.status();
                    Ok(res.into_response(envelope_for_status(status)))
                } else {
                    Ok(res)
                }
            }
            // A middleware below failed: render its answer here, where the request id is
            // known, and let actix send that response.
            Err(err) => Err(err.error_response()),
        }
    })
    .instrument(span.clone())
    .await;

    let status = match &result {
        Ok(res) => res.status(),
        Err(response) => response.status(),
    };
    span.record("http.response.status_code", status.as_u16());
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), duration_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), duration_ms, "request served");
        }
    });
    match result {
        Ok(mut res) => {
            tag(res.headers_mut(), &id, &trace_id);
            Ok(res)
        }
        Err(mut response) => {
            tag(response.headers_mut(), &id, &trace_id);
            Err(InternalError::from_response("request failed", response).into())
        }
    }
}

/// Both values differ on every response: marked sensitive, which over HTTP/2 keeps them out
/// of the connection's header table (they would only churn it).
fn tag(headers: &mut HeaderMap, id: &str, trace_id: &str) {
    for (name, value) in [(REQUEST_ID_HEADER, id), (TRACE_ID_HEADER, trace_id)] {
        if let Ok(mut v) = HeaderValue::from_str(value) {
            v.set_sensitive(true);
            headers.insert(name, v);
        }
    }
}

/// actix's own errors (404, 405, payload limits) carry no body or a plain-text one.
fn needs_envelope(res: &ServiceResponse<BoxBody>) -> bool {
    if !(res.status().is_client_error() || res.status().is_server_error()) {
        return false;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/problem+json")
        });
    let empty = matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    empty || !is_json
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    use secrecy::SecretString;

    use super::*;
    use crate::internal_auth::InternalTokens;
    use crate::internal_client::{InternalClient, Peer};

    #[test]
    fn a_calendar_feeds_address_never_reaches_the_logs() {
        assert_eq!(loggable_path("/ical/abcDEF_123-x.ics"), "/ical/[redacted]");
        assert_eq!(loggable_path("/ical/"), "/ical/[redacted]");
        assert_eq!(
            loggable_path("/api/v1/calendar/feed"),
            "/api/v1/calendar/feed"
        );
        assert_eq!(loggable_path("/icalendar"), "/icalendar");
    }

    /// An app behind `request_context` on a free port: `/echo` answers with the
    /// `traceparent` it received; `/call` calls `/echo` of `peer` through the internal client
    /// and answers with what that service saw and the `x-trace-id` it answered with.
    fn serve(peer: Option<String>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tokens = Arc::new(InternalTokens::new(
            &SecretString::from("an-internal-secret".to_owned()),
            120,
        ));
        let client = InternalClient::new(tokens, "gateway", Duration::from_secs(5), &[]).unwrap();
        let server = HttpServer::new(move || {
            let (client, peer) = (client.clone(), peer.clone());
            App::new()
                .wrap(from_fn(request_context))
                .route(
                    "/echo",
                    web::get().to(|req: HttpRequest| async move {
                        let seen = req
                            .headers()
                            .get("traceparent")
                            .map(|v| v.to_str().unwrap().to_owned());
                        HttpResponse::Ok().json(serde_json::json!({ "traceparent": seen }))
                    }),
                )
                .route(
                    "/call",
                    web::get().to(move || {
                        let (client, peer) = (client.clone(), peer.clone());
                        async move {
                            let peer = Peer::new("drugs", peer.unwrap());
                            let res = client
                                .request(reqwest::Method::GET, &peer, "/echo", None)
                                .send()
                                .await
                                .unwrap();
                            let callee_trace_id =
                                res.headers()["x-trace-id"].to_str().unwrap().to_owned();
                            let seen: serde_json::Value = res.json().await.unwrap();
                            HttpResponse::Ok().json(serde_json::json!({
                                "sent": seen["traceparent"],
                                "callee_trace_id": callee_trace_id,
                            }))
                        }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        url
    }

    /// (x-trace-id, the traceparent the next service received, that service's x-trace-id).
    async fn call(caller: &str, traceparent: Option<&str>) -> (String, String, String) {
        let mut req = reqwest::Client::new().get(format!("{caller}/call"));
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        let trace_id = res.headers()["x-trace-id"].to_str().unwrap().to_owned();
        let body: serde_json::Value = res.json().await.unwrap();
        (
            trace_id,
            body["sent"]
                .as_str()
                .expect("a traceparent was sent")
                .to_owned(),
            body["callee_trace_id"].as_str().unwrap().to_owned(),
        )
    }

    /// No OpenTelemetry layer is installed in this test binary, as in a service run without
    /// an OTLP endpoint: the trace context must cross the hop all the same.
    #[actix_web::test]
    async fn without_an_exporter_one_trace_id_crosses_every_hop() {
        crate::install_crypto_provider();
        let callee = serve(None);
        let caller = serve(Some(callee));

        // A request that starts a trace.
        let (trace_id, sent, callee_trace_id) = call(&caller, None).await;
        assert_eq!(trace_id.len(), 32);
        assert_ne!(trace_id, "0".repeat(32));
        let parts: Vec<&str> = sent.split('-').collect();
        assert_eq!(parts.len(), 4, "{sent}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], trace_id, "the caller's trace id is sent on");
        assert_eq!(parts[2].len(), 16);
        assert_ne!(parts[2], "0".repeat(16));
        assert_eq!(parts[3], "01", "a trace started here is sampled");
        assert_eq!(
            callee_trace_id, trace_id,
            "the service answers in the same trace"
        );
        let (other, _, _) = call(&caller, None).await;
        assert_ne!(other, trace_id, "each request starts its own trace");

        // A request that continues the client's trace, unsampled: same trace, new span,
        // the client's flags kept.
        let client_trace = "0af7651916cd43dd8448eb211c80319c";
        let client_span = "b7ad6b7169203331";
        let (trace_id, sent, callee_trace_id) = call(
            &caller,
            Some(&format!("00-{client_trace}-{client_span}-00")),
        )
        .await;
        assert_eq!(trace_id, client_trace);
        assert_eq!(callee_trace_id, client_trace);
        let parts: Vec<&str> = sent.split('-').collect();
        assert_eq!(parts[1], client_trace);
        assert_ne!(parts[2], client_span, "the hop is a span of its own");
        assert_eq!(parts[3], "00");

        // A malformed traceparent is ignored: a new trace.
        let (trace_id, sent, _) = call(&caller, Some("00-not-a-trace-01")).await;
        assert_eq!(trace_id.len(), 32);
        assert!(sent.starts_with(&format!("00-{trace_id}-")));
    }
}

/// The time a caller still gives a request, in milliseconds (the gateway sends its route's
/// timeout, a little under it, so the service's answer arrives before the gateway gives up).
pub const DEADLINE_HEADER: HeaderName = HeaderName::from_static("x-request-deadline-ms");

/// A service's own limit on a request (`server.request_timeout_secs`); a caller's
/// [`DEADLINE_HEADER`] may shorten it, never lengthen it. Paths starting with one of
/// `untimed` (a scheduler's ticks, which keep their own budget) are not stopped.
#[derive(Debug, Clone, Copy)]
pub struct RequestBudget {
    pub limit: std::time::Duration,
    pub untimed: &'static [&'static str],
}

/// Stop a request that has not answered by its deadline: 504 `deadline_exceeded`. The
/// handler's future is dropped, and with it any transaction it held open (rolled back), so a
/// stalled database does not hold the request, its connection or the caller forever. Only the
/// response head is timed: a stream that has started runs on.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let budget = req.app_data::<RequestBudget>().copied();
    if budget.is_some_and(|b| b.untimed.iter().any(|p| req.path().starts_with(p))) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let own = budget.map_or(std::time::Duration::from_secs(300), |b| b.limit);
    let limit = req
        .headers()
        .get(&DEADLINE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(own, |ms| own.min(std::time::Duration::from_millis(ms)));
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(res) => res.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis() as u64,
                "request stopped at its deadline"
            );
            Err(crate::ApiError::new(
                crate::ErrorCode::DeadlineExceeded,
                "the request ran past its deadline and was stopped; anything it was writing was \
                 rolled back — check, then try again",
            )
            .into())
        }
    }
}
