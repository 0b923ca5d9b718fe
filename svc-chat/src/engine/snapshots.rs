//! Snapshots: the events and projects a turn changed, as they were before it; reverting
//! restores them. A snapshot can be reverted for `RETENTION_DAYS` (the original's snapshots
//! expired then).
//!
//! `changes` is one JSON array: the events' changes (`{event_id, before, after, action}`),
//! then the projects' (`{project_id, before, after, action}`), told apart by their id field.
//! Snapshots written before projects hold events only and read the same.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde_json::Value;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{event, project, snapshot};
use uuid::Uuid;

use super::project_tools::ProjectChange;
use super::tools::Change;
use crate::events::store;
use crate::state::AppState;

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
