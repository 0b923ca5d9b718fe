//! `/events`: the original's routes, bodies and answers.

use actix_web::{HttpResponse, web};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::event::{Category, EventStatus, EventType, TimePeriod};
use shared::internal_auth::UserId;
use shared::time::AppTime;
use uuid::Uuid;

use crate::events::query::{EventView, virtual_view};
use crate::events::store::{self, Scope, Target};
use crate::events::{self as ev, Author, EventInput, Filter, Made, Owner};
use crate::state::AppState;

async fn owner(state: &AppState, user: Uuid) -> Result<Owner, ApiError> {
    Ok(Owner {
        user,
        tz: state.timezone(user).await?,
    })
}

/// A range bound: a date means that whole day (an end date includes its day), a time is
/// that instant.
fn bound(s: &str, owner: Owner, end: bool) -> Result<chrono::DateTime<Utc>, ApiError> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end { d + Duration::days(1) } else { d };
        return Ok(ev::local_midnight(owner.tz, d));
    }
    let t = AppTime::parse(s).ok_or_else(|| {
        ApiError::validation(format!(
            "{s:?} is not a date (YYYY-MM-DD) or a time (ISO 8601)"
        ))
    })?;
    let t = t.in_zone(owner.tz);
    // The original's end bound was inclusive.
    Ok(if end {
        t + Duration::microseconds(1)
    } else {
        t
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    status: Option<EventStatus>,
    event_type: Option<EventType>,
    category: Option<Category>,
    time_period: Option<TimePeriod>,
    project_id: Option<Uuid>,
    #[serde(default)]
    include_templates: bool,
    /// Occurrences of repeating templates in the range, not yet made (default: yes).
    expand_virtual: Option<bool>,
    limit: Option<u64>,
    /// Sent by old clients; the token decides whose events these are.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `GET /events` → `{instances, templates}`. Without a range: the current month in the
/// user's zone; a project's events without a range: all of them.
pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let limit = q.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 1000"));
    }
    let today = Utc::now().with_timezone(&owner.tz).date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let next_month = (month_start + Duration::days(32))
        .with_day(1)
        .unwrap_or(today);
    let month = (
        ev::local_midnight(owner.tz, month_start),
        ev::local_midnight(owner.tz, next_month),
    );
    let (from, to) = match (&q.start_date, &q.end_date) {
        (None, None) if q.project_id.is_some() => (None, None),
        (from, to) => (
            Some(match from {
                Some(s) => bound(s, owner, false)?,
                None => ev::local_midnight(owner.tz, month_start),
            }),
            Some(match to {
                Some(s) => bound(s, owner, true)?,
                None => ev::local_midnight(owner.tz, next_month),
            }),
        ),
    };
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err(ApiError::validation(
            "end_date must not be before start_date",
        ));
    }
    let mut filter = Filter {
        from,
        to,
        status: q.status,
        event_type: q.event_type,
        category: q.category,
        time_period: q.time_period,
        project_id: q.project_id,
        templates: false,
        limit,
    };
    // The stored instances and the series' days are read at once.
    let (instances, occurrences) =
        tokio::try_join!(ev::query::list(&state.db, user, &filter), async {
            if q.expand_virtual.unwrap_or(true) {
                let range = from.zip(to).unwrap_or(month);
                ev::query::occurrences(&state.db, user, &filter, range, owner.tz, false).await
            } else {
                Ok(Vec::new())
            }
        })?;
    let templates = if q.include_templates {
        filter.templates = true;
        filter.from = None;
        filter.to = None;
        ev::query::list(&state.db, user, &filter).await?
    } else {
        Vec::new()
    };
    Ok(HttpResponse::Ok().json(Listing {
        instances: ev::query::merged(&instances, &occurrences, owner.tz),
        templates: templates
            .iter()
            .map(|e| EventView::of(e, owner.tz))
            .collect(),
    }))
}

/// `GET /events`' answer, written straight from the rows.
#[derive(Serialize)]
struct Listing<'a> {
    instances: Vec<EventView<'a>>,
    templates: Vec<EventView<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TodayQuery {
    status: Option<EventStatus>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `GET /events/today`: the user's day, in their zone.
pub async fn today(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<TodayQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let today = Utc::now().with_timezone(&owner.tz).date_naive();
    let filter = Filter {
        from: Some(ev::local_midnight(owner.tz, today)),
        to: Some(ev::local_midnight(owner.tz, today + Duration::days(1))),
        status: q.status,
        limit: 100,
        ..Filter::default()
    };
    let list = ev::query::list(&state.db, user, &filter).await?;
    let range = filter.from.zip(filter.to).unwrap_or_default();
    let occ = ev::query::occurrences(&state.db, user, &filter, range, owner.tz, false).await?;
    Ok(HttpResponse::Ok().json(ev::query::merged(&list, &occ, owner.tz)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    start_time: AppTime,
    end_time: AppTime,
    exclude_event_id: Option<Uuid>,
    /// This API's earlier name for `exclude_event_id`.
    exclude_id: Option<Uuid>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `GET /events/conflicts` → the overlapping events (the original declared it after
/// `/events/{event_id}`, which shadowed it; here it is reachable).
pub async fn conflicts(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let (start, end) = (q.start_time.in_zone(owner.tz), q.end_time.in_zone(owner.tz));
    let except = q.exclude_event_id.or(q.exclude_id);
    let list = ev::query::conflicts(&state.db, user, start, end, except).await?;
    let occ =
        ev::query::occurrence_conflicts(&state.db, user, (start, end), owner.tz, except).await?;
    Ok(HttpResponse::Ok().json(ev::query::merged(&list, &occ, owner.tz)))
}

/// `POST /events` → 201 `{type:"event", event}`, or `{type:"habit"|"routine", template,
/// message}` for a repeating one.
pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let input = EventInput::from_json(body.into_inner())?;
    let (made, e) = store::create(&state.db, owner, Author::User, input).await?;
    let view = ev::view(&e, owner.tz);
    Ok(HttpResponse::Created().json(match made {
        Made::Event => json!({"type": "event", "event": view}),
        Made::Habit => json!({
            "type": "habit", "template": view,
            "message": "Habit template created. Instances will be created on-demand.",
        }),
        Made::Routine => json!({
            "type": "routine", "template": view,
            "message": "Routine template created. Instances will be created on-demand.",
        }),
    }))
}

/// `GET /events/{id}`: an event, or an occurrence by its virtual id.
pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    match Target::parse(&path)? {
        Target::Real(id) => {
            let e = ev::owned(&state.db, user, id).await?;
            Ok(HttpResponse::Ok().json(ev::view(&e, owner.tz)))
        }
        Target::Occurrence(template, date) => {
            let day = (
                ev::local_midnight(owner.tz, date),
                ev::local_midnight(owner.tz, date + Duration::days(1)),
            );
            let list = ev::query::occurrences(
                &state.db,
                user,
                &ev::Filter::default(),
                day,
                owner.tz,
                false,
            )
            .await?;
            let v = list
                .iter()
                .find(|v| v.template.id == template && v.date == date)
                .ok_or_else(|| ApiError::new(shared::ErrorCode::EventNotFound, "no such event"))?;
            Ok(HttpResponse::Ok().json(virtual_view(v, owner.tz)))
        }
    }
}

/// The stored event a write acts on: an occurrence is made into an instance first (as the
/// app does with `POST /events/{id}/instances` before editing one).
async fn stored(state: &AppState, owner: ev::Owner, target: Target) -> Result<Uuid, ApiError> {
    Ok(match target {
        Target::Real(id) => id,
        Target::Occurrence(template, date) => {
            store::instance(&state.db, owner, template, date)
                .await?
                .0
                .id
        }
    })
}

/// `PUT /events/{id}`: what was sent changes; the app's own copy of the event (with `id`,
/// `user_id`, timestamps) is accepted and those fields ignored. An occurrence's virtual id
/// changes that day only.
pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let target = Target::parse(&path)?;
    let input = EventInput::update_from_json(body.into_inner())?;
    let routine = input.repeat_pattern.is_some();
    let id = stored(&state, owner, target).await?;
    let u = store::update(&state.db, owner, id, input).await?;
    let view = ev::view(&u.after, owner.tz);
    Ok(
        HttpResponse::Ok().json(if routine && u.after.is_template == Some(true) {
            json!({
                "type": "routine", "template": view, "instances": [],
                "message": "Routine template updated. Instances will be created on-demand.",
            })
        } else {
            json!({"type": "event", "event": view})
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// `true`/`all`: the whole series; `following`: this day and the ones after;
    /// `false`/`this` (default): this one.
    delete_series: Option<String>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `DELETE /events/{id}[?delete_series=true|following]` → 200 with what went.
pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
    q: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let scope = Scope::parse(q.delete_series.as_deref())?;
    let target = Target::parse(&path)?;
    let r = store::delete(&state.db, owner, target, scope).await?;
    Ok(HttpResponse::Ok().json(match r.kind {
        "single" => json!({"deleted": "single", "id": path.as_str()}),
        kind => json!({"deleted": kind, "count": r.count()}),
    }))
}

async fn set_status(
    state: &AppState,
    user: Uuid,
    path: &str,
    status: EventStatus,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(state, user).await?;
    let id = stored(state, owner, Target::parse(path)?).await?;
    let u = store::set_status(&state.db, owner, id, status).await?;
    Ok(HttpResponse::Ok().json(ev::view(&u.after, owner.tz)))
}

/// `POST /events/{id}/complete`: an event or an occurrence (made into an instance).
pub async fn complete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_status(&state, user, &path, EventStatus::Completed).await
}

pub async fn uncomplete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_status(&state, user, &path, EventStatus::Pending).await
}

#[derive(Debug, Deserialize)]
pub struct InstanceBody {
    target_date: String,
}

/// `POST /events/{id}/instances {target_date}` → 201 with the instance, made now or before
/// (the original answered 201 to both).
pub async fn instance(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<InstanceBody>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let date = NaiveDate::parse_from_str(body.target_date.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::validation("target_date must be YYYY-MM-DD"))?;
    let (e, _) = store::instance(&state.db, owner, path.into_inner(), date).await?;
    Ok(HttpResponse::Created().json(ev::view(&e, owner.tz)))
}
