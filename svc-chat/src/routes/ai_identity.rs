//! `GET /users/me/ai-identity` (**compat**): the name and manner the assistant has for this
//! user, with the original's defaults until it is given one.

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::ApiError;
use shared::internal_auth::UserId;

use crate::state::AppState;
use crate::user_state::{
    self, DEFAULT_AI_CREATURE, DEFAULT_AI_EMOJI, DEFAULT_AI_NAME, DEFAULT_AI_VIBE,
};

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let s = user_state::get(&state.db, user).await?;
    let field = |pick: fn(&shared::entities::chat_user_state::Model) -> &Option<String>,
                 default: &str| {
        s.as_ref()
            .and_then(|s| pick(s).as_deref())
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
            .to_owned()
    };
    Ok(HttpResponse::Ok().json(json!({
        "name": field(|s| &s.ai_name, DEFAULT_AI_NAME),
        "emoji": field(|s| &s.ai_emoji, DEFAULT_AI_EMOJI),
        "creature": field(|s| &s.ai_creature, DEFAULT_AI_CREATURE),
        "vibe": field(|s| &s.ai_vibe, DEFAULT_AI_VIBE),
    })))
}
