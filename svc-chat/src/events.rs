//! Events: validation, queries and changes, shared by the REST routes and the model's tools.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::event;
use uuid::Uuid;

pub const CATEGORIES: &[&str] = &[
    "work", "study", "life", "health", "social", "exercise", "other",
];
pub const EVENT_TYPES: &[&str] = &[
    "task",
    "meeting",
    "appointment",
    "reminder",
    "habit",
    "other",
];
pub const STATUSES: &[&str] = &["pending", "completed", "cancelled"];

/// Fields a client or the model may set. On update, absent fields stay as they are.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub duration: Option<i32>,
    pub event_type: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub location: Option<String>,
    pub status: Option<String>,
}

fn check(input: &EventInput) -> Result<(), ApiError> {
    if let Some(t) = &input.title
        && (t.trim().is_empty() || t.chars().count() > 200)
    {
        return Err(ApiError::validation("title must be 1 to 200 characters"));
    }
    if input
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 5000)
    {
        return Err(ApiError::validation(
            "description is longer than 5000 characters",
        ));
    }
    if input
        .location
        .as_ref()
        .is_some_and(|d| d.chars().count() > 200)
    {
        return Err(ApiError::validation(
            "location is longer than 200 characters",
        ));
    }
    if let Some(c) = &input.category
        && !CATEGORIES.contains(&c.as_str())
    {
        return Err(ApiError::validation(format!(
            "category must be one of {}",
            CATEGORIES.join(", ")
        )));
    }
    if let Some(c) = &input.event_type
        && !EVENT_TYPES.contains(&c.as_str())
    {
        return Err(ApiError::validation(format!(
            "event_type must be one of {}",
            EVENT_TYPES.join(", ")
        )));
    }
    if let Some(c) = &input.status
        && !STATUSES.contains(&c.as_str())
    {
        return Err(ApiError::validation(format!(
            "status must be one of {}",
            STATUSES.join(", ")
        )));
    }
    if let Some(d) = input.duration
        && !(1..=60 * 24 * 31).contains(&d)
    {
        return Err(ApiError::validation("duration must be 1 to 44640 minutes"));
    }
    if input
        .tags
        .as_ref()
        .is_some_and(|t| t.len() > 20 || t.iter().any(|x| x.chars().count() > 50))
    {
        return Err(ApiError::validation(
            "at most 20 tags of at most 50 characters",
        ));
    }
    Ok(())
}

fn finish(m: &event::Model) -> Result<(), ApiError> {
    if let Some(end) = m.end_time
        && end <= m.start_time
    {
        return Err(ApiError::validation("end_time must be after start_time"));
    }
    Ok(())
}

fn apply(m: &mut event::ActiveModel, input: EventInput) {
    if let Some(v) = input.title {
        m.title = Set(v.trim().to_owned());
    }
    if let Some(v) = input.description {
        m.description = Set(Some(v));
    }
    if let Some(v) = input.start_time {
        m.start_time = Set(v);
    }
    if let Some(v) = input.end_time {
        m.end_time = Set(Some(v));
    }
    if let Some(v) = input.duration {
        m.duration = Set(Some(v));
    }
    if let Some(v) = input.event_type {
        m.event_type = Set(v);
    }
    if let Some(v) = input.category {
        m.category = Set(v);
    }
    if let Some(v) = input.tags {
        m.tags = Set(serde_json::json!(v));
    }
    if let Some(v) = input.location {
        m.location = Set(Some(v));
    }
    if let Some(v) = input.status {
        m.status = Set(v);
    }
}

pub async fn create<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    input: EventInput,
) -> Result<event::Model, ApiError> {
    check(&input)?;
    let start = input
        .start_time
        .ok_or_else(|| ApiError::validation("start_time is required"))?;
    if input.title.is_none() {
        return Err(ApiError::validation("title is required"));
    }
    let now = Utc::now();
    let mut m = event::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        title: Set(String::new()),
        description: Set(None),
        start_time: Set(start),
        end_time: Set(None),
        duration: Set(None),
        event_type: Set("task".into()),
        category: Set("other".into()),
        tags: Set(serde_json::json!([])),
        location: Set(None),
        status: Set("pending".into()),
        completed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let duration = input.duration;
    let has_end = input.end_time.is_some();
    apply(&mut m, input);
    if !has_end && let Some(d) = duration {
        m.end_time = Set(Some(start + Duration::minutes(i64::from(d))));
    }
    let model: event::Model =
        sea_orm::TryIntoModel::try_into_model(m.clone()).map_err(ApiError::internal)?;
    finish(&model)?;
    Ok(m.insert(db).await?)
}

pub async fn owned<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<event::Model, ApiError> {
    event::Entity::find_by_id(id)
        .filter(event::Column::UserId.eq(user))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::EventNotFound, "no such event"))
}

pub async fn update<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
    input: EventInput,
) -> Result<event::Model, ApiError> {
    check(&input)?;
    let current = owned(db, user, id).await?;
    let completing = input.status.as_deref() == Some("completed") && current.status != "completed";
    let mut m: event::ActiveModel = current.into();
    apply(&mut m, input);
    if completing {
        m.completed_at = Set(Some(Utc::now()));
    }
    m.updated_at = Set(Utc::now());
    let model: event::Model =
        sea_orm::TryIntoModel::try_into_model(m.clone()).map_err(ApiError::internal)?;
    finish(&model)?;
    Ok(m.update(db).await?)
}

pub async fn delete<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<event::Model, ApiError> {
    let current = owned(db, user, id).await?;
    event::Entity::delete_by_id(id).exec(db).await?;
    Ok(current)
}

/// The end of an event for overlap checks: its end, else start + duration, else start + 1 h.
fn end_of(e: &event::Model) -> DateTime<Utc> {
    e.end_time
        .or_else(|| {
            e.duration
                .map(|d| e.start_time + Duration::minutes(i64::from(d)))
        })
        .unwrap_or(e.start_time + Duration::hours(1))
}

/// Pending events overlapping `[start, end)`.
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
        .filter(event::Column::Status.ne("cancelled"))
        .filter(event::Column::StartTime.lt(end))
        .filter(event::Column::StartTime.gte(start - Duration::days(31)))
        .order_by_asc(event::Column::StartTime)
        .all(db)
        .await?;
    Ok(candidates
        .into_iter()
        .filter(|e| Some(e.id) != except && end_of(e) > start)
        .collect())
}

/// Events starting in `[from, to)`, optionally of one status.
pub async fn between<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    status: Option<&str>,
) -> Result<Vec<event::Model>, ApiError> {
    let mut cond = Condition::all()
        .add(event::Column::UserId.eq(user))
        .add(event::Column::StartTime.gte(from))
        .add(event::Column::StartTime.lt(to));
    if let Some(s) = status {
        cond = cond.add(event::Column::Status.eq(s));
    }
    Ok(event::Entity::find()
        .filter(cond)
        .order_by_asc(event::Column::StartTime)
        .limit(500)
        .all(db)
        .await?)
}

/// Midnight of `date` in `tz`, as UTC.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let naive = date.and_time(chrono::NaiveTime::MIN);
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

/// The JSON clients see (compat field names).
pub fn view(e: &event::Model) -> serde_json::Value {
    serde_json::json!({
        "id": e.id, "title": e.title, "description": e.description,
        "start_time": e.start_time, "end_time": e.end_time, "duration": e.duration,
        "event_type": e.event_type, "category": e.category, "tags": e.tags,
        "location": e.location, "status": e.status, "completed_at": e.completed_at,
        "created_at": e.created_at, "updated_at": e.updated_at,
    })
}
