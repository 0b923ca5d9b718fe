use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::ApiError;
use shared::entities::snapshot;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::engine::{snapshot_view, snapshots};
use crate::state::AppState;

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let rows = snapshot::Entity::find()
        .filter(snapshot::Column::UserId.eq(user))
        .order_by_desc(snapshot::Column::CreatedAt)
        .limit(50)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(snapshot_view).collect::<Vec<_>>()))
}

pub async fn undo(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let done = snapshots::revert(&state, user, None).await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"reverted": done.iter().map(snapshot_view).collect::<Vec<_>>()})))
}

pub async fn revert(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let done = snapshots::revert(&state, user, Some(path.into_inner())).await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"reverted": done.iter().map(snapshot_view).collect::<Vec<_>>()})))
}
