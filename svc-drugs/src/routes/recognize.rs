//! `POST /api/v1/drugs/recognize` and `POST /api/v1/drugs/recognitions/{id}/retry`.

use crate::household::Person;
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::recognition::{self, Outcome, Requester};
use crate::state::AppState;
use crate::upload::read_files;

#[derive(Debug, Deserialize)]
pub struct SaveQuery {
    save: Option<bool>,
}

impl SaveQuery {
    /// Saved unless `?save=false` (a preview).
    fn save(&self) -> bool {
        self.save.unwrap_or(true)
    }
}

/// The account and the client's address as the gateway saw it (`X-Forwarded-For`, which it
/// sets itself; only the gateway can call us, with the internal token).
pub fn requester(req: &HttpRequest, user: Uuid) -> Requester {
    let address = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok());
    Requester {
        user,
        account: user,
        address,
    }
}

/// For `person`'s cabinet, asked (and counted) by the caller's account.
fn requester_for(req: &HttpRequest, person: Uuid, UserId(account): UserId) -> Requester {
    Requester {
        account,
        ..requester(req, person)
    }
}

async fn answer(state: &AppState, user: Uuid, outcome: Outcome) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(recognition::answer(state, user, outcome).await?))
}

pub async fn recognize(
    req: HttpRequest,
    state: web::Data<AppState>,
    Person(user): Person,
    account: UserId,
    query: web::Query<SaveQuery>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let files = read_files(payload, state.drugs.max_files, state.max_file_size).await?;
    let photos = recognition::ingest(&state, user, files).await?;
    let who = requester_for(&req, user, account);
    let outcome = recognition::run(&state, who, photos, None, query.save()).await?;
    answer(&state, user, outcome).await
}

pub async fn retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    Person(user): Person,
    account: UserId,
    path: web::Path<Uuid>,
    query: web::Query<SaveQuery>,
) -> Result<HttpResponse, ApiError> {
    let who = requester_for(&req, user, account);
    let outcome = recognition::retry(&state, who, path.into_inner(), query.save()).await?;
    answer(&state, user, outcome).await
}
