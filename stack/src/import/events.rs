//! The original's `events`, one to one: the table here has the original's columns and enum
//! values. The original stored times without an offset, in the user's local time (its
//! `created_at`, `updated_at`, `completed_at` and `started_at` with `datetime.utcnow()`);
//! here every time is an instant and `event_date` the local midnight of the event's day.
//! Each imported event is stamped from its owner's change clock, as any write is, so the
//! app's `/sync` picks it up.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};
use shared::entities::event::{self, Category, EnergyLevel, EventStatus, EventType, TimePeriod};
use shared::time::{AppTime, local_midnight};

use super::owners::{Owner, Owners};
use super::source::{Row, Source};
use super::summary::{Summary, TableSummary};
use super::{ids, values};

pub async fn import(
    src: &Source,
    txn: &DatabaseTransaction,
    owners: &Owners,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let table = summary.table("events");
    let Some(rows) = src.rows("events").await? else {
        table.absent = true;
        return Ok(());
    };
    for row in rows {
        table.read += 1;
        let Some(original) = row.get("id") else {
            table.skip("?", "no id");
            continue;
        };
        let owner = match owners.resolve(row.get("user_id")) {
            Ok(owner) => owner,
            Err(reason) => {
                table.skip(original, reason);
                continue;
            }
        };
        let id = ids::our_id("event", original);
        if event::Entity::find_by_id(id).one(txn).await?.is_some() {
            table.existing += 1;
            continue;
        }
        let Some(title) = row.get("title") else {
            table.skip(original, "no title");
            continue;
        };
        let mut model = convert(&row, original, id, title, owner, table);
        model.changed_at = svc_chat::events::clock::tick(txn, owner.id).await?;
        model.into_active_model().insert(txn).await?;
        table.created += 1;
    }
    Ok(())
}

fn convert(
    row: &Row,
    original: &str,
    id: uuid::Uuid,
    title: &str,
    owner: Owner,
    table: &mut TableSummary,
) -> event::Model {
    let mut notes: Vec<String> = Vec::new();
    // The original stored event times without an offset in Asia/Shanghai time, whatever the
    // user's zone (its database layer hard-coded it, and read them back the same way).
    let local = |c: &str| {
        row.get(c)
            .and_then(AppTime::parse)
            .map(|t| t.in_zone(shared::DEFAULT_TZ))
    };
    let utc = |c: &str| row.get(c).and_then(|v| values::instant(v, Tz::UTC));
    let start_time = local("start_time");
    let day: Option<NaiveDate> = row
        .get("event_date")
        .and_then(|d| AppTime::parse(d).map(|t| t.local_date(owner.tz)))
        .or_else(|| start_time.map(|t| t.with_timezone(&owner.tz).date_naive()));
    let int = |c: &str| {
        row.get(c)
            .and_then(values::integer)
            .and_then(|n| i32::try_from(n).ok())
    };
    let flag = |c: &str| row.get(c).and_then(values::boolean);
    let scale = |c: &str| int(c).map_or(3, |n| n.clamp(1, 5));

    let mut tags = list(row, "tags", &mut notes);
    let category = match row.get("category") {
        None => Category::Work,
        Some(raw) => raw.trim().to_uppercase().parse().unwrap_or_else(|_| {
            notes.push(format!(
                "category {raw:?} is not one of the app's; LIFE, kept as a tag"
            ));
            if !tags.iter().any(|t| t == raw) {
                tags.push(json!(raw));
            }
            Category::Life
        }),
    };
    let event_type = match row.get("event_type") {
        None => EventType::Floating,
        Some(raw) => raw.trim().to_lowercase().parse().unwrap_or_else(|_| {
            let fallback = if start_time.is_some() {
                EventType::Schedule
            } else {
                EventType::Floating
            };
            notes.push(format!("event_type {raw:?} unknown; {}", fallback.as_str()));
            fallback
        }),
    };
    let status = match row.get("status") {
        None => EventStatus::Pending,
        Some(raw) => raw.trim().to_uppercase().parse().unwrap_or_else(|_| {
            notes.push(format!("status {raw:?} unknown; PENDING"));
            EventStatus::Pending
        }),
    };
    let time_period = row.get("time_period").and_then(|raw| {
        let parsed = raw.trim().to_uppercase().parse::<TimePeriod>().ok();
        if parsed.is_none() {
            notes.push(format!("time_period {raw:?} unknown; left empty"));
        }
        parsed
    });
    let energy_required = row
        .get("energy_required")
        .and_then(|raw| raw.trim().to_uppercase().parse::<EnergyLevel>().ok());
    let participants = list(row, "participants", &mut notes);
    let repeat_pattern = object(row, "repeat_pattern", &mut notes)
        .or_else(|| object(row, "repeat_rule", &mut notes));
    let energy_consumption = object(row, "energy_consumption", &mut notes);
    let created_at = utc("created_at").unwrap_or_else(Utc::now);
    let model = event::Model {
        id,
        user_id: owner.id,
        title: title.to_owned(),
        description: row.get("description").map(str::to_owned),
        notes: row.get("notes").map(str::to_owned),
        event_date: day.map(|d| local_midnight(owner.tz, d)),
        time_period,
        start_time,
        end_time: local("end_time"),
        duration: int("duration"),
        energy_required,
        urgency: scale("urgency"),
        importance: scale("importance"),
        is_deep_work: flag("is_deep_work").unwrap_or(false),
        event_type,
        category,
        tags: Value::Array(tags),
        location: row.get("location").map(str::to_owned),
        participants: Value::Array(participants),
        repeat_pattern,
        rrule: None,
        exdates: None,
        recurrence_date: None,
        routine_batch_id: row.get("routine_batch_id").map(str::to_owned),
        is_template: flag("is_template"),
        habit_interval: None,
        parent_event_id: row
            .get("parent_routine_id")
            .map(|p| ids::our_id("event", p)),
        habit_completed_count: int("habit_completed_count"),
        habit_total_count: int("habit_total_count").unwrap_or(21),
        energy_consumption,
        is_physically_demanding: flag("is_physically_demanding").unwrap_or(false),
        is_mentally_demanding: flag("is_mentally_demanding").unwrap_or(false),
        project_id: row.get("project_id").map(|p| ids::our_id("project", p)),
        status,
        completed_at: utc("completed_at"),
        started_at: utc("started_at"),
        created_by: row.get("created_by").unwrap_or("user").to_owned(),
        ai_confidence: row
            .get("ai_confidence")
            .and_then(values::number)
            .map_or(0.5, |c| c.clamp(0.0, 1.0)),
        ai_reasoning: row.get("ai_reasoning").map(str::to_owned),
        created_at,
        updated_at: utc("updated_at").unwrap_or(created_at),
        changed_at: DateTime::<Utc>::UNIX_EPOCH,
    };
    for note in notes {
        table.note(original, note);
    }
    model
}

/// A JSON array column; empty (with a note) when it is not one.
fn list(row: &Row, column: &str, notes: &mut Vec<String>) -> Vec<Value> {
    match row.get(column).map(values::json) {
        None | Some(Ok(Value::Null)) => Vec::new(),
        Some(Ok(Value::Array(items))) => items,
        Some(Ok(_)) => {
            notes.push(format!("{column} is not a list; left empty"));
            Vec::new()
        }
        Some(Err(e)) => {
            notes.push(format!("{column} {e}; left empty"));
            Vec::new()
        }
    }
}

/// A JSON object column; `None` (with a note) when it is not one.
fn object(row: &Row, column: &str, notes: &mut Vec<String>) -> Option<Value> {
    match row.get(column).map(values::json) {
        None | Some(Ok(Value::Null)) => None,
        Some(Ok(v @ Value::Object(_))) => Some(v),
        Some(Ok(_)) => {
            notes.push(format!("{column} is not an object; left empty"));
            None
        }
        Some(Err(e)) => {
            notes.push(format!("{column} {e}; left empty"));
            None
        }
    }
}
