use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{conversation, conversation_summary, message, pending_action};
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::state::AppState;

/// A message as the app reads it (written straight from the row, no JSON tree in between).
#[derive(serde::Serialize)]
struct MessageView<'a> {
    id: Uuid,
    conversation_id: Uuid,
    role: &'a str,
    content: &'a str,
    created_at: chrono::DateTime<Utc>,
}

fn view(c: &conversation::Model, count: u64) -> serde_json::Value {
    json!({"id": c.id, "user_id": c.user_id, "title": c.title, "created_at": c.created_at,
        "updated_at": c.updated_at, "message_count": count})
}

async fn owned(state: &AppState, user: Uuid, id: Uuid) -> Result<conversation::Model, ApiError> {
    conversation::Entity::find_by_id(id)
        .filter(conversation::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ConversationNotFound, "no such conversation"))
}

fn check_title(t: &str) -> Result<String, ApiError> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 100 {
        return Err(ApiError::validation("title must be 1 to 100 characters"));
    }
    Ok(t.to_owned())
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    title: Option<String>,
    /// The original's clients send it; the token decides whose conversation this is.
    #[serde(rename = "user_id")]
    _user_id: Option<serde_json::Value>,
}

pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: Option<web::Json<NewConversation>>,
) -> Result<HttpResponse, ApiError> {
    let title = match body.and_then(|b| b.into_inner().title) {
        Some(t) => check_title(&t)?,
        None => "新对话".to_owned(),
    };
    let now = shared::time::now_micros();
    let c = conversation::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        title: Set(title),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok(HttpResponse::Created().json(view(&c, 0)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    limit: Option<u64>,
    offset: Option<u64>,
    /// The original's clients send it; the token decides.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

impl Page {
    /// The original's defaults: 50 conversations, 100 messages a page.
    fn get(&self, default: u64) -> Result<(u64, u64), ApiError> {
        let limit = self.limit.unwrap_or(default);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::validation("limit must be between 1 and 500"));
        }
        Ok((limit, self.offset.unwrap_or(0)))
    }
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let (limit, offset) = page.get(50)?;
    let rows = conversation::Entity::find()
        .filter(conversation::Column::UserId.eq(user))
        .order_by_desc(conversation::Column::UpdatedAt)
        .offset(offset)
        .limit(limit)
        .all(&state.db)
        .await?;
    // Every conversation's message count in one grouped query (not one count each).
    let counts: HashMap<Uuid, i64> = message::Entity::find()
        .select_only()
        .column(message::Column::ConversationId)
        .column_as(Expr::col(message::Column::Id).count(), "n")
        .filter(message::Column::ConversationId.is_in(rows.iter().map(|c| c.id)))
        .group_by(message::Column::ConversationId)
        .into_tuple::<(Uuid, i64)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let out: Vec<_> = rows
        .iter()
        .map(|c| view(c, counts.get(&c.id).copied().unwrap_or(0).unsigned_abs()))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let c = owned(&state, user, path.into_inner()).await?;
    let n = message::Entity::find()
        .filter(message::Column::ConversationId.eq(c.id))
        .count(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(view(&c, n)))
}

pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let c = owned(&state, user, path.into_inner()).await?;
    // Its messages and what was derived from them in it: the summary, a pending action.
    let txn = state.db.begin().await?;
    message::Entity::delete_many()
        .filter(message::Column::ConversationId.eq(c.id))
        .exec(&txn)
        .await?;
    conversation_summary::Entity::delete_by_id(c.id)
        .exec(&txn)
        .await?;
    pending_action::Entity::delete_many()
        .filter(pending_action::Column::ConversationId.eq(c.id))
        .exec(&txn)
        .await?;
    conversation::Entity::delete_by_id(c.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "success", "message": "对话已删除", "id": c.id})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleQuery {
    title: String,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

pub async fn rename(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    q: web::Query<TitleQuery>,
) -> Result<HttpResponse, ApiError> {
    let c = owned(&state, user, path.into_inner()).await?;
    let title = check_title(&q.title)?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::Title, Expr::value(title))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(conversation::Column::Id.eq(c.id))
        .exec(&state.db)
        .await?;
    let c = owned(&state, user, c.id).await?;
    let n = message::Entity::find()
        .filter(message::Column::ConversationId.eq(c.id))
        .count(&state.db)
        .await?;
    // The original answered `{status, message}`; the conversation's fields come along.
    let mut body = view(&c, n);
    body["status"] = json!("success");
    body["message"] = json!("标题已更新");
    Ok(HttpResponse::Ok().json(body))
}

pub async fn messages(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (limit, offset) = page.get(100)?;
    // The page is read beside the ownership check (it is the user's own messages only, so it
    // shows nothing of another's conversation); the check decides between it and 404.
    let (_, rows) = tokio::try_join!(owned(&state, user, id), async {
        message::Entity::find()
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::UserId.eq(user))
            .order_by_asc(message::Column::CreatedAt)
            .order_by_asc(message::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&state.db)
            .await
            .map_err(ApiError::from)
    })?;
    let out: Vec<MessageView<'_>> = rows
        .iter()
        .map(|m| MessageView {
            id: m.id,
            conversation_id: m.conversation_id,
            role: &m.role,
            content: &m.content,
            created_at: m.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
