use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{diary, profile, profile_log};
use shared::internal_auth::UserId;

use crate::diary::{self as d, DiaryOutcome};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    days: Option<i64>,
    limit: Option<u64>,
    /// The original's clients send it; the token decides whose diaries these are.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = q.days.unwrap_or(7);
    let limit = q.limit.unwrap_or(30);
    if !(1..=3650).contains(&days) || !(1..=100).contains(&limit) {
        return Err(ApiError::validation(
            "days must be 1 to 3650 and limit 1 to 100",
        ));
    }
    let tz = state.timezone(user).await?;
    let since = Utc::now().with_timezone(&tz).date_naive() - Duration::days(days);
    let select = diary::Entity::find()
        .filter(diary::Column::UserId.eq(user))
        .filter(diary::Column::DiaryDate.gte(since));
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .order_by_desc(diary::Column::DiaryDate)
        .limit(limit)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "diaries": rows.iter().map(d::view).collect::<Vec<_>>(),
        "total": total,
        "has_more": total > limit,
    })))
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let date: NaiveDate = path
        .parse()
        .map_err(|_| ApiError::validation("the date must be YYYY-MM-DD"))?;
    let found = d::find(&state, user, date)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::DiaryNotFound, "no diary for that date"))?;
    Ok(HttpResponse::Ok().json(d::view(&found)))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    target_date: Option<NaiveDate>,
    #[serde(rename = "user_id")]
    _user_id: Option<serde_json::Value>,
}

pub async fn generate(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: Option<web::Json<GenerateBody>>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.timezone(user).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let date = body
        .and_then(|b| b.into_inner().target_date)
        .unwrap_or(today - Duration::days(1));
    if date > today {
        return Err(ApiError::validation("target_date is in the future"));
    }
    match d::generate(&state, user, date).await? {
        DiaryOutcome::Written(x) => Ok(HttpResponse::Created().json(d::view(&x))),
        DiaryOutcome::Existing(x) => Ok(HttpResponse::Ok().json(d::view(&x))),
        DiaryOutcome::Skipped => Err(ApiError::new(
            ErrorCode::NoMessages,
            "no messages on that date to write a diary from",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    job_type: String,
    target_date: Option<NaiveDate>,
    #[serde(rename = "user_id")]
    _user_id: Option<serde_json::Value>,
}

pub async fn analyze(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<AnalyzeBody>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.timezone(user).await?;
    let date = body
        .target_date
        .unwrap_or(Utc::now().with_timezone(&tz).date_naive() - Duration::days(1));
    let log = match body.job_type.as_str() {
        "daily" => d::daily_profile(&state, user, date).await?,
        "weekly" => d::weekly_profile(&state, user, date).await?,
        _ => return Err(ApiError::validation("job_type must be daily or weekly")),
    };
    Ok(HttpResponse::Ok().json(log_view(&log)))
}

pub fn log_view(l: &profile_log::Model) -> serde_json::Value {
    json!({"id": l.id, "job_type": l.job_type, "target_date": l.target_date, "changes": l.changes,
        "confidence_delta": l.confidence_delta, "status": l.status, "error": l.error, "created_at": l.created_at})
}

pub async fn evolution(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let rows = profile_log::Entity::find()
        .filter(profile_log::Column::UserId.eq(user))
        .order_by_desc(profile_log::Column::CreatedAt)
        .limit(100)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(log_view).collect::<Vec<_>>()))
}

pub async fn profile(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let p = profile::Entity::find_by_id(user).one(&state.db).await?;
    Ok(HttpResponse::Ok().json(json!({
        "user_id": user,
        "traits": p.as_ref().map_or(json!({}), |p| p.data.clone()),
        "updated_at": p.map(|p| p.updated_at),
    })))
}
