use actix_web::{HttpResponse, web};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::notification;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::state::Ctx;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    unread: Option<bool>,
    limit: Option<u64>,
}

pub async fn list(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be between 1 and 200"));
    }
    let mut select = notification::Entity::find().filter(notification::Column::UserId.eq(user));
    if query.unread == Some(true) {
        select = select.filter(notification::Column::ReadAt.is_null());
    }
    let rows = select
        .order_by_desc(notification::Column::CreatedAt)
        .limit(limit)
        .all(&ctx.db)
        .await?;
    let body: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|n| {
            serde_json::json!({
                "id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "data": n.data,
                "read": n.read_at.is_some(), "read_at": n.read_at, "created_at": n.created_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

pub async fn read(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotificationNotFound, "no such notification"))?;
    if found.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&ctx.db)
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
