//! Snapshots: the events and projects a turn changed, as they were before it; reverting
//! restores them. A snapshot can be reverted for `RETENTION_DAYS` (the original's snapshots
//! expired then).
//!
//! `changes` is one JSON array: the events' changes (`{event_id, before, after, action}`),
//! then the projects' (`{project_id, before, after, action}`), told apart by their id field.
//! Snapshots written before projects hold events only and read the same.

use chrono::Duration;
use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::{Value, json};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{event, project, snapshot};
use uuid::Uuid;

use super::project_tools::ProjectChange;
use super::tools::Change;
use crate::events::store;
use crate::state::AppState;
use crate::{events, projects};

pub const RETENTION_DAYS: i64 = 30;

/// Snapshots older than this have expired.
pub fn cutoff() -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(RETENTION_DAYS)
}

/// What a snapshot recorded.
#[derive(Debug, Default)]
pub struct Recorded {
    pub events: Vec<Change>,
    pub projects: Vec<ProjectChange>,
}

pub fn encode(events: &[Change], projects: &[ProjectChange]) -> Result<Value, ApiError> {
    let mut all = Vec::with_capacity(events.len() + projects.len());
    for c in events {
        all.push(serde_json::to_value(c).map_err(ApiError::internal)?);
    }
    for c in projects {
        all.push(serde_json::to_value(c).map_err(ApiError::internal)?);
    }
    Ok(Value::Array(all))
}

pub fn decode(changes: &Value) -> Result<Recorded, serde_json::Error> {
    let mut out = Recorded::default();
    for c in changes.as_array().into_iter().flatten() {
        if c.get("project_id").is_some() {
            out.projects.push(serde_json::from_value(c.clone())?);
        } else {
            out.events.push(serde_json::from_value(c.clone())?);
        }
    }
    Ok(out)
}

/// The original's `SnapshotResponse`; the projects the turn changed come in
/// `project_changes` (the app's `changes` are events only).
pub fn view(s: &snapshot::Model, tz: Tz) -> Value {
    let recorded = decode(&s.changes).unwrap_or_default();
    let render = |e: &Option<shared::entities::event::Model>| {
        e.as_ref().map_or(Value::Null, |e| events::view(e, tz))
    };
    let render_project = |p: &Option<shared::entities::project::Model>| {
        p.as_ref().map_or(Value::Null, projects::stats::record)
    };
    json!({
        "id": s.id, "user_id": s.user_id, "conversation_id": s.conversation_id,
        "trigger_message": s.summary, "trigger_time": s.created_at,
        "changes": recorded.events.iter().map(|c| json!({
            "event_id": c.event_id, "action": c.action(),
            "before": render(&c.before), "after": render(&c.after),
        })).collect::<Vec<_>>(),
        "project_changes": recorded.projects.iter().map(|c| json!({
            "project_id": c.project_id, "action": c.action(),
            "before": render_project(&c.before), "after": render_project(&c.after),
        })).collect::<Vec<_>>(),
        "is_reverted": s.reverted_at.is_some(), "reverted_at": s.reverted_at,
        "created_at": s.created_at,
        "expires_at": s.created_at + Duration::days(RETENTION_DAYS),
    })
}

/// `{snapshot_id, message, reverted_events, reverted_at}`: the snapshot asked for (reverting
/// it reverts the later ones first) and every event put back (`reverted_projects`: every
/// project).
pub fn reverted(done: &[snapshot::Model]) -> Result<Value, ApiError> {
    let target = done
        .last()
        .ok_or_else(|| ApiError::internal("a revert reverted nothing"))?;
    let mut ids: Vec<Uuid> = Vec::new();
    let mut project_ids: Vec<Uuid> = Vec::new();
    for s in done {
        let recorded = decode(&s.changes).map_err(ApiError::internal)?;
        for c in recorded.events {
            if !ids.contains(&c.event_id) {
                ids.push(c.event_id);
            }
        }
        for c in recorded.projects {
            if !project_ids.contains(&c.project_id) {
                project_ids.push(c.project_id);
            }
        }
    }
    Ok(json!({
        "snapshot_id": target.id,
        "message": "已撤销这次修改",
        "reverted_events": ids,
        "reverted_projects": project_ids,
        "reverted_at": target.reverted_at,
        "reverted_snapshots": done.iter().map(|s| s.id).collect::<Vec<_>>(),
    }))
}

/// The newest snapshots that have not expired, newest first (reverted ones only when asked).
pub async fn recent(
    state: &AppState,
    user: Uuid,
    limit: u64,
    include_reverted: bool,
) -> Result<Vec<snapshot::Model>, ApiError> {
    let mut select = snapshot::Entity::find()
        .filter(snapshot::Column::UserId.eq(user))
        .filter(snapshot::Column::CreatedAt.gt(cutoff()));
    if !include_reverted {
        select = select.filter(snapshot::Column::RevertedAt.is_null());
    }
    Ok(select
        .order_by_desc(snapshot::Column::CreatedAt)
        .order_by_desc(snapshot::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?)
}

pub async fn record(
    state: &AppState,
    user: Uuid,
    conv: Uuid,
    message: &str,
    changes: &[Change],
    projects: &[ProjectChange],
) -> Result<Uuid, ApiError> {
    let id = Uuid::now_v7();
    snapshot::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        conversation_id: Set(Some(conv)),
        summary: Set(message.chars().take(100).collect()),
        changes: Set(encode(changes, projects)?),
        reverted_at: Set(None),
        created_at: Set(shared::time::now_micros()),
    }
    .insert(&state.db)
    .await?;
    Ok(id)
}

/// Revert this snapshot and every later one not yet reverted, newest first, so the events and
/// projects are exactly as they were before the snapshot's turn. Returns the reverted
/// snapshots.
pub async fn revert(
    state: &AppState,
    user: Uuid,
    id: Option<Uuid>,
) -> Result<Vec<snapshot::Model>, ApiError> {
    let txn = state.db.begin().await?;
    // The clock first: a write, so SQLite takes the write lock before any read.
    let stamp = crate::events::clock::tick(&txn, user).await?;
    let live = snapshot::Entity::find()
        .filter(snapshot::Column::UserId.eq(user))
        .filter(snapshot::Column::RevertedAt.is_null())
        .filter(snapshot::Column::CreatedAt.gt(cutoff()))
        .order_by_desc(snapshot::Column::CreatedAt)
        .order_by_desc(snapshot::Column::Id)
        .all(&txn)
        .await?;
    let target = match id {
        Some(id) => {
            let Some(found) = snapshot::Entity::find_by_id(id)
                .filter(snapshot::Column::UserId.eq(user))
                .filter(snapshot::Column::CreatedAt.gt(cutoff()))
                .one(&txn)
                .await?
            else {
                return Err(ApiError::new(
                    ErrorCode::SnapshotNotFound,
                    "no such snapshot",
                ));
            };
            if found.reverted_at.is_some() {
                return Err(ApiError::new(
                    ErrorCode::SnapshotReverted,
                    "this snapshot was already reverted",
                ));
            }
            found
        }
        None => live
            .first()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::NothingToUndo, "no change to undo"))?,
    };
    let mut reverted = Vec::new();
    for s in live
        .into_iter()
        .filter(|s| (s.created_at, s.id) >= (target.created_at, target.id))
    {
        let recorded = decode(&s.changes).map_err(ApiError::internal)?;
        for c in recorded.projects.iter().rev() {
            project::Entity::delete_many()
                .filter(project::Column::Id.eq(c.project_id))
                .filter(project::Column::UserId.eq(user))
                .exec(&txn)
                .await?;
            // Every column as it was (projects are not synced: no stamp).
            if let Some(before) = &c.before {
                project::Entity::insert(before.clone().into_active_model().reset_all())
                    .exec_without_returning(&txn)
                    .await?;
            }
        }
        for c in recorded.events.iter().rev() {
            event::Entity::delete_many()
                .filter(event::Column::Id.eq(c.event_id))
                .filter(event::Column::UserId.eq(user))
                .exec(&txn)
                .await?;
            match &c.before {
                // Every column as it was, stamped now so `/sync` hands it out again.
                Some(before) => {
                    store::insert_stamped(&txn, before.clone(), stamp).await?;
                }
                None => store::bury(&txn, user, c.event_id, stamp).await?,
            }
        }
        let mut active: snapshot::ActiveModel = s.clone().into();
        active.reverted_at = Set(Some(shared::time::now_micros()));
        reverted.push(active.update(&txn).await?);
    }
    txn.commit().await?;
    Ok(reverted)
}
