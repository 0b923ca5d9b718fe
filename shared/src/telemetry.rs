//! Logs and traces.
//!
//! `tracing` everywhere; JSON lines in production, compact text locally. Every request has a
//! W3C trace id that crosses internal hops (`trace_context`); OpenTelemetry spans are built
//! and exported over OTLP/HTTP only when an endpoint is configured.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Settings;

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Flushes spans on drop, so the last requests of a run reach the collector.
pub struct TelemetryGuard;

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        shutdown();
    }
}

pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
    }
}

/// Install the global subscriber for a service. Call once, from `main`.
pub fn init(settings: &Settings, service_name: &'static str) -> TelemetryGuard {
    let exporter = settings
        .telemetry
        .otlp_endpoint
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .and_then(|endpoint| match otlp_exporter(endpoint) {
            Ok(exporter) => Some(exporter),
            Err(e) => {
                eprintln!("OTLP exporter disabled: {e}");
                None
            }
        });
    let json = settings
        .telemetry
        .json_logs
        .unwrap_or(settings.is_production());
    let level = if settings.app.debug {
        "debug"
    } else {
        settings.app.log_level.as_str()
    };
    install(service_name, level, json, exporter.map(Export::Batch));
    TelemetryGuard
}

/// For tests: spans go to the given exporter synchronously; logs to the test writer.
pub fn init_for_tests<E: SpanExporter + 'static>(service_name: &'static str, exporter: E) {
    install(service_name, "warn", false, Some(Export::Simple(exporter)));
}

enum Export<E> {
    Batch(E),
    Simple(E),
}

fn install<E: SpanExporter + 'static>(
    service_name: &'static str,
    level: &str,
    json: bool,
    export: Option<Export<E>>,
) {
    let filter = EnvFilter::try_new(format!(
        "{level},h2=warn,hyper=warn,sqlx=warn,sea_orm=warn,reqwest=warn"
    ))
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_target(false)
            .boxed()
    };
    // Spans are built for OpenTelemetry only when something exports them: without an
    // exporter the layer would assemble every request's span (attributes, ids, timestamps)
    // only to drop it, a tenth of a proxied request's CPU in the gateway. Trace context
    // crosses the hops either way (`trace_context::for_request`).
    let otel = export.map(|export| {
        let builder = SdkTracerProvider::builder().with_resource(
            Resource::builder()
                .with_service_name(service_name)
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        let provider = match export {
            Export::Batch(e) => builder.with_batch_exporter(e),
            Export::Simple(e) => builder.with_simple_exporter(e),
        }
        .build();
        let tracer = provider.tracer(service_name);
        global::set_tracer_provider(provider.clone());
        let _ = PROVIDER.set(provider);
        // Log verbosity is the log level; spans reach OpenTelemetry from `info` up regardless,
        // and only warnings and errors are attached to them as span events.
        let otel_filter = tracing_subscriber::filter::filter_fn(|meta| {
            let floor = if meta.is_span() {
                tracing::Level::INFO
            } else {
                tracing::Level::WARN
            };
            *meta.level() <= floor
        });
        // No thread attributes (a string copied per span), no busy/idle timings (two clock
        // reads per poll), no code location (the same three attributes on every request
        // span) and no OpenTelemetry context attached on every poll of an instrumented future
        // (nothing here reads `Context::current()`: outgoing calls take the request's span
        // context, `trace_context::inject_current`). Each was a visible share of a proxied
        // request's instructions (callgrind).
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_location(false)
            .with_context_activation(false)
            .with_filter(otel_filter)
    });
    // Not `.with(otel)` on the `Option`: an absent layer would declare interest in every
    // callsite and have each disabled span re-checked at run time.
    let logs = tracing_subscriber::registry().with(fmt.with_filter(filter));
    let _ = match otel {
        Some(otel) => logs.with(otel).try_init(),
        None => logs.try_init(),
    };
}

fn otlp_exporter(endpoint: &str) -> Result<opentelemetry_otlp::SpanExporter, String> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let endpoint = format!(
        "{}/v1/traces",
        endpoint
            .trim_end_matches('/')
            .trim_end_matches("/v1/traces")
    );
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(TokioReqwest { client, runtime })
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| e.to_string())
}

/// Runs each export on the service's tokio runtime: the SDK's batch processor drives
/// exports from its own thread, where reqwest's async client has no reactor.
#[derive(Debug)]
struct TokioReqwest {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for TokioReqwest {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let task = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let mut builder = client
                .request(parts.method, parts.uri.to_string())
                .body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = builder.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            let mut out = Response::builder().status(status);
            if let Some(h) = out.headers_mut() {
                *h = headers;
            }
            Ok::<_, HttpError>(out.body(body)?)
        });
        task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::Tracer as _;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_reach_an_otlp_http_collector_when_an_endpoint_is_configured() {
        crate::install_crypto_provider();
        let collector = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/traces"))
            .and(header("content-type", "application/x-protobuf"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1..)
            .mount(&collector)
            .await;
        let exporter = otlp_exporter(&collector.uri()).unwrap();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .build();
        provider
            .tracer("test")
            .in_span("exported-operation", |_| {});
        let flushed = tokio::task::spawn_blocking(move || provider.force_flush())
            .await
            .unwrap();
        assert!(flushed.is_ok(), "{flushed:?}");
        collector.verify().await;
        let body = &collector.received_requests().await.unwrap()[0].body;
        assert!(
            body.windows(b"exported-operation".len())
                .any(|w| w == b"exported-operation")
        );
    }
}
