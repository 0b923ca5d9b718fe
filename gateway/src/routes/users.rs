use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::user;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::domain::{AvatarUrl, Email, Nickname, Preferences, TimeZoneName};
use crate::repo::users;
use crate::state::AppState;

/// **compat** shape of the UniLife iOS client.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    /// The login name.
    pub user_id: String,
    pub nickname: Option<String>,
    pub timezone: String,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    #[schema(value_type = Object)]
    pub preferences: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub last_active_at: Option<DateTime<Utc>>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            user_id: u.login,
            nickname: u.nickname,
            timezone: u.timezone,
            email: u.email,
            avatar_url: u.avatar_url,
            preferences: u.preferences,
            created_at: u.created_at,
            last_active_at: u.last_active_at,
        }
    }
}

/// A partial update: absent fields stay; `null` clears the optional ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub email: Option<Option<String>>,
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub avatar_url: Option<Option<String>>,
    #[schema(value_type = Object)]
    pub preferences: Option<serde_json::Value>,
}

async fn load(state: &AppState, id: Uuid) -> Result<user::Model, ApiError> {
    users::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::AccountGone, "this account no longer exists"))
}

#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401)))]
pub async fn get_me(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(UserView::from(load(&state, user.id).await?)))
}

#[utoipa::path(put, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = UserView), (status = 400), (status = 401), (status = 409)))]
pub async fn update_me(
    user: AuthUser,
    body: web::Json<UpdateMe>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let invalid = |e: crate::domain::Invalid| ApiError::validation(e.to_string());
    let current = load(&state, user.id).await?;
    let mut model = current.into_active_model();
    if let Some(nick) = body.nickname {
        model.nickname = Set(nick
            .as_deref()
            .map(Nickname::parse)
            .transpose()
            .map_err(invalid)?
            .map(Nickname::into_inner));
    }
    if let Some(email) = body.email {
        let email = email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()
            .map_err(invalid)?;
        if let Some(e) = &email
            && let Some(other) = users::find_by_email(&state.db, &e.clone().into_inner()).await?
            && other.id != user.id
        {
            return Err(ApiError::new(
                ErrorCode::EmailTaken,
                "this email is already registered",
            ));
        }
        model.email = Set(email.map(Email::into_inner));
    }
    if let Some(tz) = body.timezone {
        model.timezone = Set(TimeZoneName::parse(&tz).map_err(invalid)?.into_inner());
    }
    if let Some(url) = body.avatar_url {
        model.avatar_url = Set(url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(AvatarUrl::parse)
            .transpose()
            .map_err(invalid)?
            .map(AvatarUrl::into_inner));
    }
    if let Some(prefs) = body.preferences {
        model.preferences = Set(Preferences::parse(prefs).map_err(invalid)?.into_inner());
    }
    model.updated_at = Set(Utc::now());
    let saved = model.update(&state.db).await.map_err(|e| {
        if shared::db::is_unique_violation(&e) {
            ApiError::new(ErrorCode::EmailTaken, "this email is already registered")
        } else {
            e.into()
        }
    })?;
    Ok(HttpResponse::Ok().json(UserView::from(saved)))
}
