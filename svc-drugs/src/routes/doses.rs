//! Doses: `GET /api/v1/doses?from=&to=` and `POST /api/v1/doses/{id}/taken|skipped|snooze`.

use crate::household::Person;
use actix_web::{HttpResponse, web};
use shared::ApiError;

use crate::plans::{self, RangeQuery, SnoozeBody};
use crate::state::AppState;

pub async fn list(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plans::doses(&state, user, &query).await?))
}

pub async fn act(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<(String, String)>,
    body: Option<web::Json<SnoozeBody>>,
) -> Result<HttpResponse, ApiError> {
    let (dose, action) = path.into_inner();
    let minutes = SnoozeBody::minutes(body.as_deref())?;
    let view = plans::record_action(&state, user, &dose, &action, minutes).await?;
    Ok(HttpResponse::Ok().json(view))
}
