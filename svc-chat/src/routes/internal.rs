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
        .route("/internal/checkins/generate", web::post().to(checkin))
        .route("/internal/profiles/daily", web::post().to(daily))
        .route("/internal/profiles/weekly", web::post().to(weekly))
        .route("/internal/events/upcoming", web::get().to(upcoming))
        .route("/internal/habits/replenish", web::post().to(replenish));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckinRequest {
    user_id: Uuid,
    kind: String,
    date: NaiveDate,
}

/// Decide (once) the user's check-in of a day: `sent` with its title, body and the chat
/// message it became, or `skipped` with the reason.
pub async fn checkin(
    state: web::Data<AppState>,
    body: web::Json<CheckinRequest>,
) -> Result<HttpResponse, ApiError> {
    let kind = crate::checkin::Kind::parse(&body.kind).ok_or_else(|| {
        ApiError::validation("kind must be morning, afternoon, evening or closing")
    })?;
    Ok(HttpResponse::Ok()
        .json(crate::checkin::generate(&state, body.user_id, kind, body.date).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
}

/// Pending events of every user starting in `[from, to)` (at most a day), for reminders,
/// with the days of every timed routine and habit not yet made into instances.
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
    let mut out: Vec<UpcomingEvent> = rows
        .into_iter()
        .filter_map(|e| {
            Some(UpcomingEvent {
                id: e.id,
                location: e.location,
                start_time: e.start_time?,
                title: e.title,
                user_id: e.user_id,
                series_id: e.parent_event_id,
                virtual_id: None,
            })
        })
        .collect();
    out.extend(occurrences_starting(&state, q.from, q.to).await?);
    out.sort_by_key(|e| e.start_time);
    Ok(HttpResponse::Ok().json(out))
}

/// Days of timed series starting in `[from, to)` and not made into instances (made ones are
/// events above, whatever their status), over every user's templates.
async fn occurrences_starting(
    state: &AppState,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<UpcomingEvent>, ApiError> {
    use crate::events::recur::{self, Series};
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
    use shared::entities::event;
    use std::collections::{HashMap, HashSet};
    let templates = event::Entity::find()
        .filter(event::Column::IsTemplate.eq(true))
        .filter(event::Column::Status.ne(event::EventStatus::Cancelled))
        .all(&state.db)
        .await?;
    let mut zones: HashMap<Uuid, chrono_tz::Tz> = HashMap::new();
    let mut due = Vec::new();
    for t in templates {
        // A stored rule carries its zone; one written before rules were stored is read in
        // its owner's zone.
        let zone = match zones.get(&t.user_id) {
            Some(z) => *z,
            None => {
                let z = state.timezone(t.user_id).await?;
                zones.insert(t.user_id, z);
                z
            }
        };
        let Some(series) = Series::of(&t, zone).filter(Series::timed) else {
            continue;
        };
        let Ok(days) = series.between(from, to, zone, &recur::exdates(&t), 100) else {
            continue;
        };
        for o in days {
            if let Some(start) = o.start {
                let midnight = shared::time::local_midnight(zone, o.date);
                due.push((t.clone(), o.date, start, midnight));
            }
        }
    }
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // Days made into instances, by template and the series day each stands for (its
    // recurrence date; an instance made before that was stored, by its own day).
    type Made = (
        Option<Uuid>,
        Option<NaiveDate>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let owners: HashMap<Uuid, Uuid> = due.iter().map(|(t, ..)| (t.id, t.user_id)).collect();
    let margin = chrono::Duration::days(2);
    let made: HashSet<(Uuid, NaiveDate)> = event::Entity::find()
        .select_only()
        .column(event::Column::ParentEventId)
        .column(event::Column::RecurrenceDate)
        .column(event::Column::EventDate)
        .filter(event::Column::ParentEventId.is_in(due.iter().map(|(t, ..)| t.id)))
        .filter(
            Condition::any()
                .add(
                    event::Column::RecurrenceDate
                        .between((from - margin).date_naive(), (to + margin).date_naive()),
                )
                .add(
                    Condition::all()
                        .add(event::Column::RecurrenceDate.is_null())
                        .add(event::Column::EventDate.gte(from - margin))
                        .add(event::Column::EventDate.lt(to + margin)),
                ),
        )
        .into_tuple::<Made>()
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|(p, r, d)| {
            let p = p?;
            let day = match r {
                Some(r) => r,
                None => {
                    let d = d?;
                    let zone = zones.get(owners.get(&p)?)?;
                    d.with_timezone(zone).date_naive()
                }
            };
            Some((p, day))
        })
        .collect();
    Ok(due
        .into_iter()
        .filter(|(t, date, _, _)| !made.contains(&(t.id, *date)))
        .map(|(t, date, start, _)| UpcomingEvent {
            id: t.id,
            location: t.location,
            start_time: start,
            title: t.title,
            user_id: t.user_id,
            series_id: Some(t.id),
            virtual_id: Some(recur::virtual_id(t.id, date)),
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replenish {
    user_id: Uuid,
    date: NaiveDate,
}

/// The daily habit replenishment for one user (svc-scheduler's `habit-replenish` job):
/// `{status: done|skipped, extended}`.
pub async fn replenish(
    state: web::Data<AppState>,
    body: web::Json<Replenish>,
) -> Result<HttpResponse, ApiError> {
    let owner = crate::events::Owner {
        user: body.user_id,
        tz: state.timezone(body.user_id).await?,
    };
    let n = crate::habits::replenish(&state.db, owner, body.date).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": if n == 0 { "skipped" } else { "done" },
        "extended": n,
    })))
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
    // The day's lasting facts go into memory beside the profile; a model failure there does
    // not undo the profile (the next night's job tries that day no more: it is logged).
    let memory = match crate::memory::consolidate(&state, body.user_id, body.date).await {
        Ok(applied) => json!(applied),
        Err(e) => {
            tracing::warn!(error = %e, "memory consolidation failed");
            json!({"status": "failed", "code": e.code})
        }
    };
    Ok(HttpResponse::Ok().json(json!({
        "status": log_status(&log), "log": super::diaries::log_view(&log), "memory": memory,
    })))
}

pub async fn weekly(
    state: web::Data<AppState>,
    body: web::Json<Target>,
) -> Result<HttpResponse, ApiError> {
    let log = d::weekly_profile(&state, body.user_id, body.date).await?;
    let compacted = crate::memory::compact(&state, body.user_id).await?;
    tracing::debug!(compacted, "memories compacted");
    if log.status == "failed" {
        return Err(ApiError::bad_gateway(
            ErrorCode::LlmFailed,
            log.error.unwrap_or_default(),
        ));
    }
    Ok(HttpResponse::Ok()
        .json(json!({"status": log_status(&log), "log": super::diaries::log_view(&log)})))
}
