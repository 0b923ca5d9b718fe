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
    let body: Vec<InboxItem<'_>> = rows.iter().map(InboxItem::of).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// One notification as the inbox answers it, written straight from the row (keys in the
/// order they always had).
#[derive(serde::Serialize)]
struct InboxItem<'a> {
    body: &'a str,
    created_at: chrono::DateTime<Utc>,
    data: &'a serde_json::Value,
    id: Uuid,
    kind: &'a str,
    read: bool,
    read_at: Option<chrono::DateTime<Utc>>,
    title: &'a str,
}

impl<'a> InboxItem<'a> {
    fn of(n: &'a notification::Model) -> Self {
        Self {
            body: &n.body,
            created_at: n.created_at,
            data: &n.data,
            id: n.id,
            kind: &n.kind,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            title: &n.title,
        }
    }
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
