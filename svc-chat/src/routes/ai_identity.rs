//! `GET /users/me/ai-identity` (**compat**): the name and manner the assistant has for this
//! user, with the original's defaults until it is given one; `PUT` (ours) sets them, as the
//! assistant's `set_identity` tool does in chat.

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

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityBody {
    name: String,
    emoji: Option<String>,
    vibe: Option<String>,
}

/// `PUT /users/me/ai-identity {name, emoji?, vibe?}` → the identity as `GET` answers it.
pub async fn put(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<IdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    let emoji = body.emoji.as_deref().unwrap_or_default();
    let vibe = body.vibe.as_deref().unwrap_or_default();
    if name.is_empty() || name.chars().count() > 20 {
        return Err(ApiError::validation(
            "名字需要 1 到 20 个字 / name must be 1 to 20 characters",
        ));
    }
    if emoji.chars().count() > 8 || vibe.chars().count() > 100 {
        return Err(ApiError::validation(
            "emoji 最多 8 个字符，性格最多 100 个字 / emoji at most 8 characters, vibe at most 100",
        ));
    }
    user_state::set_ai_identity(&state.db, user, name, emoji, vibe).await?;
    get(state, UserId(user)).await
}
