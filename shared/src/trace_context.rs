//! W3C trace context across hops: extracted from inbound requests (actix's header map) and
//! injected into outbound ones (the `http` header map of reqwest and hyper).
//!
//! A request's span context comes from its OpenTelemetry span when spans are exported, and is
//! made here otherwise (same ids, same generator, same parent rules), so a trace id crosses
//! every hop whether or not anything records it, without building a span nobody exports.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::request_id;

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

struct ActixHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for ActixHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The caller's trace context (`traceparent`, `tracestate`), if it sent a valid one.
pub fn extract(headers: &actix_web::http::header::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&ActixHeaders(headers))
}

/// The span context a request is served under: its OpenTelemetry span's when that span is
/// recorded (an exporter is configured), otherwise a new span id in the caller's trace (or in
/// a new trace), as the SDK would have made it: the caller's flags and trace state are kept,
/// a trace started here is sampled.
pub fn for_request(span: &tracing::Span, parent: &Context) -> SpanContext {
    let recorded = span.context().span().span_context().clone();
    if recorded.is_valid() {
        return recorded;
    }
    let ids = RandomIdGenerator::default();
    let caller = parent.span();
    let caller = caller.span_context();
    let (trace_id, flags, state) = if caller.is_valid() {
        (
            caller.trace_id(),
            caller.trace_flags(),
            caller.trace_state().clone(),
        )
    } else {
        (
            ids.new_trace_id(),
            TraceFlags::SAMPLED,
            TraceState::default(),
        )
    };
    debug_assert_ne!(trace_id, TraceId::INVALID);
    SpanContext::new(trace_id, ids.new_span_id(), flags, false, state)
}

/// Writes `traceparent` (and `tracestate`, when it has entries) for the request being served
/// (or, outside a request, the current tracing span) into `headers`.
pub fn inject_current(headers: &mut HeaderMap) {
    let sc = request_id::current_trace().unwrap_or_else(|| {
        tracing::Span::current()
            .context()
            .span()
            .span_context()
            .clone()
    });
    if !sc.is_valid() {
        return;
    }
    headers.insert(TRACEPARENT, traceparent(&sc));
    let state = sc.trace_state().header();
    if !state.is_empty()
        && let Ok(v) = HeaderValue::from_str(&state)
    {
        headers.insert(TRACESTATE, v);
    }
}

/// `00-<trace id>-<span id>-<flags>`, as the SDK's `TraceContextPropagator` writes it, without
/// its trip through `format!` and the global propagator's lock on every internal call. Marked
/// sensitive, which over HTTP/2 means "never indexed": a value that never repeats would only
/// churn the connection's header table (and every lookup in it) at both ends.
pub fn traceparent(sc: &SpanContext) -> HeaderValue {
    let flags = (sc.trace_flags() & TraceFlags::SAMPLED).to_u8();
    let mut buf = [0u8; 55];
    buf[..3].copy_from_slice(b"00-");
    buf[35] = b'-';
    buf[52] = b'-';
    let written = hex::encode_to_slice(sc.trace_id().to_bytes(), &mut buf[3..35])
        .and(hex::encode_to_slice(
            sc.span_id().to_bytes(),
            &mut buf[36..52],
        ))
        .and(hex::encode_to_slice([flags], &mut buf[53..55]));
    let mut value = match written {
        Ok(()) => HeaderValue::from_bytes(&buf).unwrap_or(HeaderValue::from_static("")),
        Err(_) => HeaderValue::from_static(""),
    };
    value.set_sensitive(true);
    value
}

/// A trace id as the 32 hex digits logs and `x-trace-id` show.
pub fn trace_id_hex(sc: &SpanContext) -> String {
    hex::encode(sc.trace_id().to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::propagation::{Injector, TextMapPropagator};
    use opentelemetry::trace::{SpanId, TraceId, TraceState};
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use std::collections::HashMap;

    struct Map(HashMap<String, String>);

    impl Injector for Map {
        fn set(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
    }

    #[test]
    fn traceparent_is_written_as_the_sdk_propagator_writes_it() {
        for flags in [
            TraceFlags::SAMPLED,
            TraceFlags::default(),
            TraceFlags::new(0xff),
        ] {
            let sc = SpanContext::new(
                TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
                SpanId::from_hex("b7ad6b7169203331").unwrap(),
                flags,
                true,
                TraceState::default(),
            );
            let mut sdk = Map(HashMap::new());
            TraceContextPropagator::new().inject_context(
                &Context::new().with_remote_span_context(sc.clone()),
                &mut sdk,
            );
            let ours = traceparent(&sc);
            assert_eq!(ours.to_str().unwrap(), sdk.0["traceparent"]);
            assert!(ours.is_sensitive());
            assert_eq!(trace_id_hex(&sc), sc.trace_id().to_string());
        }
    }
}
