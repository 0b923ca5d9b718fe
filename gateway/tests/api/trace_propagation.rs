use opentelemetry::trace::{SpanId, TraceId};
use reqwest::StatusCode;
use shared::testing::TestDatabase;

use crate::helpers::{spans, spawn_app_with};

#[tokio::test]
async fn one_trace_id_spans_the_gateway_and_the_service_behind_it() {
    shared::install_crypto_provider();
    spans();
    let database = TestDatabase::create().await.unwrap();
    let mut settings = database.settings();
    settings.storage.upload_dir =
        std::env::temp_dir().join(format!("trace-{}", uuid::Uuid::new_v4()));
    let drugs = svc_drugs::startup::build(&settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", drugs.port());
    tokio::spawn(drugs.run_until_stopped(std::future::pending()));
    let app = spawn_app_with(|s| s.services.drugs = base).await;
    let session = app.register("trent").await;

    let path = format!("/api/v1/drugs/{}", uuid::Uuid::new_v4());
    let res = app.get_authed(&path, &session.access).await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "svc-drugs answers: no such drug"
    );
    let trace_header = res.headers()["x-trace-id"].to_str().unwrap().to_owned();

    let mut matching = Vec::new();
    for _ in 0..50 {
        matching = spans()
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| {
                s.attributes
                    .iter()
                    .any(|kv| kv.key.as_str() == "url.path" && kv.value.as_str() == path.as_str())
            })
            .collect::<Vec<_>>();
        if matching.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        matching.len(),
        2,
        "one server span in the gateway, one in svc-drugs"
    );
    let trace_id = matching[0].span_context.trace_id();
    assert_ne!(trace_id, TraceId::INVALID);
    assert_eq!(matching[1].span_context.trace_id(), trace_id);
    assert_eq!(trace_id.to_string(), trace_header);
    // The gateway names its proxied request by the route's prefix (not "unmatched"), and never
    // by the path with its id.
    let route = |s: &opentelemetry_sdk::trace::SpanData| {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == "http.route")
            .map(|kv| kv.value.as_str().into_owned())
    };
    assert!(
        matching
            .iter()
            .any(|s| route(s).as_deref() == Some("/api/v1/drugs/*")
                && s.name == "GET /api/v1/drugs/*"),
        "{:?}",
        matching
            .iter()
            .map(|s| (s.name.clone(), route(s)))
            .collect::<Vec<_>>()
    );
    let ids: Vec<SpanId> = matching.iter().map(|s| s.span_context.span_id()).collect();
    assert!(
        matching.iter().any(|s| ids.contains(&s.parent_span_id)),
        "the service span is a child of the gateway span"
    );
}
