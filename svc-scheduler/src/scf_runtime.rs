//! Tencent SCF custom-runtime event functions: the runtime API loop.
//!
//! SCF starts `bootstrap`, which runs `svc-scheduler scf-runtime` (or plain `svc-scheduler`
//! with `SCF_RUNTIME_API` set). It reports ready at `POST /runtime/init/ready`, then loops:
//! `GET /runtime/invocation/next` gives an event (a timer: `{"Type":"Timer",...}`), the tick
//! runs, and the summary goes to `POST /runtime/invocation/response` (or the error to
//! `/runtime/invocation/error`).

use std::time::Duration;

use chrono::Utc;

use crate::jobs::runner;
use crate::state::Ctx;

/// `http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT`, when both are set.
pub fn runtime_api_from_env() -> Option<String> {
    let host = std::env::var("SCF_RUNTIME_API")
        .ok()
        .filter(|h| !h.is_empty())?;
    let port = std::env::var("SCF_RUNTIME_API_PORT")
        .ok()
        .filter(|p| !p.is_empty())?;
    Some(format!("http://{host}:{port}"))
}

/// Serve invocations until `next` fails persistently (the platform is tearing down).
pub async fn run(ctx: &Ctx, api: &str) -> anyhow::Result<()> {
    // The long poll for the next event has no timeout of ours.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    http.post(format!("{api}/runtime/init/ready"))
        .send()
        .await?
        .error_for_status()?;
    tracing::info!("SCF runtime ready");
    let mut failures = 0u32;
    loop {
        let event = match http
            .get(format!("{api}/runtime/invocation/next"))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.bytes().await?,
            other => {
                failures += 1;
                if failures > 5 {
                    anyhow::bail!("the runtime API stopped answering: {other:?}");
                }
                tokio::time::sleep(Duration::from_millis(200 * u64::from(failures))).await;
                continue;
            }
        };
        failures = 0;
        let outcome = handle(ctx, &event).await;
        let (path, body) = match outcome {
            Ok(summary) => ("response", summary),
            Err(e) => {
                tracing::error!(error = %e, "invocation failed");
                ("error", serde_json::json!({"errorMessage": e}).to_string())
            }
        };
        http.post(format!("{api}/runtime/invocation/{path}"))
            .body(body)
            .send()
            .await?
            .error_for_status()?;
    }
}

async fn handle(ctx: &Ctx, event: &[u8]) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(event).map_err(|e| format!("the event is not JSON: {e}"))?;
    if value["Type"] != "Timer" {
        return Err(format!("unhandled event type {}", value["Type"]));
    }
    tracing::info!(trigger = %value["TriggerName"], time = %value["Time"], "SCF timer");
    let summary = runner::tick(ctx, "scf", Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    serde_json::to_string(&summary).map_err(|e| e.to_string())
}
