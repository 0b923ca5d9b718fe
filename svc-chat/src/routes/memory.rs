//! `/memory` (ours): what the assistant remembers about the caller, with where each fact came
//! from; edit, delete, and forget words everywhere (`crate::memory`).

use actix_web::{HttpResponse, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::entities::memory as fact;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::memory;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Superseded and dropped facts too (the record of what changed).
    #[serde(default)]
    include_history: bool,
}

/// `GET /memory` → `{facts: [...]}`, active facts newest first (with `include_history`,
/// the superseded and dropped ones after them).
pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut select = fact::Entity::find().filter(fact::Column::UserId.eq(user));
    if !q.include_history {
        select = select.filter(fact::Column::Status.eq("active"));
    }
    let mut rows = select
        .order_by_desc(fact::Column::UpdatedAt)
        .order_by_desc(fact::Column::Id)
        .all(&state.db)
        .await?;
    rows.sort_by_key(|f| f.status != "active");
    Ok(
        HttpResponse::Ok()
            .json(json!({"facts": rows.iter().map(memory::view).collect::<Vec<_>>()})),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBody {
    kind: String,
    content: String,
}

/// `POST /memory {kind, content}`: the user tells it a fact → 201 with the fact.
pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<NewBody>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.timezone(user).await?;
    let kept = memory::remember(
        &state.db,
        user,
        memory::NewFact {
            kind: &body.kind,
            content: &body.content,
            confidence: 1.0,
            sources: Vec::new(),
            origin: "user",
            learnt_on: memory::today(chrono::Utc::now(), tz),
            supersedes: None,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(memory::view(&kept)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    kind: Option<String>,
    content: Option<String>,
}

/// `PUT /memory/{id} {kind?, content?}` → the fact as edited.
pub async fn edit(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, ApiError> {
    let m = memory::edit(
        &state,
        user,
        path.into_inner(),
        body.kind.as_deref(),
        body.content.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(memory::view(&m)))
}

/// `DELETE /memory/{id}` → `{forgotten: {facts, messages, diaries, other}}`: the fact is gone
/// and its words are redacted where they were kept.
pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let done = memory::delete(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"forgotten": done})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgetBody {
    words: String,
}

/// `POST /memory/forget {words}`: what "forget X" in chat does.
pub async fn forget(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<ForgetBody>,
) -> Result<HttpResponse, ApiError> {
    let done = memory::forget(&state, user, &body.words).await?;
    Ok(HttpResponse::Ok().json(json!({"forgotten": done})))
}
