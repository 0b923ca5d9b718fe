//! `/habits`: a habit's days, its record, keeping or cancelling it (the original's routes).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::internal_auth::UserId;

use crate::events::{self as ev, Owner};
use crate::habits::{self, Batch, Confirmed};
use crate::state::AppState;

async fn owner(state: &AppState, user: uuid::Uuid) -> Result<Owner, ApiError> {
    Ok(Owner {
        user,
        tz: state.timezone(user).await?,
    })
}

fn today(owner: Owner) -> chrono::NaiveDate {
    Utc::now().with_timezone(&owner.tz).date_naive()
}

/// `GET /habits/{batch_id}` → the habit's days as events: those made into instances, then the
/// coming ones (virtual ids, as `GET /events` lists them).
pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    Ok(
        match habits::batch(&state.db, owner, &path, today(owner)).await? {
            Batch::Instances(rows) => {
                HttpResponse::Ok().json(ev::query::merged(&rows, &[], owner.tz))
            }
            Batch::Series { made, coming } => {
                HttpResponse::Ok().json(ev::query::merged(&made, &coming, owner.tz))
            }
        },
    )
}

/// `GET /habits/{batch_id}/stats` → days due, done, rate and streaks.
pub async fn stats(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    Ok(HttpResponse::Ok().json(habits::stats(&state.db, owner, &path, today(owner)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    confirm: bool,
}

/// `POST /habits/{batch_id}/confirm {confirm}` → `{status: active|cancelled, message}`.
pub async fn confirm(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
    body: web::Json<ConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner(&state, user).await?;
    let answer = match habits::confirm(&state.db, owner, &path, body.confirm, today(owner)).await? {
        Confirmed::Active => json!({
            "status": "active",
            "message": "Habit is now active. System will automatically replenish instances.",
        }),
        Confirmed::Cancelled(_) => json!({
            "status": "cancelled",
            "message": "Remaining habit instances have been cancelled",
        }),
    };
    Ok(HttpResponse::Ok().json(answer))
}
