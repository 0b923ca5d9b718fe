//! Internal routes for svc-scheduler: write a diary, update a profile (idempotent per
//! (user, date) for diaries).

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::ErrorCode;
use shared::contracts::UpcomingEvent;
use uuid::Uuid;

use crate::diary::{self as d, DiaryOutcome};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/internal/diaries/generate", web::post().to(diary))
        .route("/internal/profiles/daily", web::post().to(daily))
        .route("/internal/profiles/weekly", web::post().to(weekly))
        .route("/internal/events/upcoming", web::get().to(upcoming));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
}

/// Pending events of every user starting in `[from, to)` (at most a day), for reminders.
pub async fn upcoming(
    state: web::Data<AppState>,
    q: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use shared::entities::event;
    if q.to <= q.from || q.to - q.from > chrono::Duration::days(1) {
        return Err(ApiError::validation(
            "the window must be positive and at most a day",
        ));
    }
    let rows = event::Entity::find()
        .filter(event::Column::Status.eq(event::EventStatus::Pending))
        .filter(event::Column::StartTime.gte(q.from))
        .filter(event::Column::StartTime.lt(q.to))
        .filter(
            sea_orm::Condition::any()
                .add(event::Column::IsTemplate.is_null())
                .add(event::Column::IsTemplate.eq(false)),
        )
        .order_by_asc(event::Column::StartTime)
        .limit(10_000)
        .all(&state.db)
        .await?;
    let out: Vec<UpcomingEvent> = rows
        .into_iter()
        .filter_map(|e| {
            Some(UpcomingEvent {
                id: e.id,
                location: e.location,
                start_time: e.start_time?,
                title: e.title,
                user_id: e.user_id,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    user_id: Uuid,
    date: NaiveDate,
}

pub async fn diary(
    state: web::Data<AppState>,
    body: web::Json<Target>,
) -> Result<HttpResponse, ApiError> {
    let (status, id) = match d::generate(&state, body.user_id, body.date).await? {
        DiaryOutcome::Written(x) => ("written", Some(x.id)),
        DiaryOutcome::Existing(x) => ("exists", Some(x.id)),
        DiaryOutcome::Skipped => ("skipped", None),
    };
    Ok(HttpResponse::Ok().json(json!({"status": status, "diary_id": id})))
}

fn log_status(l: &shared::entities::profile_log::Model) -> &'static str {
    if l.status == "applied" {
        "done"
    } else if l.status == "failed" {
        "failed"
    } else {
        "skipped"
    }
}

pub async fn daily(
    state: web::Data<AppState>,
    body: web::Json<Target>,
) -> Result<HttpResponse, ApiError> {
    let log = d::daily_profile(&state, body.user_id, body.date).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"status": log_status(&log), "log": super::diaries::log_view(&log)})))
}

pub async fn weekly(
    state: web::Data<AppState>,
    body: web::Json<Target>,
) -> Result<HttpResponse, ApiError> {
    let log = d::weekly_profile(&state, body.user_id, body.date).await?;
    if log.status == "failed" {
        return Err(ApiError::bad_gateway(
            ErrorCode::LlmFailed,
            log.error.unwrap_or_default(),
        ));
    }
    Ok(HttpResponse::Ok()
        .json(json!({"status": log_status(&log), "log": super::diaries::log_view(&log)})))
}
