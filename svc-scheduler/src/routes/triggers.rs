//! Timer entry points: Alibaba FC (`POST /invoke`, routed by `x-fc-control-path`), Tencent
//! SCF (`POST /event-invoke`), and internal routes to run a tick or one job.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use uuid::Uuid;

use crate::jobs::Job;
use crate::jobs::runner::{self, RunOptions};
use crate::state::Ctx;

/// FC timer body: `{"triggerTime","triggerName","payload"}`. The tick runs at the real time:
/// the trigger time only goes to the log (a late or repeated event does the same work).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FcTimer {
    trigger_time: Option<String>,
    trigger_name: Option<String>,
}

/// SCF timer body: `{"Type":"Timer","TriggerName","Time","Message"}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScfTimer {
    #[serde(rename = "Type")]
    kind: Option<String>,
    trigger_name: Option<String>,
    time: Option<String>,
}

/// A database that cannot be reached is 503 `database_unavailable` (the next trigger carries
/// on where this one stopped); anything else 500.
fn tick_error(e: sea_orm::DbErr) -> ApiError {
    ApiError::from(e)
}

pub async fn fc_invoke(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let path = req
        .headers()
        .get("x-fc-control-path")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/invoke");
    if path != "/invoke" {
        return Err(ApiError::new(
            ErrorCode::UnknownControlPath,
            format!("{path} is not handled here"),
        ));
    }
    // FC sends the event as application/octet-stream; an API invocation may send anything.
    let event: Option<FcTimer> = serde_json::from_slice(&body).ok();
    tracing::info!(
        trigger = event
            .as_ref()
            .and_then(|e| e.trigger_name.as_deref())
            .unwrap_or("-"),
        trigger_time = event
            .as_ref()
            .and_then(|e| e.trigger_time.as_deref())
            .unwrap_or("-"),
        "FC timer"
    );
    let summary = runner::tick(&ctx, "fc", Utc::now())
        .await
        .map_err(tick_error)?;
    Ok(HttpResponse::Ok().json(summary))
}

pub async fn scf_event(ctx: web::Data<Ctx>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let event: ScfTimer = serde_json::from_slice(&body)
        .map_err(|e| ApiError::validation(format!("not an SCF event: {e}")))?;
    if event.kind.as_deref() != Some("Timer") {
        return Err(ApiError::validation("only Timer events are handled"));
    }
    tracing::info!(
        trigger = event.trigger_name.as_deref().unwrap_or("-"),
        time = event.time.as_deref().unwrap_or("-"),
        "SCF timer"
    );
    let summary = runner::tick(&ctx, "scf", Utc::now())
        .await
        .map_err(tick_error)?;
    Ok(HttpResponse::Ok().json(summary))
}

/// The body of `POST /internal/tick`, optional.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TickBody {
    /// Pretend the time is this: which daily items are due and which doses and events are
    /// reminded (tests and catch-up runs). Claims, leases and retries keep the real clock.
    now: Option<DateTime<Utc>>,
}

/// An optional JSON body: none is the default, a bad one is 400 (never quietly ignored).
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}")))
}

pub async fn internal_tick(
    ctx: web::Data<Ctx>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: TickBody = optional_body(&body)?;
    let now = body.now.unwrap_or_else(Utc::now);
    let summary = runner::tick(&ctx, "api", now).await.map_err(tick_error)?;
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    date: Option<NaiveDate>,
    user: Option<Uuid>,
    /// Pretend the time is this (tests and catch-up runs).
    now: Option<DateTime<Utc>>,
}

pub async fn run_one(
    ctx: web::Data<Ctx>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let job =
        Job::parse(&path).ok_or_else(|| ApiError::new(ErrorCode::JobNotFound, "no such job"))?;
    let body: RunBody = optional_body(&body)?;
    let budget = Duration::seconds(i64::try_from(ctx.settings.run_budget_secs).unwrap_or(240));
    let options = RunOptions {
        period: body.date,
        user: body.user,
        progress: None,
    };
    let summary = runner::run_job(
        &ctx,
        job,
        "api",
        body.now.unwrap_or_else(Utc::now),
        Utc::now() + budget,
        &options,
    )
    .await
    .map_err(tick_error)?;
    Ok(HttpResponse::Ok().json(summary))
}
