//! Snapshots: the events a turn changed, as they were before it; reverting restores them.
//! A snapshot can be reverted for `RETENTION_DAYS` (the original's snapshots expired then).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{event, snapshot};
use uuid::Uuid;

use super::tools::Change;
use crate::events::store;
use crate::state::AppState;

pub const RETENTION_DAYS: i64 = 30;

/// Snapshots older than this have expired.
pub fn cutoff() -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(RETENTION_DAYS)
}

pub async fn record(
    state: &AppState,
    user: Uuid,
    conv: Uuid,
    message: &str,
    changes: &[Change],
) -> Result<Uuid, ApiError> {
    let id = Uuid::now_v7();
    snapshot::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        conversation_id: Set(Some(conv)),
        summary: Set(message.chars().take(100).collect()),
        changes: Set(serde_json::to_value(changes).map_err(ApiError::internal)?),
        reverted_at: Set(None),
        created_at: Set(shared::time::now_micros()),
    }
    .insert(&state.db)
    .await?;
    Ok(id)
}

/// Revert this snapshot and every later one not yet reverted, newest first, so the events are
/// exactly as they were before the snapshot's turn. Returns the reverted snapshots.
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
        let changes: Vec<Change> =
            serde_json::from_value(s.changes.clone()).map_err(ApiError::internal)?;
        for c in changes.iter().rev() {
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
