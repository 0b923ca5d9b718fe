use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use shared::ApiError;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::events::{self as ev, EventInput};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    status: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.timezone(user).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let start = q.start_date.unwrap_or(today - Duration::days(30));
    let end = q.end_date.unwrap_or(today + Duration::days(90));
    if end < start || end - start > Duration::days(366) {
        return Err(ApiError::validation(
            "end_date must be after start_date, at most a year apart",
        ));
    }
    if let Some(s) = &q.status
        && !ev::STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::validation(
            "status must be pending, completed or cancelled",
        ));
    }
    let list = ev::between(
        &state.db,
        user,
        ev::local_midnight(tz, start),
        ev::local_midnight(tz, end + Duration::days(1)),
        q.status.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(list.iter().map(ev::view).collect::<Vec<_>>()))
}

pub async fn today(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let tz = state.timezone(user).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let list = ev::between(
        &state.db,
        user,
        ev::local_midnight(tz, today),
        ev::local_midnight(tz, today + Duration::days(1)),
        None,
    )
    .await?;
    Ok(HttpResponse::Ok().json(list.iter().map(ev::view).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    exclude_id: Option<Uuid>,
}

pub async fn conflicts(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = ev::conflicts(&state.db, user, q.start_time, q.end_time, q.exclude_id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "has_conflicts": !list.is_empty(),
        "conflicts": list.iter().map(ev::view).collect::<Vec<_>>(),
    })))
}

pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<EventInput>,
) -> Result<HttpResponse, ApiError> {
    let e = ev::create(&state.db, user, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(ev::view(&e)))
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ev::view(
        &ev::owned(&state.db, user, path.into_inner()).await?,
    )))
}

pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<EventInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ev::view(
        &ev::update(&state.db, user, path.into_inner(), body.into_inner()).await?,
    )))
}

pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    ev::delete(&state.db, user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn complete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let input = EventInput {
        status: Some("completed".into()),
        ..EventInput::default()
    };
    Ok(HttpResponse::Ok().json(ev::view(
        &ev::update(&state.db, user, path.into_inner(), input).await?,
    )))
}
