//! Exports: `GET /api/v1/export/fhir` and `GET /api/v1/export/report`.

use crate::household::Person;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use shared::ApiError;

use crate::export::{self, ExportQuery, Lang};
use crate::state::AppState;

/// A FHIR R4 Bundle of the person's medication statements and administrations.
pub async fn fhir(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    if query.lang.is_some() {
        return Err(ApiError::validation(
            "lang 只用于报告。lang is for the report only.",
        ));
    }
    let gathered = export::gather(&state, user, &query).await?;
    let bundle = export::bundle(&gathered, Utc::now());
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(bundle))
}

/// The printable report for a doctor's visit.
pub async fn report(
    state: web::Data<AppState>,
    Person(user): Person,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::parse(query.lang.as_deref())
        .ok_or_else(|| ApiError::validation("lang 应为 zh 或 en。lang must be zh or en."))?;
    let gathered = export::gather(&state, user, &query).await?;
    let checks = crate::safety::checks(&state, user).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(export::html(&gathered, &checks, lang, Utc::now())))
}
