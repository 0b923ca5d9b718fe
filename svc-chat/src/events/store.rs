//! Writes to events, each in one transaction stamped by the user's change clock; deleted
//! events leave a tombstone for `/sync`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::json;
use shared::entities::event::{self, EventStatus, EventType};
use shared::entities::event_tombstone;
use shared::time::{local_midnight, now_micros};
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use super::clock;
use super::input::{EventInput, RepeatPattern};
use super::recur::{self, Occurrence, Series};

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
    let old_parent = m.parent_event_id;
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
    // A day of one series stands for nothing once it leaves that series or becomes a
    // template.
    if m.parent_event_id != old_parent || m.is_template == Some(true) {
        m.recurrence_date = None;
    }
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

/// A template's rule from its pattern, day and time (none for other events).
pub(crate) fn set_rule(m: &mut event::Model, tz: Tz) -> Result<(), ApiError> {
    m.rrule = if m.is_template == Some(true) {
        recur::derive(m, tz).map_err(|e| ApiError::validation(e.0))?
    } else {
        None
    };
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
        rrule: None,
        exdates: None,
        recurrence_date: None,
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

pub(crate) async fn save<C: ConnectionTrait>(
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
    if made != Made::Event {
        // The batch id the app's habit routes use; one series, one batch.
        m.routine_batch_id.get_or_insert_with(|| id.to_string());
    }
    set_rule(&mut m, owner.tz)?;
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
    set_rule(&mut m, owner.tz)?;
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

/// Which event a route or tool names: a stored one, or an occurrence of a template not yet
/// made (`virtual_<template>_<YYYYMMDD>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Real(Uuid),
    Occurrence(Uuid, NaiveDate),
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, ApiError> {
        if let Ok(id) = s.parse() {
            return Ok(Target::Real(id));
        }
        recur::parse_virtual_id(s)
            .map(|(t, d)| Target::Occurrence(t, d))
            .ok_or_else(|| ApiError::new(ErrorCode::EventNotFound, "no such event"))
    }
}

/// How much of a series a delete takes: this one, all of it, or this one and the ones after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Single,
    Series,
    Following,
}

impl Scope {
    /// `delete_series`: the original's `true`/`false`, or `this`, `all`, `following`.
    pub fn parse(s: Option<&str>) -> Result<Scope, ApiError> {
        Ok(match s.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "false" | "0" | "this" | "single") => Scope::Single,
            Some("true" | "1" | "all" | "series") => Scope::Series,
            Some("following" | "future") => Scope::Following,
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "delete_series must be true, false, this, all or following, not {other:?}"
                )));
            }
        })
    }
}

/// What a delete did: the rows removed, a template changed on the way (a cancelled day or
/// an earlier end), or a batch of the original's habit instances cancelled.
pub struct Removal {
    pub kind: &'static str,
    pub deleted: Vec<event::Model>,
    pub template: Option<(event::Model, event::Model)>,
    pub cancelled: Vec<(event::Model, event::Model)>,
}

impl Removal {
    fn new(kind: &'static str) -> Removal {
        Removal {
            kind,
            deleted: Vec::new(),
            template: None,
            cancelled: Vec::new(),
        }
    }

    /// How many events went, as the original counted them.
    pub fn count(&self) -> usize {
        self.deleted.len() + self.cancelled.len()
    }
}

/// The day of its series an instance stands for: its recurrence date, else (an instance
/// made before that was stored) its own local day in `tz`.
pub fn series_day(m: &event::Model, tz: Tz) -> Option<NaiveDate> {
    m.recurrence_date.or_else(|| {
        m.event_date
            .or(m.start_time)
            .map(|t| t.with_timezone(&tz).date_naive())
    })
}

async fn remove<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    rows: Vec<event::Model>,
    stamp: DateTime<Utc>,
    out: &mut Removal,
) -> Result<(), ApiError> {
    for r in rows {
        event::Entity::delete_by_id(r.id).exec(db).await?;
        bury(db, user, r.id, stamp).await?;
        out.deleted.push(r);
    }
    Ok(())
}

/// The instances made from `template`, all of them: one moved to another day still stands
/// for its series day (`series_day`).
async fn instances_of<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    template: Uuid,
) -> Result<Vec<event::Model>, ApiError> {
    Ok(event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ParentEventId.eq(template))
        .all(db)
        .await?)
}

async fn template_of<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<event::Model, ApiError> {
    let t = owned(db, user, id).await?;
    if t.is_template != Some(true) {
        return Err(ApiError::new(ErrorCode::EventNotFound, "no such event"));
    }
    Ok(t)
}

/// The whole series: the template and every instance made from it.
async fn remove_series<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    template: event::Model,
    stamp: DateTime<Utc>,
    out: &mut Removal,
) -> Result<(), ApiError> {
    let mut rows = instances_of(db, user, template.id).await?;
    rows.push(template);
    remove(db, user, rows, stamp, out).await
}

/// One day of a series cancelled (EXDATE), and its instance if one was made.
async fn remove_day<C: ConnectionTrait>(
    db: &C,
    owner: Owner,
    template: event::Model,
    date: NaiveDate,
    stamp: DateTime<Utc>,
    out: &mut Removal,
) -> Result<(), ApiError> {
    let made: Vec<event::Model> = instances_of(db, owner.user, template.id)
        .await?
        .into_iter()
        .filter(|m| series_day(m, owner.tz) == Some(date))
        .collect();
    remove(db, owner.user, made, stamp, out).await?;
    let mut days = recur::exdates(&template);
    days.insert(date);
    let mut t = template.clone();
    t.exdates = recur::exdates_json(&days);
    let after = save(db, t, stamp).await?;
    out.template = Some((template, after));
    Ok(())
}

/// This day and the ones after: the series now ends the day before (a series that would
/// have no day left goes whole).
async fn remove_following<C: ConnectionTrait>(
    db: &C,
    owner: Owner,
    template: event::Model,
    date: NaiveDate,
    stamp: DateTime<Utc>,
    out: &mut Removal,
) -> Result<(), ApiError> {
    let first = Series::of(&template, owner.tz).map(|s| s.first_day());
    if first.is_none_or(|f| date <= f) {
        return remove_series(db, owner.user, template, stamp, out).await;
    }
    let later: Vec<event::Model> = instances_of(db, owner.user, template.id)
        .await?
        .into_iter()
        .filter(|m| series_day(m, owner.tz).is_some_and(|d| d >= date))
        .collect();
    remove(db, owner.user, later, stamp, out).await?;
    let mut pattern: RepeatPattern = template
        .repeat_pattern
        .clone()
        .and_then(|p| serde_json::from_value(p).ok())
        .ok_or_else(|| ApiError::validation("this template's repeat_pattern is unreadable"))?;
    let end = date - Duration::days(1);
    if pattern
        .end_date
        .as_deref()
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .is_none_or(|e| e > end)
    {
        pattern.end_date = Some(end.format("%Y-%m-%d").to_string());
    }
    let mut t = template.clone();
    t.repeat_pattern = serde_json::to_value(pattern).ok();
    set_rule(&mut t, owner.tz)?;
    let after = save(db, t, stamp).await?;
    out.template = Some((template, after));
    Ok(())
}

/// Delete an event, a day of a series, or a series (whole or from a day on). A template named
/// on its own goes with its instances (the original left them behind, orphaned). With
/// `Series`, an instance of the original's habit batches (no template) cancels the batch's
/// pending instances, as the original did.
pub async fn delete<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    target: Target,
    scope: Scope,
) -> Result<Removal, ApiError> {
    let txn = db.begin().await?;
    let stamp = clock::tick(&txn, owner.user).await?;
    let user = owner.user;
    let (template, date, single) = match target {
        Target::Real(id) => {
            let current = owned(&txn, user, id).await?;
            if current.is_template == Some(true) {
                (Some(current), None, None)
            } else if let Some(parent) = current.parent_event_id
                && let Some(t) = event::Entity::find_by_id(parent)
                    .filter(event::Column::UserId.eq(user))
                    .one(&txn)
                    .await?
            {
                (Some(t), series_day(&current, owner.tz), Some(current))
            } else {
                (None, None, Some(current))
            }
        }
        Target::Occurrence(t, d) => (Some(template_of(&txn, user, t).await?), Some(d), None),
    };
    let mut out;
    match (template, date, scope) {
        (Some(t), None, _) | (Some(t), _, Scope::Series) => {
            out = Removal::new("series");
            remove_series(&txn, user, t, stamp, &mut out).await?;
        }
        (Some(t), Some(d), Scope::Single) => {
            out = Removal::new("single");
            if let Target::Occurrence(..) = target
                && Series::of(&t, owner.tz)
                    .and_then(|s| s.on(d, owner.tz))
                    .is_none()
            {
                return Err(ApiError::new(ErrorCode::EventNotFound, "no such event"));
            }
            remove_day(&txn, owner, t, d, stamp, &mut out).await?;
        }
        (Some(t), Some(d), Scope::Following) => {
            out = Removal::new("following");
            remove_following(&txn, owner, t, d, stamp, &mut out).await?;
        }
        (None, _, _) => {
            let current = single.ok_or_else(|| ApiError::internal("no event to delete"))?;
            if scope == Scope::Series
                && let Some(batch) = current.routine_batch_id.clone()
            {
                out = Removal::new("batch");
                let rows = event::Entity::find()
                    .filter(event::Column::UserId.eq(user))
                    .filter(event::Column::RoutineBatchId.eq(batch))
                    .filter(event::Column::Status.eq(EventStatus::Pending))
                    .all(&txn)
                    .await?;
                for r in rows {
                    let mut c = r.clone();
                    c.status = EventStatus::Cancelled;
                    let after = save(&txn, c, stamp).await?;
                    out.cancelled.push((r, after));
                }
            } else {
                out = Removal::new("single");
                remove(&txn, user, vec![current], stamp, &mut out).await?;
            }
        }
    }
    txn.commit().await?;
    Ok(out)
}

/// A template's instance for an occurrence, not yet saved: the template's fields on that day.
pub fn occurrence_model(
    template: &event::Model,
    occ: Occurrence,
    tz: Tz,
    id: Uuid,
    now: DateTime<Utc>,
) -> event::Model {
    let owner = Owner {
        user: template.user_id,
        tz,
    };
    let mut m = blank(owner, Author::System, id, now);
    let end = occ.start.map(|s| {
        s + Duration::minutes(i64::from(
            template.duration.filter(|d| *d > 0).unwrap_or(60),
        ))
    });
    m.title = template.title.clone();
    m.description = template.description.clone();
    m.notes = template.notes.clone();
    m.event_date = Some(local_midnight(tz, occ.date));
    m.recurrence_date = Some(occ.date);
    m.time_period = template.time_period;
    m.start_time = occ.start;
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
    m.parent_event_id = Some(template.id);
    m.routine_batch_id = template.routine_batch_id.clone();
    m.habit_interval = template.habit_interval;
    m.habit_completed_count = template.habit_completed_count;
    m.habit_total_count = template.habit_total_count;
    m.energy_consumption = template.energy_consumption.clone();
    m.is_physically_demanding = template.is_physically_demanding;
    m.is_mentally_demanding = template.is_mentally_demanding;
    m.project_id = template.project_id;
    m
}

/// The instance of a template for `date`: the existing one, or a new one with the
/// template's fields at the series' time that day (the original's `instances`). The day
/// must be one of the series' (not cancelled). `bool`: made now.
pub async fn instance<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    template_id: Uuid,
    date: NaiveDate,
) -> Result<(event::Model, bool), ApiError> {
    let txn = db.begin().await?;
    let stamp = clock::tick(&txn, owner.user).await?;
    let template = owned(&txn, owner.user, template_id).await?;
    if template.is_template != Some(true) {
        return Err(ApiError::validation(
            "this event is not a template; instances are made from templates only",
        ));
    }
    if let Some(existing) = instances_of(&txn, owner.user, template_id)
        .await?
        .into_iter()
        .find(|m| series_day(m, owner.tz) == Some(date))
    {
        return Ok((existing, false));
    }
    let series = Series::of(&template, owner.tz)
        .ok_or_else(|| ApiError::validation("this template has no readable repeat_pattern"))?;
    let occ = series
        .on(date, owner.tz)
        .filter(|_| !recur::exdates(&template).contains(&date))
        .ok_or_else(|| {
            ApiError::validation(format!(
                "the series has no occurrence on {date} (not one of its days, or cancelled)"
            ))
        })?;
    let mut m = occurrence_model(&template, occ, owner.tz, Uuid::now_v7(), stamp);
    m.created_at = stamp;
    m.updated_at = stamp;
    let m = insert_stamped(&txn, m, stamp).await?;
    txn.commit().await?;
    Ok((m, true))
}
