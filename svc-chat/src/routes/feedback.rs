//! `POST /chat/feedback`: a rating of one of the assistant's messages, kept (the original
//! answered thanks and kept nothing, a TODO its author left).

use actix_web::{HttpResponse, web};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;
use shared::entities::{chat_feedback, message};
use shared::internal_auth::UserId;
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::state::AppState;

/// The original's `ChatFeedbackRequest`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    message_id: Uuid,
    rating: i16,
    comment: Option<String>,
    /// The token decides whose feedback this is.
    #[serde(rename = "user_id")]
    _user_id: Option<serde_json::Value>,
}

pub async fn post_feedback(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<Feedback>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if !(1..=5).contains(&body.rating) {
        return Err(ApiError::validation("rating must be 1 to 5"));
    }
    let comment = body
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(ApiError::validation(
            "comment is longer than 2000 characters",
        ));
    }
    // Only the assistant's messages in the caller's own conversations are rated.
    message::Entity::find_by_id(body.message_id)
        .filter(message::Column::UserId.eq(user))
        .filter(message::Column::Role.eq("assistant"))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::MessageNotFound, "no such assistant message"))?;
    chat_feedback::Entity::insert(chat_feedback::ActiveModel {
        message_id: Set(body.message_id),
        user_id: Set(user),
        rating: Set(body.rating),
        comment: Set(comment),
        created_at: Set(shared::time::now_micros()),
    })
    .on_conflict(
        OnConflict::column(chat_feedback::Column::MessageId)
            .update_columns([
                chat_feedback::Column::Rating,
                chat_feedback::Column::Comment,
                chat_feedback::Column::CreatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "success",
        "message": "感谢您的反馈，我们会持续改进！",
    })))
}
