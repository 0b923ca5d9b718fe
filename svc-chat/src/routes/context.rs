//! `POST /chat/clear_context` (**compat**): the app cleared its chat screen, so the assistant
//! starts afresh. Nothing is deleted: the history routes still show every message.

use actix_web::{HttpResponse, web};
use chrono::{SubsecRound, Utc};
use serde_json::json;
use shared::ApiError;
use shared::internal_auth::UserId;

use crate::state::AppState;
use crate::user_state;

/// The original read `user_id` from a free-form body; any JSON body is accepted and ignored
/// here, since the caller's token decides whose context is cleared.
pub async fn clear_context(
    state: web::Data<AppState>,
    UserId(user): UserId,
    _body: Option<web::Json<serde_json::Value>>,
) -> Result<HttpResponse, ApiError> {
    // Microseconds, as PostgreSQL keeps it: the answer says what is stored.
    let now = Utc::now().trunc_subsecs(6);
    user_state::clear_context(&state.db, user, now).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "success",
        "message": "聊天上下文已清空",
        "cleared_at": now,
    })))
}
