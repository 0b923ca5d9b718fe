//! `/snapshots`: the original's `SnapshotResponse` and `SnapshotRevertResponse`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::engine::snapshots::{self, view};
use crate::state::AppState;

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
    let rows = snapshots::recent(&state, user, limit, q.include_reverted).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|s| view(s, tz)).collect::<Vec<_>>()))
}

pub async fn undo(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let done = snapshots::revert(&state, user, None).await?;
    Ok(HttpResponse::Ok().json(snapshots::reverted(&done)?))
}

pub async fn revert(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let done = snapshots::revert(&state, user, Some(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(snapshots::reverted(&done)?))
}
