//! Medication plans: `/api/v1/medications[/{id}]` and `/api/v1/medications/adherence`.

use crate::household::Person;
use actix_web::{HttpResponse, web};
use shared::ApiError;
use uuid::Uuid;

use crate::plans::{self, PlanInput, RangeQuery};
use crate::state::AppState;

pub async fn create(
    state: web::Data<AppState>,
    Person(user): Person,
    body: web::Json<PlanInput>,
) -> Result<HttpResponse, ApiError> {
    let plan = plans::create(&state, user, body.into_inner()).await?;
    let checks = crate::safety::about_after_write(&state, user, plan.drug_id()).await;
    Ok(HttpResponse::Created().json(super::Added { item: plan, checks }))
}

pub async fn list(
    state: web::Data<AppState>,
    Person(user): Person,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::list(&state, user).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::get(&state, user, path.into_inner()).await?))
}

pub async fn update(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
    body: web::Json<PlanInput>,
) -> Result<HttpResponse, ApiError> {
    let plan = plans::update(&state, user, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(plan))
}

pub async fn delete(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    plans::delete(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn adherence(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::adherence(&state, user, &query).await?))
}

/// `POST /api/v1/medications/{id}/take`: an as-needed dose, now, within its limits.
pub async fn take(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // No body: the plan's dose. A body must be right: a typo is refused, never read as none.
    let input: plans::TakeInput = if body.iter().all(u8::is_ascii_whitespace) {
        plans::TakeInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                shared::ErrorCode::InvalidJson,
                format!("invalid JSON body: {e}"),
            )
        })?
    };
    let taken = plans::take(&state, user, path.into_inner(), input).await?;
    Ok(HttpResponse::Created().json(taken))
}

/// `POST /api/v1/medications/{id}/refills`: log a refill (now or afterwards).
pub async fn add_refill(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
    body: web::Json<plans::RefillInput>,
) -> Result<HttpResponse, ApiError> {
    let refilled = plans::add_refill(&state, user, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(refilled))
}

pub async fn refills(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::refills(&state, user, path.into_inner()).await?))
}
