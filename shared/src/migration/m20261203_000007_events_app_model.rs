//! Events in the UniLife app's model (the original backend's `EventResponse`): new columns,
//! the original's enum values, `start_time` optional (floating events have only a day), and
//! the sync bookkeeping (`changed_at`, `event_tombstones`, `sync_clocks`).
//!
//! SQLite cannot drop a NOT NULL constraint, so on both databases the old table is renamed,
//! the new one created from the entity and the rows copied over in batches with their values
//! translated (`pending` → `PENDING`, `work` → `WORK`, `meeting` → `schedule`, …; a category
//! the app does not have becomes a tag). The events recorded in chat snapshots are translated
//! the same way, so a turn made before the upgrade can still be undone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, IntoActiveModel};
use sea_orm_migration::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::create_from_entity;
use crate::entities::event::{self, Category, EventStatus, EventType};
use crate::entities::{event_tombstone, snapshot, sync_clock, user};

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "events_v1";
const BATCH: u64 = 500;

/// A row of the table as migration 4 made it.
#[derive(Debug, Clone, FromQueryResult, Deserialize)]
struct OldEvent {
    id: Uuid,
    user_id: Uuid,
    title: String,
    description: Option<String>,
    start_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
    duration: Option<i32>,
    event_type: String,
    category: String,
    tags: Value,
    location: Option<String>,
    status: String,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn status(old: &str) -> EventStatus {
    match old {
        "completed" => EventStatus::Completed,
        "cancelled" => EventStatus::Cancelled,
        _ => EventStatus::Pending,
    }
}

/// The category and, when the app has no such category, a tag that keeps the old one.
fn category(old: &str) -> (Category, Option<&str>) {
    match old {
        "work" => (Category::Work, None),
        "study" => (Category::Study, None),
        "health" => (Category::Health, None),
        "social" => (Category::Social, None),
        "exercise" => (Category::Health, Some("exercise")),
        "life" => (Category::Life, None),
        _ => (Category::Life, Some("other")),
    }
}

fn event_type(old: &str) -> EventType {
    match old {
        "reminder" => EventType::Reminder,
        "habit" => EventType::Habit,
        // Every old event had a start time.
        _ => EventType::Schedule,
    }
}

fn upgrade(old: OldEvent, tz: Tz) -> event::Model {
    let (category, tag) = category(&old.category);
    let mut tags: Vec<Value> = old.tags.as_array().cloned().unwrap_or_default();
    if let Some(tag) = tag
        && !tags.iter().any(|t| t == tag)
    {
        tags.push(json!(tag));
    }
    let day = old.start_time.with_timezone(&tz).date_naive();
    event::Model {
        id: old.id,
        user_id: old.user_id,
        title: old.title,
        description: old.description,
        notes: None,
        event_date: Some(crate::time::local_midnight(tz, day)),
        time_period: None,
        start_time: Some(old.start_time),
        end_time: old.end_time,
        duration: old.duration,
        energy_required: None,
        urgency: 3,
        importance: 3,
        is_deep_work: false,
        event_type: event_type(&old.event_type),
        category,
        tags: Value::Array(tags),
        location: old.location,
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
        status: status(&old.status),
        completed_at: old.completed_at,
        started_at: None,
        created_by: "user".to_owned(),
        ai_confidence: 1.0,
        ai_reasoning: None,
        created_at: old.created_at,
        updated_at: old.updated_at,
        changed_at: old.updated_at,
    }
}

#[derive(FromQueryResult)]
struct UserZone {
    id: Uuid,
    timezone: String,
}

async fn zones(db: &impl ConnectionTrait) -> Result<HashMap<Uuid, Tz>, DbErr> {
    let select = Query::select()
        .columns([user::Column::Id, user::Column::Timezone])
        .from(user::Entity)
        .to_owned();
    let rows = UserZone::find_by_statement(db.get_database_backend().build(&select))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.timezone.parse().unwrap_or(crate::DEFAULT_TZ)))
        .collect())
}

async fn drop_old_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for name in ["idx_events_user_start", "idx-events-user_id"] {
        manager
            .drop_index(
                Index::drop()
                    .name(name)
                    .table(Alias::new("events"))
                    .if_exists()
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn copy_rows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let zones = zones(db).await?;
    let mut offset = 0;
    loop {
        let select = Query::select()
            .expr(Expr::col(Asterisk))
            .from(Alias::new(OLD))
            .order_by(Alias::new("id"), Order::Asc)
            .limit(BATCH)
            .offset(offset)
            .to_owned();
        let rows = OldEvent::find_by_statement(db.get_database_backend().build(&select))
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        offset += BATCH;
        let models = rows.into_iter().map(|old| {
            let tz = zones
                .get(&old.user_id)
                .copied()
                .unwrap_or(crate::DEFAULT_TZ);
            upgrade(old, tz).into_active_model().reset_all()
        });
        event::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
}

/// The events a snapshot recorded, translated like the rows.
async fn upgrade_snapshots(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let zones = zones(db).await?;
    for snap in snapshot::Entity::find().all(db).await? {
        let Some(changes) = snap.changes.as_array() else {
            continue;
        };
        let mut upgraded = Vec::with_capacity(changes.len());
        for change in changes {
            let mut change = change.clone();
            let before = change.get("before").cloned().unwrap_or(Value::Null);
            if !Value::is_null(&before) {
                let old: OldEvent = serde_json::from_value(before)
                    .map_err(|e| DbErr::Migration(format!("snapshot {}: {e}", snap.id)))?;
                let tz = zones
                    .get(&old.user_id)
                    .copied()
                    .unwrap_or(crate::DEFAULT_TZ);
                change["before"] = serde_json::to_value(upgrade(old, tz))
                    .map_err(|e| DbErr::Migration(e.to_string()))?;
            }
            upgraded.push(change);
        }
        let mut active = snap.into_active_model();
        active.changes = sea_orm::Set(Value::Array(upgraded));
        active.update(db).await?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct Latest {
    user_id: Uuid,
    changed_at: DateTime<Utc>,
}

/// Each owner's change clock starts at their newest row, so `/sync` hands the moved rows out
/// (they are stamped with their `updated_at`).
async fn start_clocks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, QuerySelect};
    let db = manager.get_connection();
    let latest = event::Entity::find()
        .select_only()
        .column(event::Column::UserId)
        .column_as(event::Column::ChangedAt.max(), "changed_at")
        .group_by(event::Column::UserId)
        .into_model::<Latest>()
        .all(db)
        .await?;
    for l in latest {
        sync_clock::Entity::insert(sync_clock::ActiveModel {
            user_id: sea_orm::Set(l.user_id),
            changed_at: sea_orm::Set(l.changed_at),
            writes: sea_orm::Set(0),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

pub(super) async fn create_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for (name, cols) in [
        (
            "idx_events_user_start",
            [event::Column::UserId, event::Column::StartTime],
        ),
        (
            "idx_events_user_date",
            [event::Column::UserId, event::Column::EventDate],
        ),
        (
            "idx_events_user_changed",
            [event::Column::UserId, event::Column::ChangedAt],
        ),
    ] {
        let mut index = Index::create();
        index.if_not_exists().name(name).table(event::Entity);
        for c in cols {
            index.col(c);
        }
        manager.create_index(index.to_owned()).await?;
    }
    manager
        .create_index(
            Index::create()
                .if_not_exists()
                .name("idx_event_tombstones_user_changed")
                .table(event_tombstone::Entity)
                .col(event_tombstone::Column::UserId)
                .col(event_tombstone::Column::ChangedAt)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, event_tombstone::Entity).await?;
        create_from_entity(manager, sync_clock::Entity).await?;
        // A run that stopped half-way left the old rows in `events_v1`: start the copy again.
        if manager.has_table(OLD).await? {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new("events"))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
            manager
                .rename_table(
                    Table::rename()
                        .table(Alias::new(OLD), Alias::new("events"))
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("events", "changed_at").await? {
            drop_old_indexes(manager).await?;
            manager
                .rename_table(
                    Table::rename()
                        .table(Alias::new("events"), Alias::new(OLD))
                        .to_owned(),
                )
                .await?;
            create_from_entity(manager, event::Entity).await?;
            copy_rows(manager).await?;
            manager
                .drop_table(Table::drop().table(Alias::new(OLD)).to_owned())
                .await?;
            upgrade_snapshots(manager).await?;
            start_clocks(manager).await?;
        }
        create_indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Back to migration 4's (empty) table: a downgrade past this point drops the events,
        // which that table could not hold faithfully (no start time, the app's fields).
        for t in ["sync_clocks", "event_tombstones", "events"] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).if_exists().to_owned())
                .await?;
        }
        create_from_entity(manager, super::m20261122_000004_chat::event::Entity).await
    }
}
