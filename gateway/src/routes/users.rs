use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::user;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::domain::{
    self, AvatarUrl, Email, LoginName, Nickname, Phone, Preferences, TimeZoneName,
};
use crate::repo::users;
use crate::state::AppState;

/// The account (**compat**: every field of the UniLife app's `UserResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    /// The login name (the original app's `user_id`: for its accounts, the Apple user id).
    pub user_id: String,
    /// The login name when none was given.
    pub nickname: String,
    pub timezone: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub avatar_url: Option<String>,
    /// `{hourly_baseline: {"6": 40, ...}, task_energy_cost: {"deep_work": -20, ...},
    /// learned_adjustments: {}}`, the original's defaults until changed.
    #[schema(value_type = Object)]
    pub energy_profile: Value,
    /// 0–100.
    pub current_energy: i32,
    /// The app's keys (`notification_enabled`, `auto_schedule_enabled`,
    /// `energy_based_scheduling`, `working_hours_start`, `working_hours_end`, with the
    /// original's defaults) and any other key stored.
    #[schema(value_type = Object)]
    pub preferences: Value,
    pub created_at: DateTime<Utc>,
    /// The account's creation time until it is first active.
    pub last_active_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            nickname: u
                .nickname
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| u.login.clone()),
            user_id: u.login,
            timezone: u.timezone,
            email: u.email,
            phone: u.phone,
            avatar_url: u.avatar_url,
            energy_profile: domain::energy_profile_view(u.energy_profile.as_ref()),
            current_energy: u.current_energy.clamp(0, 100),
            preferences: domain::preferences_view(&u.preferences),
            created_at: u.created_at,
            last_active_at: u.last_active_at.unwrap_or(u.created_at),
        }
    }
}

/// A partial update (**compat**: the app's `UserUpdate`). Absent and `null` fields stay as
/// they are (the original ignored `null`); `""` clears `email`, `phone` and `avatar_url`.
/// `preferences` are merged into the stored ones (a key sent as `null` is removed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub nickname: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub phone: Option<Option<String>>,
    /// The login name (must be free).
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub user_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::present")]
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<Option<Value>>,
}

impl UpdateMe {
    fn is_empty(&self) -> bool {
        self.nickname.is_none()
            && self.email.is_none()
            && self.phone.is_none()
            && self.user_id.is_none()
            && self.avatar_url.is_none()
            && self.timezone.is_none()
            && self.preferences.is_none()
    }
}

/// **compat** `EnergyProfileUpdate`: each part sent replaces the stored one; absent or `null`
/// parts stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnergy {
    /// Hour of day (`"0"`–`"23"`) → baseline energy 0–100.
    #[schema(value_type = Option<Object>)]
    pub hourly_baseline: Option<Map<String, Value>>,
    /// Task type → energy change, −100 to 100.
    #[schema(value_type = Option<Object>)]
    pub task_energy_cost: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub learned_adjustments: Option<Map<String, Value>>,
}

async fn load(state: &AppState, id: Uuid) -> Result<user::Model, ApiError> {
    users::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::AccountGone, "this account no longer exists"))
}

fn invalid(e: crate::domain::Invalid) -> ApiError {
    ApiError::validation(e.to_string())
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
    if body.is_empty() {
        return Err(ApiError::validation("no fields to update"));
    }
    let current = load(&state, user.id).await?;
    let stored_preferences = current.preferences.clone();
    let current_login = current.login.clone();
    let mut model = current.into_active_model();
    if let Some(Some(nick)) = body.nickname {
        let nick = Nickname::parse(&nick).map_err(invalid)?.into_inner();
        if nick.is_empty() {
            return Err(ApiError::validation("nickname must not be empty"));
        }
        model.nickname = Set(Some(nick));
    }
    if let Some(Some(email)) = body.email {
        let email = cleared(&email)
            .map(Email::parse)
            .transpose()
            .map_err(invalid)?
            .map(Email::into_inner);
        if let Some(e) = &email
            && let Some(other) = users::find_by_email(&state.db, e).await?
            && other.id != user.id
        {
            return Err(ApiError::new(
                ErrorCode::EmailTaken,
                "this email is already registered",
            ));
        }
        model.email = Set(email);
    }
    if let Some(Some(phone)) = body.phone {
        model.phone = Set(cleared(&phone)
            .map(Phone::parse)
            .transpose()
            .map_err(invalid)?
            .map(Phone::into_inner));
    }
    if let Some(Some(login)) = body.user_id {
        let login = LoginName::parse(&login).map_err(invalid)?;
        if login.as_str() != current_login {
            if users::find_by_login(&state.db, login.as_str())
                .await?
                .is_some()
            {
                return Err(ApiError::new(
                    ErrorCode::UserExists,
                    "this user_id is taken",
                ));
            }
            model.login = Set(login.as_str().to_owned());
        }
    }
    if let Some(Some(tz)) = body.timezone {
        model.timezone = Set(TimeZoneName::parse(&tz).map_err(invalid)?.into_inner());
    }
    if let Some(Some(url)) = body.avatar_url {
        model.avatar_url = Set(cleared(&url)
            .map(AvatarUrl::parse)
            .transpose()
            .map_err(invalid)?
            .map(AvatarUrl::into_inner));
    }
    if let Some(Some(prefs)) = body.preferences {
        let merged = Preferences::parse(prefs)
            .and_then(|p| p.merge_into(&stored_preferences))
            .map_err(invalid)?;
        model.preferences = Set(merged);
    }
    let now = shared::time::now_micros();
    model.updated_at = Set(now);
    model.last_active_at = Set(Some(now));
    let saved = model.update(&state.db).await.map_err(|e| {
        if shared::db::is_unique_violation(&e) {
            ApiError::new(
                ErrorCode::EmailTaken,
                "this email or user_id is already registered",
            )
        } else {
            e.into()
        }
    })?;
    Ok(HttpResponse::Ok().json(UserView::from(saved)))
}

/// `None` for a blank text: the field is cleared.
fn cleared(raw: &str) -> Option<&str> {
    Some(raw).filter(|v| !v.trim().is_empty())
}

#[utoipa::path(put, path = "/api/v1/users/me/energy", tag = "users", security(("bearer" = [])), request_body = UpdateEnergy,
    responses((status = 200, body = UserView), (status = 400), (status = 401)))]
pub async fn update_energy(
    user: AuthUser,
    body: web::Json<UpdateEnergy>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let current = load(&state, user.id).await?;
    let mut profile = domain::energy_profile_view(current.energy_profile.as_ref());
    if let Some(raw) = body.hourly_baseline {
        profile["hourly_baseline"] = domain::hourly_baseline(raw).map_err(invalid)?;
    }
    if let Some(raw) = body.task_energy_cost {
        profile["task_energy_cost"] = domain::task_energy_cost(raw).map_err(invalid)?;
    }
    if let Some(raw) = body.learned_adjustments {
        profile["learned_adjustments"] = domain::learned_adjustments(raw).map_err(invalid)?;
    }
    let mut model = current.into_active_model();
    model.energy_profile = Set(Some(profile));
    let now = shared::time::now_micros();
    model.updated_at = Set(now);
    model.last_active_at = Set(Some(now));
    let saved = model.update(&state.db).await?;
    Ok(HttpResponse::Ok().json(UserView::from(saved)))
}
