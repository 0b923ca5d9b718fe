//! Reading events: the filtered list the app shows, a day, overlaps, and the JSON it reads.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::NullOrdering;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Serialize, Serializer};
use serde_json::Value;
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

/// A time of the event's own in the owner's zone with its offset (RFC 3339), or `null`.
#[derive(Debug, Clone, Copy)]
struct Local(Option<DateTime<Utc>>, Tz);

impl Serialize for Local {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(t) => s.serialize_str(&t.with_timezone(&self.1).to_rfc3339()),
            None => s.serialize_none(),
        }
    }
}

/// An event's id: its own, or a virtual instance's `virtual_<template>_<YYYYMMDD>`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum Id {
    Real(Uuid),
    Virtual(String),
}

/// The original's `EventResponse`: the event's own times in the owner's zone with its
/// offset, bookkeeping times in UTC. Written straight from the rows it borrows (a month of
/// a planner's days is hundreds of these); the fields are in alphabetical order, as the
/// `serde_json::Value` form [`view`] gives them.
#[derive(Debug, Clone, Serialize)]
pub struct EventView<'a> {
    ai_confidence: f64,
    ai_reasoning: &'a Option<String>,
    category: Category,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    created_by: &'a str,
    description: &'a Option<String>,
    duration: Option<i32>,
    end_time: Local,
    energy_consumption: &'a Option<Value>,
    energy_required: Option<event::EnergyLevel>,
    event_date: Local,
    event_type: EventType,
    habit_completed_count: Option<i32>,
    habit_interval: Option<i32>,
    habit_total_count: i32,
    id: Id,
    importance: i32,
    is_deep_work: bool,
    is_mentally_demanding: bool,
    is_physically_demanding: bool,
    is_template: Option<bool>,
    is_virtual: bool,
    location: &'a Option<String>,
    notes: &'a Option<String>,
    parent_event_id: Option<Uuid>,
    participants: &'a Value,
    project_id: Option<Uuid>,
    repeat_pattern: &'a Option<Value>,
    routine_batch_id: &'a Option<String>,
    start_time: Local,
    started_at: Option<DateTime<Utc>>,
    status: EventStatus,
    subtasks: [(); 0],
    tags: &'a Value,
    template_id: Option<Uuid>,
    time_period: Option<TimePeriod>,
    title: &'a str,
    updated_at: DateTime<Utc>,
    urgency: i32,
    user_id: Uuid,
    /// Where the event sorts in a list: by day, then time (events without a day last).
    #[serde(skip)]
    order: (bool, Option<DateTime<Utc>>, Option<DateTime<Utc>>),
}

impl<'a> EventView<'a> {
    pub fn of(e: &'a event::Model, tz: Tz) -> EventView<'a> {
        EventView {
            ai_confidence: e.ai_confidence,
            ai_reasoning: &e.ai_reasoning,
            category: e.category,
            completed_at: e.completed_at,
            created_at: e.created_at,
            created_by: &e.created_by,
            description: &e.description,
            duration: e.duration,
            end_time: Local(e.end_time, tz),
            energy_consumption: &e.energy_consumption,
            energy_required: e.energy_required,
            event_date: Local(e.event_date, tz),
            event_type: e.event_type,
            habit_completed_count: e.habit_completed_count,
            habit_interval: e.habit_interval,
            habit_total_count: e.habit_total_count,
            id: Id::Real(e.id),
            importance: e.importance,
            is_deep_work: e.is_deep_work,
            is_mentally_demanding: e.is_mentally_demanding,
            is_physically_demanding: e.is_physically_demanding,
            is_template: e.is_template,
            is_virtual: false,
            location: &e.location,
            notes: &e.notes,
            parent_event_id: e.parent_event_id,
            participants: &e.participants,
            project_id: e.project_id,
            repeat_pattern: &e.repeat_pattern,
            routine_batch_id: &e.routine_batch_id,
            start_time: Local(e.start_time, tz),
            started_at: e.started_at,
            status: e.status,
            subtasks: [],
            tags: &e.tags,
            template_id: None,
            time_period: e.time_period,
            title: &e.title,
            updated_at: e.updated_at,
            urgency: e.urgency,
            user_id: e.user_id,
            order: (e.event_date.is_none(), e.event_date, e.start_time),
        }
    }

    /// The original's virtual instance: the instance the template would make that day, with
    /// `id` `virtual_<template>_<YYYYMMDD>`, `is_virtual`, `template_id`, and the
    /// template's pattern (the app shows a repeat icon from it) and authorship.
    pub fn occurrence(v: &'a Virtual, tz: Tz) -> EventView<'a> {
        let t = &*v.template;
        EventView {
            id: Id::Virtual(recur::virtual_id(t.id, v.date)),
            is_virtual: true,
            template_id: Some(t.id),
            repeat_pattern: &t.repeat_pattern,
            created_at: t.created_at,
            updated_at: t.updated_at,
            created_by: &t.created_by,
            ai_confidence: t.ai_confidence,
            ai_reasoning: &t.ai_reasoning,
            ..EventView::of(&v.model, tz)
        }
    }
}

/// [`EventView`] as a `serde_json::Value`, for answers that add to it.
pub fn view(e: &event::Model, tz: Tz) -> Value {
    serde_json::to_value(EventView::of(e, tz)).unwrap_or(Value::Null)
}

/// An occurrence of a template not yet made, as the app lists it.
#[derive(Debug, Clone)]
pub struct Virtual {
    /// Shared by all of its days.
    pub template: Arc<event::Model>,
    /// The instance it would be (`id` is the template's; see [`EventView::occurrence`]).
    pub model: event::Model,
    pub date: NaiveDate,
}

/// [`EventView::occurrence`] as a `serde_json::Value`.
pub fn virtual_view(v: &Virtual, tz: Tz) -> Value {
    serde_json::to_value(EventView::occurrence(v, tz)).unwrap_or(Value::Null)
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
    let series: Vec<(Arc<event::Model>, recur::Series)> = templates
        .into_iter()
        // A cancelled series (a habit given up) has no more days.
        .filter(|t| t.status != EventStatus::Cancelled)
        .filter_map(|t| recur::Series::of(&t, tz).map(|s| (Arc::new(t), s)))
        .collect();
    if series.is_empty() {
        return Ok(Vec::new());
    }
    // Days made into instances (any status: a completed one is no longer virtual), by the
    // series day each stands for (an instance moved to another day still stands for its
    // own); instances made before that was stored by their own day in the user's zone.
    let margin = Duration::days(2);
    let (lo_day, hi_day) = ((from - margin).date_naive(), (to + margin).date_naive());
    let made: HashSet<(Uuid, NaiveDate)> = event::Entity::find()
        .select_only()
        .column(event::Column::ParentEventId)
        .column(event::Column::RecurrenceDate)
        .column(event::Column::EventDate)
        .column(event::Column::StartTime)
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ParentEventId.is_in(series.iter().map(|(t, _)| t.id)))
        .filter(
            Condition::any()
                .add(event::Column::RecurrenceDate.between(lo_day, hi_day))
                .add(
                    Condition::all()
                        .add(event::Column::RecurrenceDate.is_null())
                        .add(
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
                        ),
                ),
        )
        .into_tuple::<(
            Option<Uuid>,
            Option<NaiveDate>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        )>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(p, r, d, s)| {
            let day = r.or_else(|| Some(d.or(s)?.with_timezone(&tz).date_naive()))?;
            Some((p?, day))
        })
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
                template: Arc::clone(&t),
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
pub fn merged<'a>(real: &'a [event::Model], virt: &'a [Virtual], tz: Tz) -> Vec<EventView<'a>> {
    let mut all: Vec<EventView<'a>> = real
        .iter()
        .map(|e| EventView::of(e, tz))
        .chain(virt.iter().map(|v| EventView::occurrence(v, tz)))
        .collect();
    all.sort_by_key(|v| v.order);
    all
}
