//! `/projects`: the original's routes, bodies and answers (its `Project` with statistics,
//! `SetModeResponse`, the archive answer and the quest overview).

use actix_web::{HttpResponse, web};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::project::ProjectMode;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::events::Owner;
use crate::projects::store::{self, ModeOutcome};
use crate::projects::{ProjectInput, quests, stats};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    active_only: Option<bool>,
    /// Accepted; the statistics always come (the original's list without them showed
    /// counters that were never kept, zeros).
    #[expect(dead_code, reason = "accepted for the app; statistics always come")]
    include_stats: Option<bool>,
    /// Sent by old clients; the token decides whose projects these are.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `GET /projects[?active_only=true&include_stats=]` → the user's projects by tier, then age.
pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let projects = store::list(&state.db, user, q.active_only.unwrap_or(true)).await?;
    let ids: Vec<Uuid> = projects.iter().map(|p| p.id).collect();
    let stats = stats::for_projects(&state.db, user, &ids).await?;
    Ok(HttpResponse::Ok().json(
        projects
            .iter()
            .map(|p| stats::view(p, stats.get(&p.id).copied().unwrap_or_default()))
            .collect::<Vec<_>>(),
    ))
}

async fn answer(state: &AppState, p: &shared::entities::project::Model) -> Result<Value, ApiError> {
    let s = stats::for_project(&state.db, p.user_id, p.id).await?;
    Ok(stats::view(p, s))
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let p = store::owned(&state.db, user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(answer(&state, &p).await?))
}

/// `POST /projects` → the new project (200, as the original answered).
pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let input = ProjectInput::create_from_json(body.into_inner())?;
    let p = store::create(&state.db, user, input).await?;
    Ok(HttpResponse::Ok().json(stats::view(&p, stats::Stats::default())))
}

/// `PUT /projects/{id}`: what was sent changes (`null` leaves a field as it is).
pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let input = ProjectInput::update_from_json(body.into_inner())?;
    let changed = store::update(&state.db, user, path.into_inner(), input).await?;
    Ok(HttpResponse::Ok().json(answer(&state, &changed.after).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeBody {
    mode: ProjectMode,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `POST /projects/{id}/mode {mode}` → the original's `SetModeResponse`: `{success, project,
/// warning, existing_sprint, message}`. SPRINT while another active project sprints changes
/// nothing and answers the warning, naming that project.
pub async fn set_mode(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let asked: ModeBody = serde_path_to_error::deserialize(body.into_inner()).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if field == "." {
            ApiError::validation(format!("invalid mode request: {inner}"))
        } else {
            ApiError::validation(format!("invalid mode request: {field}: {inner}"))
        }
    })?;
    let body = match store::set_mode(&state.db, user, path.into_inner(), asked.mode).await? {
        ModeOutcome::Switched(changed) => json!({
            "success": true,
            "project": answer(&state, &changed.after).await?,
            "warning": false,
            "existing_sprint": null,
            "message": null,
        }),
        ModeOutcome::AlreadySprinting(other) => json!({
            "success": false,
            "project": null,
            "warning": true,
            "existing_sprint": other.title,
            "message": format!(
                "Project '{}' is already in SPRINT mode. Consider completing it first.",
                other.title
            ),
        }),
    };
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /projects/{id}` archives the project (`is_active: false`); its events stay.
pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    store::archive(&state.db, user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "message": "Project archived"})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    date: Option<String>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `GET /projects/quests/overview[?date=YYYY-MM-DD]`: the day's tasks (today in the user's
/// zone by default) as MAIN, SIDE and DAILY quests.
pub async fn quest_overview(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let owner = Owner {
        user,
        tz: state.timezone(user).await?,
    };
    let date = match q.date.as_deref().map(str::trim) {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::validation(format!("date {d:?} is not YYYY-MM-DD")))?,
        None => Utc::now().with_timezone(&owner.tz).date_naive(),
    };
    Ok(HttpResponse::Ok().json(quests::overview(&state.db, owner, date).await?))
}
