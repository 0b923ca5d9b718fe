//! Writes to events, each in one transaction stamped by the user's change clock; deleted
//! events leave a tombstone for `/sync`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::{Value, json};
use shared::entities::event::{self, EventStatus, EventType};
use shared::entities::event_tombstone;
use shared::time::{local_midnight, now_micros};
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use super::clock;
use super::input::{EventInput, RepeatPattern};

/// Who is writing, for `created_by` and `ai_confidence`.
#[derive(Debug, Clone, Copy)]
pub enum Author {
    User,
    Agent { confidence: f64 },
    System,
}

/// The caller and their time zone (times without an offset are theirs).
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub user: Uuid,
    pub tz: Tz,
}

/// What a create made, as the original's answer tells it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Event,
    Habit,
    Routine,
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

fn resolve(t: Option<Option<shared::time::AppTime>>, tz: Tz) -> Option<Option<DateTime<Utc>>> {
    t.map(|v| v.map(|t| t.in_zone(tz)))
}

fn day_of(t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    local_midnight(tz, t.with_timezone(&tz).date_naive())
}

/// Apply what was sent. `event_date` follows `start_time` when the client moved the start
/// and the day was the one derived from it.
fn apply(m: &mut event::Model, input: EventInput, tz: Tz) {
    let old_start = m.start_time;
    let date_sent = input.event_date.is_some();
    macro_rules! set {
        ($($field:ident),+) => {$(
            if let Some(v) = input.$field {
                m.$field = v;
            }
        )+};
    }
    set!(
        description,
        notes,
        time_period,
        duration,
        energy_required,
        location,
        routine_batch_id,
        is_template,
        habit_interval,
        parent_event_id,
        project_id
    );
    if let Some(t) = input.title {
        m.title = t.trim().to_owned();
    }
    set!(
        urgency,
        importance,
        is_deep_work,
        event_type,
        category,
        is_physically_demanding,
        is_mentally_demanding
    );
    if let Some(v) = input.tags {
        m.tags = json!(v);
    }
    if let Some(v) = input.participants {
        m.participants = json!(v);
    }
    if let Some(v) = input.repeat_pattern {
        m.repeat_pattern = v.and_then(|p| serde_json::to_value(p).ok());
    }
    if let Some(v) = input.energy_consumption {
        m.energy_consumption = v.and_then(|e| serde_json::to_value(e).ok());
    }
    if let Some(v) = resolve(input.start_time, tz) {
        m.start_time = v;
    }
    if let Some(v) = resolve(input.end_time, tz) {
        m.end_time = v;
    }
    if let Some(v) = input.event_date {
        m.event_date = v.map(|d| local_midnight(tz, d.local_date(tz)));
    }
    if !date_sent
        && m.start_time != old_start
        && let Some(start) = m.start_time
        && (m.event_date.is_none() || m.event_date == old_start.map(|s| day_of(s, tz)))
    {
        m.event_date = Some(day_of(start, tz));
    }
    let completed_at = resolve(input.completed_at, tz);
    let started_at = resolve(input.started_at, tz);
    if let Some(status) = input.status {
        let now = now_micros();
        match status {
            EventStatus::Completed if m.status != EventStatus::Completed => {
                m.completed_at = Some(now);
            }
            EventStatus::InProgress if m.started_at.is_none() => m.started_at = Some(now),
            EventStatus::Pending | EventStatus::Cancelled => m.completed_at = None,
            _ => {}
        }
        m.status = status;
    }
    // A time sent wins; a `null` sent with the status that stamps it is the app echoing its
    // old copy, not a request to clear.
    if let Some(v) = completed_at
        && (v.is_some() || input.status != Some(EventStatus::Completed))
    {
        m.completed_at = v;
    }
    if let Some(v) = started_at
        && (v.is_some() || input.status != Some(EventStatus::InProgress))
    {
        m.started_at = v;
    }
}

fn check(m: &event::Model) -> Result<(), ApiError> {
    if let (Some(start), Some(end)) = (m.start_time, m.end_time)
        && end <= start
    {
        return Err(ApiError::validation("end_time must be after start_time"));
    }
    Ok(())
}

fn blank(owner: Owner, author: Author, id: Uuid, now: DateTime<Utc>) -> event::Model {
    let (created_by, ai_confidence) = match author {
        Author::User => ("user", 1.0),
        Author::Agent { confidence } => ("agent", confidence.clamp(0.0, 1.0)),
        Author::System => ("system", 1.0),
    };
    event::Model {
        id,
        user_id: owner.user,
        title: String::new(),
        description: None,
        notes: None,
        event_date: None,
        time_period: None,
        start_time: None,
        end_time: None,
        duration: None,
        energy_required: None,
        urgency: 3,
        importance: 3,
        is_deep_work: false,
        event_type: EventType::Floating,
        category: event::Category::Work,
        tags: json!([]),
        location: None,
        participants: json!([]),
        repeat_pattern: None,
        routine_batch_id: None,
        is_template: None,
        habit_interval: None,
        parent_event_id: None,
        habit_completed_count: None,
        habit_total_count: 21,
        energy_consumption: None,
        is_physically_demanding: false,
        is_mentally_demanding: false,
        project_id: None,
        status: EventStatus::Pending,
        completed_at: None,
        started_at: None,
        created_by: created_by.to_owned(),
        ai_confidence,
        ai_reasoning: None,
        created_at: now,
        updated_at: now,
        changed_at: now,
    }
}

async fn unbury<C: ConnectionTrait>(db: &C, user: Uuid, id: Uuid) -> Result<(), ApiError> {
    event_tombstone::Entity::delete_many()
        .filter(event_tombstone::Column::Id.eq(id))
        .filter(event_tombstone::Column::UserId.eq(user))
        .exec(db)
        .await?;
    Ok(())
}

pub(crate) async fn bury<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
    stamp: DateTime<Utc>,
) -> Result<(), ApiError> {
    event_tombstone::Entity::insert(event_tombstone::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        changed_at: Set(stamp),
    })
    .on_conflict(
        OnConflict::column(event_tombstone::Column::Id)
            .update_column(event_tombstone::Column::ChangedAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Insert `m` as a new row stamped now (its tombstone, if any, goes).
pub(crate) async fn insert_stamped<C: ConnectionTrait>(
    db: &C,
    mut m: event::Model,
    stamp: DateTime<Utc>,
) -> Result<event::Model, ApiError> {
    m.changed_at = stamp;
    unbury(db, m.user_id, m.id).await?;
    event::Entity::insert(m.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(m)
}

async fn save<C: ConnectionTrait>(
    db: &C,
    mut m: event::Model,
    stamp: DateTime<Utc>,
) -> Result<event::Model, ApiError> {
    m.changed_at = stamp;
    m.updated_at = now_micros();
    let active = m.into_active_model().reset_all();
    Ok(active.update(db).await?)
}

/// Create an event, or a habit or routine template (the original made a template, never
/// instances, for a `repeat_pattern` or a habit).
pub async fn create<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    author: Author,
    input: EventInput,
) -> Result<(Made, event::Model), ApiError> {
    let Some(title) = input.title.clone() else {
        return Err(ApiError::validation("title is required"));
    };
    if title.trim().is_empty() {
        return Err(ApiError::validation("title must be 1 to 200 characters"));
    }
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    let mut m = blank(owner, author, id, now_micros());
    let habit_asked =
        input.event_type == Some(EventType::Habit) || matches!(input.habit_interval, Some(Some(_)));
    apply(&mut m, input, owner.tz);
    m.status = EventStatus::Pending;
    m.completed_at = None;
    m.started_at = None;
    if m.event_date.is_none()
        && let Some(start) = m.start_time
    {
        m.event_date = Some(day_of(start, owner.tz));
    }
    check(&m)?;
    let made = if habit_asked {
        let interval = m.habit_interval.unwrap_or(1);
        let time = m
            .start_time
            .map(|s| s.with_timezone(&owner.tz).format("%H:%M").to_string());
        let pattern = RepeatPattern {
            kind: if interval == 1 { "daily" } else { "custom" }.to_owned(),
            weekdays: None,
            time,
            end_date: None,
            interval_days: (interval != 1).then(|| u16::try_from(interval).unwrap_or(1)),
        };
        m.repeat_pattern = serde_json::to_value(pattern).ok();
        m.habit_interval = Some(interval);
        m.is_template = Some(true);
        m.parent_event_id = None;
        Made::Habit
    } else if m.repeat_pattern.is_some() {
        m.is_template = Some(true);
        m.parent_event_id = None;
        Made::Routine
    } else {
        Made::Event
    };
    let txn = db.begin().await?;
    // The clock first: it is a write, so SQLite takes the write lock before any read.
    let stamp = clock::tick(&txn, owner.user).await?;
    if event::Entity::find_by_id(id).one(&txn).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::EventExists,
            "an event with this id already exists",
        ));
    }
    // Created at its stamp: `/sync` tells a creation from an update by `created_at`.
    m.created_at = stamp;
    m.updated_at = stamp;
    let m = insert_stamped(&txn, m, stamp).await?;
    txn.commit().await?;
    Ok((made, m))
}

/// What an update did: the event before and after, and the pending instances a changed
/// routine template dropped (the original deleted them so they are made again).
pub struct Updated {
    pub before: event::Model,
    pub after: event::Model,
    pub dropped: Vec<event::Model>,
}

pub async fn update<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    id: Uuid,
    input: EventInput,
) -> Result<Updated, ApiError> {
    if input.is_empty() {
        return Err(ApiError::validation("no fields to update"));
    }
    let repeat_changed = input.repeat_pattern.is_some();
    let txn = db.begin().await?;
    let stamp = clock::tick(&txn, owner.user).await?;
    let before = owned(&txn, owner.user, id).await?;
    let mut m = before.clone();
    apply(&mut m, input, owner.tz);
    check(&m)?;
    let mut dropped = Vec::new();
    if m.is_template == Some(true) && repeat_changed {
        dropped = event::Entity::find()
            .filter(event::Column::UserId.eq(owner.user))
            .filter(event::Column::ParentEventId.eq(id))
            .filter(event::Column::Status.eq(EventStatus::Pending))
            .all(&txn)
            .await?;
        for d in &dropped {
            event::Entity::delete_by_id(d.id).exec(&txn).await?;
            bury(&txn, owner.user, d.id, stamp).await?;
        }
    }
    let after = save(&txn, m, stamp).await?;
    txn.commit().await?;
    Ok(Updated {
        before,
        after,
        dropped,
    })
}

/// Mark done or not done (`complete`, `uncomplete`).
pub async fn set_status<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    id: Uuid,
    status: EventStatus,
) -> Result<Updated, ApiError> {
    let input = EventInput {
        status: Some(status),
        ..EventInput::default()
    };
    update(db, owner, id, input).await
}

/// What a delete removed, as the original's answer tells it.
pub enum Deleted {
    Single(Box<event::Model>),
    Series(Vec<event::Model>),
    Batch(Vec<event::Model>),
}

/// Delete one event; with `series`, a routine instance takes its template and every instance
/// with it, and a habit instance cancels the batch's pending instances (as the original).
pub async fn delete<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    id: Uuid,
    series: bool,
) -> Result<Deleted, ApiError> {
    let txn = db.begin().await?;
    let stamp = clock::tick(&txn, owner.user).await?;
    let current = owned(&txn, owner.user, id).await?;
    let result = if series && let Some(parent) = current.parent_event_id {
        let mut rows = event::Entity::find()
            .filter(event::Column::UserId.eq(owner.user))
            .filter(event::Column::ParentEventId.eq(parent))
            .all(&txn)
            .await?;
        if let Some(t) = event::Entity::find_by_id(parent)
            .filter(event::Column::UserId.eq(owner.user))
            .one(&txn)
            .await?
        {
            rows.push(t);
        }
        for r in &rows {
            event::Entity::delete_by_id(r.id).exec(&txn).await?;
            bury(&txn, owner.user, r.id, stamp).await?;
        }
        Deleted::Series(rows)
    } else if series && let Some(batch) = current.routine_batch_id.clone() {
        let rows = event::Entity::find()
            .filter(event::Column::UserId.eq(owner.user))
            .filter(event::Column::RoutineBatchId.eq(batch))
            .filter(event::Column::Status.eq(EventStatus::Pending))
            .all(&txn)
            .await?;
        for r in &rows {
            let mut c = r.clone();
            c.status = EventStatus::Cancelled;
            save(&txn, c, stamp).await?;
        }
        Deleted::Batch(rows)
    } else {
        event::Entity::delete_by_id(id).exec(&txn).await?;
        bury(&txn, owner.user, id, stamp).await?;
        Deleted::Single(Box::new(current))
    };
    txn.commit().await?;
    Ok(result)
}

/// The instance of a template for `date`: the existing one, or a new one with the
/// template's fields and the pattern's time on that day (the original's `instances`).
pub async fn instance<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    template_id: Uuid,
    date: NaiveDate,
) -> Result<event::Model, ApiError> {
    let txn = db.begin().await?;
    let stamp = clock::tick(&txn, owner.user).await?;
    let template = owned(&txn, owner.user, template_id).await?;
    if template.is_template != Some(true) {
        return Err(ApiError::validation(
            "this event is not a template; instances are made from templates only",
        ));
    }
    let day = local_midnight(owner.tz, date);
    let next_day = local_midnight(owner.tz, date + Duration::days(1));
    if let Some(existing) = event::Entity::find()
        .filter(event::Column::UserId.eq(owner.user))
        .filter(event::Column::ParentEventId.eq(template_id))
        .filter(event::Column::EventDate.gte(day))
        .filter(event::Column::EventDate.lt(next_day))
        .one(&txn)
        .await?
    {
        return Ok(existing);
    }
    let pattern_time = template
        .repeat_pattern
        .as_ref()
        .and_then(|p| p.get("time").and_then(Value::as_str))
        .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok());
    let start = match (pattern_time, template.start_time) {
        (Some(t), _) => Some(shared::time::AppTime::Local(date.and_time(t)).in_zone(owner.tz)),
        (None, Some(s)) => {
            let t = s.with_timezone(&owner.tz).time();
            Some(shared::time::AppTime::Local(date.and_time(t)).in_zone(owner.tz))
        }
        (None, None) => None,
    };
    let end = start.map(|s| {
        s + Duration::minutes(i64::from(
            template.duration.filter(|d| *d > 0).unwrap_or(60),
        ))
    });
    let now = now_micros();
    let mut m = blank(owner, Author::System, Uuid::now_v7(), now);
    m.title = template.title.clone();
    m.description = template.description.clone();
    m.notes = template.notes.clone();
    m.event_date = Some(day);
    m.time_period = template.time_period;
    m.start_time = start;
    m.end_time = end;
    m.duration = template.duration;
    m.energy_required = template.energy_required;
    m.urgency = template.urgency;
    m.importance = template.importance;
    m.is_deep_work = template.is_deep_work;
    m.event_type = template.event_type;
    m.category = template.category;
    m.tags = template.tags.clone();
    m.location = template.location.clone();
    m.participants = template.participants.clone();
    m.is_template = Some(false);
    m.parent_event_id = Some(template_id);
    m.habit_completed_count = template.habit_completed_count;
    m.habit_total_count = template.habit_total_count;
    m.energy_consumption = template.energy_consumption.clone();
    m.is_physically_demanding = template.is_physically_demanding;
    m.is_mentally_demanding = template.is_mentally_demanding;
    m.project_id = template.project_id;
    m.created_at = stamp;
    m.updated_at = stamp;
    let m = insert_stamped(&txn, m, stamp).await?;
    txn.commit().await?;
    Ok(m)
}
