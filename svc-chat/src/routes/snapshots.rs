//! `/snapshots`: the original's `SnapshotResponse` and `SnapshotRevertResponse`.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::snapshot;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::engine::snapshots::{self, RETENTION_DAYS, cutoff};
use crate::state::AppState;
use crate::{events, projects};

/// The original's `SnapshotResponse`; the projects the turn changed come in
/// `project_changes` (the app's `changes` are events only).
fn view(s: &snapshot::Model, tz: Tz) -> Value {
    let recorded = snapshots::decode(&s.changes).unwrap_or_default();
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u64>,
    #[serde(default)]
    include_reverted: bool,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// The newest snapshots that have not expired (reverted ones only when asked).
pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 100"));
    }
    let tz = state.timezone(user).await?;
    let mut select = snapshot::Entity::find()
        .filter(snapshot::Column::UserId.eq(user))
        .filter(snapshot::Column::CreatedAt.gt(cutoff()));
    if !q.include_reverted {
        select = select.filter(snapshot::Column::RevertedAt.is_null());
    }
    let rows = select
        .order_by_desc(snapshot::Column::CreatedAt)
        .order_by_desc(snapshot::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|s| view(s, tz)).collect::<Vec<_>>()))
}

/// `{snapshot_id, message, reverted_events, reverted_at}`: the snapshot asked for (reverting
/// it reverts the later ones first) and every event put back (`reverted_projects`: every
/// project).
fn reverted(done: &[snapshot::Model]) -> Result<Value, ApiError> {
    let target = done
        .last()
        .ok_or_else(|| ApiError::internal("a revert reverted nothing"))?;
    let mut ids: Vec<Uuid> = Vec::new();
    let mut project_ids: Vec<Uuid> = Vec::new();
    for s in done {
        let recorded = snapshots::decode(&s.changes).map_err(ApiError::internal)?;
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

pub async fn undo(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let done = snapshots::revert(&state, user, None).await?;
    Ok(HttpResponse::Ok().json(reverted(&done)?))
}

pub async fn revert(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let done = snapshots::revert(&state, user, Some(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(reverted(&done)?))
}
