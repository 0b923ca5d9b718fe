//! `GET /users/me/onboarding-status` and `POST /users/me/onboarding-status/dismiss`
//! (**compat**): whether the app shows its "wake the assistant" button instead of the input.

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::ApiError;
use shared::internal_auth::UserId;

use crate::state::AppState;
use crate::user_state;

pub async fn status(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let done = user_state::get(&state.db, user)
        .await?
        .is_some_and(|s| s.onboarding_done_at.is_some());
    Ok(HttpResponse::Ok().json(json!({"needs_onboarding": !done})))
}

pub async fn dismiss(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    user_state::finish_onboarding(&state.db, user).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "success", "needs_onboarding": false})))
}
