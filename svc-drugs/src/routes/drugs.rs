//! The cabinet: `/api/v1/drugs[/{id}]`, `/api/v1/drugs/expiring`, and a drug's photos.

use crate::household::Person;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use uuid::Uuid;

use crate::cabinet::{self, DrugInput, ListQuery};
use crate::safety;
use crate::state::AppState;

pub async fn create(
    state: web::Data<AppState>,
    Person(user): Person,
    body: web::Json<DrugInput>,
) -> Result<HttpResponse, ApiError> {
    let view = cabinet::create(&state, user, body.into_inner()).await?;
    let checks = safety::about_after_write(&state, user, view.id).await;
    Ok(HttpResponse::Created().json(super::Added { item: view, checks }))
}

/// `POST /api/v1/drugs/codes`: what a scanned code says; `save` adds the drug.
pub async fn scan(
    state: web::Data<AppState>,
    Person(user): Person,
    body: web::Json<cabinet::ScanInput>,
) -> Result<HttpResponse, ApiError> {
    let scanned = cabinet::scan(&state, user, body.into_inner()).await?;
    Ok(if scanned.saved {
        HttpResponse::Created().json(scanned)
    } else {
        HttpResponse::Ok().json(scanned)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksQuery {
    /// A medicine not in the cabinet (at the pharmacy, say): what it would meet there.
    with: Option<String>,
}

/// `GET /api/v1/drugs/checks[?with=<name>]`: interactions and duplicate ingredients across
/// the cabinet, or what a medicine not in it yet would meet there (reported under the nil id).
pub async fn checks(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<ChecksQuery>,
) -> Result<HttpResponse, ApiError> {
    let report = match query.with.as_deref().map(str::trim) {
        None => safety::checks(&state, user).await?,
        Some(name) if name.is_empty() || name.chars().count() > 100 => {
            return Err(ApiError::validation(
                "with 应为 1 到 100 个字的药名。with must be a medicine name of 1 to 100 characters.",
            ));
        }
        Some(name) => safety::about_new(&state, user, name, None, None, None).await?,
    };
    Ok(HttpResponse::Ok().json(report))
}

pub async fn get(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cabinet::get(&state, user, path.into_inner()).await?))
}

pub async fn update(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
    body: web::Json<DrugInput>,
) -> Result<HttpResponse, ApiError> {
    let view = cabinet::update(&state, user, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn delete(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    cabinet::delete(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cabinet::list(&state, user, &query).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiringQuery {
    days: Option<i64>,
}

pub async fn expiring(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cabinet::expiring_for(&state, user, query.days).await?))
}

pub async fn image(
    state: web::Data<AppState>,
    Person(user): Person,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (drug, image) = path.into_inner();
    Ok(super::jpeg(
        cabinet::image(&state, user, drug, image).await?,
    ))
}
