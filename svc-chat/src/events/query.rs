//! Reading events: the filtered list the app shows, a day, overlaps, and the JSON it reads.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::NullOrdering;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::event::{self, Category, EventStatus, EventType, TimePeriod};
use uuid::Uuid;

use super::recur;

/// Filters of `GET /events` (the original's query parameters).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `[from, to)`: an event is in range by its `event_date`, or by its start when it has
    /// no date.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<EventStatus>,
    pub event_type: Option<EventType>,
    pub category: Option<Category>,
    pub time_period: Option<TimePeriod>,
    pub project_id: Option<Uuid>,
    /// `false`: instances and one-off events; `true`: templates only.
    pub templates: bool,
    pub limit: u64,
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    f: &Filter,
) -> Result<Vec<event::Model>, ApiError> {
    let mut cond = Condition::all().add(event::Column::UserId.eq(user));
    if f.templates {
        cond = cond.add(event::Column::IsTemplate.eq(true));
    } else {
        cond = cond.add(
            Condition::any()
                .add(event::Column::IsTemplate.is_null())
                .add(event::Column::IsTemplate.eq(false)),
        );
    }
    if let Some(from) = f.from {
        cond = cond.add(
            Condition::any()
                .add(event::Column::EventDate.gte(from))
                .add(
                    Condition::all()
                        .add(event::Column::EventDate.is_null())
                        .add(event::Column::StartTime.gte(from)),
                ),
        );
    }
    if let Some(to) = f.to {
        cond = cond.add(
            Condition::any().add(event::Column::EventDate.lt(to)).add(
                Condition::all()
                    .add(event::Column::EventDate.is_null())
                    .add(event::Column::StartTime.lt(to)),
            ),
        );
    }
    if let Some(s) = f.status {
        cond = cond.add(event::Column::Status.eq(s));
    }
    if let Some(t) = f.event_type {
        cond = cond.add(event::Column::EventType.eq(t));
    }
    if let Some(c) = f.category {
        cond = cond.add(event::Column::Category.eq(c));
    }
    if let Some(p) = f.time_period {
        cond = cond.add(event::Column::TimePeriod.eq(p));
    }
    if let Some(p) = f.project_id {
        cond = cond.add(event::Column::ProjectId.eq(p));
    }
    Ok(event::Entity::find()
        .filter(cond)
        .order_by_with_nulls(event::Column::EventDate, Order::Asc, NullOrdering::Last)
        .order_by_with_nulls(event::Column::StartTime, Order::Asc, NullOrdering::Last)
        .order_by_asc(event::Column::Id)
        .limit(f.limit)
        .all(db)
        .await?)
}

/// The end of a timed event for overlap checks: its end, else start + duration, else an hour.
fn end_of(e: &event::Model, start: DateTime<Utc>) -> DateTime<Utc> {
    e.end_time
        .or_else(|| {
            e.duration
                .filter(|d| *d > 0)
                .map(|d| start + Duration::minutes(i64::from(d)))
        })
        .unwrap_or(start + Duration::hours(1))
}

/// Timed events, not cancelled and not templates, overlapping `[start, end)`.
pub async fn conflicts<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<event::Model>, ApiError> {
    if end <= start {
        return Err(ApiError::validation("end_time must be after start_time"));
    }
    let candidates = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::Status.ne(EventStatus::Cancelled))
        .filter(
            Condition::any()
                .add(event::Column::IsTemplate.is_null())
                .add(event::Column::IsTemplate.eq(false)),
        )
        .filter(event::Column::StartTime.lt(end))
        .filter(event::Column::StartTime.gte(start - Duration::days(31)))
        .order_by_asc(event::Column::StartTime)
        .all(db)
        .await?;
    Ok(candidates
        .into_iter()
        .filter(|e| Some(e.id) != except && e.start_time.is_some_and(|s| end_of(e, s) > start))
        .collect())
}

fn local(t: Option<DateTime<Utc>>, tz: Tz) -> Value {
    t.map_or(Value::Null, |t| json!(t.with_timezone(&tz).to_rfc3339()))
}

/// The original's `EventResponse`: the event's own times in the owner's zone with its
/// offset, bookkeeping times in UTC.
pub fn view(e: &event::Model, tz: Tz) -> Value {
    json!({
        "id": e.id, "user_id": e.user_id, "title": e.title,
        "description": e.description, "notes": e.notes,
        "event_date": local(e.event_date, tz), "time_period": e.time_period,
        "start_time": local(e.start_time, tz), "end_time": local(e.end_time, tz),
        "duration": e.duration, "energy_required": e.energy_required,
        "urgency": e.urgency, "importance": e.importance, "is_deep_work": e.is_deep_work,
        "event_type": e.event_type, "category": e.category, "tags": e.tags,
        "location": e.location, "participants": e.participants,
        "repeat_pattern": e.repeat_pattern, "routine_batch_id": e.routine_batch_id,
        "is_template": e.is_template, "habit_interval": e.habit_interval,
        "parent_event_id": e.parent_event_id,
        "energy_consumption": e.energy_consumption,
        "is_physically_demanding": e.is_physically_demanding,
        "is_mentally_demanding": e.is_mentally_demanding,
        "project_id": e.project_id, "status": e.status,
        "created_at": e.created_at, "updated_at": e.updated_at,
        "completed_at": e.completed_at, "started_at": e.started_at,
        "created_by": e.created_by, "ai_confidence": e.ai_confidence,
        "ai_reasoning": e.ai_reasoning,
        "habit_completed_count": e.habit_completed_count,
        "habit_total_count": e.habit_total_count,
        "is_virtual": false, "template_id": null, "subtasks": [],
    })
}

/// An occurrence of a template not yet made, as the app lists it.
#[derive(Debug, Clone)]
pub struct Virtual {
    pub template: event::Model,
    /// The instance it would be (`id` is the template's; see `virtual_view`).
    pub model: event::Model,
    pub date: NaiveDate,
}

/// The original's virtual instance: the instance the template would make that day, with
/// `id` `virtual_<template>_<YYYYMMDD>`, `is_virtual`, `template_id`, and the template's
/// pattern (the app shows a repeat icon from it).
pub fn virtual_view(v: &Virtual, tz: Tz) -> Value {
    let mut out = view(&v.model, tz);
    out["id"] = json!(recur::virtual_id(v.template.id, v.date));
    out["is_virtual"] = json!(true);
    out["template_id"] = json!(v.template.id);
    out["repeat_pattern"] = v.template.repeat_pattern.clone().unwrap_or(Value::Null);
    out["created_at"] = json!(v.template.created_at);
    out["updated_at"] = json!(v.template.updated_at);
    out["created_by"] = json!(v.template.created_by);
    out["ai_confidence"] = json!(v.template.ai_confidence);
    out["ai_reasoning"] = json!(v.template.ai_reasoning);
    out
}

/// Occurrences of the user's templates (those `f` selects by type, category, period and
/// project) on the days in `[from, to)` (by their local midnight, as events are listed),
/// or starting in it with `by_start`, skipping days already made into an instance or
/// cancelled. Only pending occurrences exist, so a status filter other than PENDING gives
/// none. More than `recur::MAX_OCCURRENCES` is refused.
pub async fn occurrences<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    f: &Filter,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    tz: Tz,
    by_start: bool,
) -> Result<Vec<Virtual>, ApiError> {
    if f.status.is_some_and(|s| s != EventStatus::Pending) || to <= from {
        return Ok(Vec::new());
    }
    let templates = list(
        db,
        user,
        &Filter {
            templates: true,
            from: None,
            to: None,
            status: None,
            limit: 5000,
            ..f.clone()
        },
    )
    .await?;
    let series: Vec<(event::Model, recur::Series)> = templates
        .into_iter()
        // A cancelled series (a habit given up) has no more days.
        .filter(|t| t.status != EventStatus::Cancelled)
        .filter_map(|t| recur::Series::of(&t, tz).map(|s| (t, s)))
        .collect();
    if series.is_empty() {
        return Ok(Vec::new());
    }
    // Days made into instances (any status: a completed one is no longer virtual).
    let margin = Duration::days(2);
    let made: HashSet<(Uuid, NaiveDate)> = event::Entity::find()
        .select_only()
        .column(event::Column::ParentEventId)
        .column(event::Column::EventDate)
        .column(event::Column::StartTime)
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ParentEventId.is_in(series.iter().map(|(t, _)| t.id)))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(event::Column::EventDate.gte(from - margin))
                        .add(event::Column::EventDate.lt(to + margin)),
                )
                .add(
                    Condition::all()
                        .add(event::Column::StartTime.gte(from - margin))
                        .add(event::Column::StartTime.lt(to + margin)),
                ),
        )
        .into_tuple::<(Option<Uuid>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(p, d, s)| Some((p?, d.or(s)?.with_timezone(&tz).date_naive())))
        .collect();
    let mut out = Vec::new();
    for (t, s) in series {
        let (lo, hi) = if by_start {
            (from, to)
        } else {
            (from - Duration::days(1), to + Duration::days(1))
        };
        let left = recur::MAX_OCCURRENCES - out.len();
        let occs = s
            .between(lo, hi, tz, &recur::exdates(&t), left)
            .map_err(|e| ApiError::validation(e.0))?;
        for o in occs {
            let day = shared::time::local_midnight(tz, o.date);
            if made.contains(&(t.id, o.date)) || (!by_start && (day < from || day >= to)) {
                continue;
            }
            let model = super::store::occurrence_model(&t, o, tz, t.id, t.created_at);
            out.push(Virtual {
                template: t.clone(),
                model,
                date: o.date,
            });
        }
    }
    out.sort_by_key(|v| (v.model.event_date, v.model.start_time, v.template.id));
    Ok(out)
}

/// Occurrences of timed series overlapping `[start, end)`, for conflict checks.
pub async fn occurrence_conflicts<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    tz: Tz,
    except: Option<Uuid>,
) -> Result<Vec<Virtual>, ApiError> {
    let list = occurrences(
        db,
        user,
        &Filter::default(),
        (start - Duration::days(1), end),
        tz,
        true,
    )
    .await?;
    Ok(list
        .into_iter()
        .filter(|v| {
            Some(v.template.id) != except
                && v.model
                    .start_time
                    .is_some_and(|s| s < end && end_of(&v.model, s) > start)
        })
        .collect())
}

/// Events and occurrences in one list, by day and time (events without a day last).
pub fn merged(real: &[event::Model], virt: &[Virtual], tz: Tz) -> Vec<Value> {
    let mut all: Vec<(&event::Model, Value)> = real
        .iter()
        .map(|e| (e, view(e, tz)))
        .chain(virt.iter().map(|v| (&v.model, virtual_view(v, tz))))
        .collect();
    all.sort_by_key(|(m, _)| (m.event_date.is_none(), m.event_date, m.start_time));
    all.into_iter().map(|(_, v)| v).collect()
}
