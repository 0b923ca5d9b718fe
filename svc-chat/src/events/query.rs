//! Reading events: the filtered list the app shows, a day, overlaps, and the JSON it reads.

use chrono::{DateTime, Duration, Utc};
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
