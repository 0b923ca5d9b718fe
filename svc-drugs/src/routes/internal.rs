//! Internal routes (internal token required; never routed by the gateway).
//!
//! For svc-chat, on behalf of the user in the token: the cabinet and today's doses.
//! For svc-scheduler, across users: doses due in a window, marking missed doses, drugs in a
//! user's warning window, low stock.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use shared::contracts::MarkMissed;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::plans::{self, Window};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/internal")
            .route("/cabinet", web::get().to(cabinet))
            .route("/doses/today", web::get().to(doses_today))
            .route("/doses/due", web::get().to(doses_due))
            .route("/doses/mark-missed", web::post().to(mark_missed))
            .route("/doses/escalations", web::get().to(escalations))
            .route("/users/{user_id}/expiring", web::get().to(user_expiring))
            .route("/low-stock", web::get().to(low_stock))
            .route("/calendar", web::get().to(calendar))
            .route("/checks", web::get().to(checks)),
    );
}

pub async fn cabinet(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::cabinet::for_assistant(&state, user).await?))
}

pub async fn doses_today(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::doses_today(&state, user).await?))
}

pub async fn doses_due(
    state: web::Data<AppState>,
    query: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::doses_due(&state, &query).await?))
}

/// Dependents' doses unmarked past their plan's escalation time, with whom to tell.
pub async fn escalations(
    state: web::Data<AppState>,
    query: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::escalations(&state, &query).await?))
}

pub async fn mark_missed(
    state: web::Data<AppState>,
    body: web::Json<MarkMissed>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::mark_missed(&state, &body).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysQuery {
    days: Option<i64>,
}

pub async fn user_expiring(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    query: web::Query<DaysQuery>,
) -> Result<HttpResponse, ApiError> {
    let drugs = crate::cabinet::expiring_for(&state, path.into_inner(), query.days).await?;
    Ok(HttpResponse::Ok().json(drugs))
}

pub async fn low_stock(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::low_stock(&state).await?))
}

/// The user's plans as recurring doses and their drugs' expiry dates, for the calendar feed.
pub async fn calendar(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::calendar(&state, user).await?))
}

/// The safety checks of the user's cabinet, for the assistant's tool (it relays them).
pub async fn checks(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(crate::safety::checks(&state, user).await?))
}
