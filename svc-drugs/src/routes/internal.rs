//! Internal routes (internal token required; never routed by the gateway).
//!
//! For svc-chat, on behalf of the user in the token: the cabinet and today's doses.
//! For svc-scheduler, across users: doses due in a window, marking missed doses, drugs in a
//! user's warning window, low stock.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use shared::ApiError;
use shared::entities::{dose_log, drug, medication_plan};
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::state::AppState;

use super::medications::{self, DoseView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/internal")
            .route("/cabinet", web::get().to(cabinet))
            .route("/doses/today", web::get().to(doses_today))
            .route("/doses/due", web::get().to(doses_due))
            .route("/doses/mark-missed", web::post().to(mark_missed))
            .route("/users/{user_id}/expiring", web::get().to(user_expiring))
            .route("/low-stock", web::get().to(low_stock)),
    );
}

pub async fn cabinet(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let prefs = state.user_prefs(user).await?;
    let rows = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .order_by_asc(drug::Column::Name)
        .limit(500)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(super::drugs::views(&state, &prefs, rows).await?))
}

pub async fn doses_today(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let prefs = state.user_prefs(user).await?;
    let today = prefs.today().to_string();
    let from = medications::parse_bound(&today, prefs.timezone, false)?;
    let to = medications::parse_bound(&today, prefs.timezone, true)?;
    let plans = medications::user_plans(&state.db, user).await?;
    Ok(
        HttpResponse::Ok()
            .json(medications::expand(&state.db, &plans, from, to, Utc::now()).await?),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(serde::Serialize)]
struct UserDose {
    user_id: Uuid,
    #[serde(flatten)]
    dose: DoseView,
}

async fn window_doses(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<UserDose>, ApiError> {
    if to <= from || to - from > Duration::days(2) {
        return Err(ApiError::validation(
            "the window must be positive and at most 2 days",
        ));
    }
    let plans = medication_plan::Entity::find()
        .filter(medications::active_between(from, to))
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for chunk in plans.chunks(500) {
        let doses = medications::expand(&state.db, chunk, from, to, now).await?;
        for dose in doses {
            let user_id = chunk
                .iter()
                .find(|p| p.id == dose.plan_id)
                .map(|p| p.user_id)
                .unwrap_or_default();
            out.push(UserDose { user_id, dose });
        }
    }
    Ok(out)
}

/// Doses whose time is in `[from, to)` and that nobody acted on, plus snoozed doses whose
/// snooze ends in the window.
pub async fn doses_due(
    state: web::Data<AppState>,
    query: web::Query<Window>,
) -> Result<HttpResponse, ApiError> {
    let doses = window_doses(&state, query.from, query.to, query.from).await?;
    let due: Vec<UserDose> = doses
        .into_iter()
        .filter(|d| d.dose.status == "due")
        .collect();
    // Snoozed doses come back when their snooze ends.
    let snoozed = dose_log::Entity::find()
        .filter(dose_log::Column::Status.eq("snoozed"))
        .filter(dose_log::Column::SnoozedUntil.gte(query.from))
        .filter(dose_log::Column::SnoozedUntil.lt(query.to))
        .all(&state.db)
        .await?;
    let mut out = due;
    for log in snoozed {
        let Some(plan) = medication_plan::Entity::find_by_id(log.plan_id)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        let at = log.scheduled_at;
        for dose in medications::expand(
            &state.db,
            std::slice::from_ref(&plan),
            at,
            at + Duration::seconds(1),
            Utc::now(),
        )
        .await?
        {
            out.push(UserDose {
                user_id: plan.user_id,
                dose,
            });
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkMissed {
    /// Doses due before this instant (and after `since`) not acted on become missed.
    before: DateTime<Utc>,
    since: DateTime<Utc>,
}

/// Record as missed every unacted dose in `[since, before - grace)`; answers the doses newly
/// marked (a dose already marked is not returned again, so a retried call notifies once).
pub async fn mark_missed(
    state: web::Data<AppState>,
    body: web::Json<MarkMissed>,
) -> Result<HttpResponse, ApiError> {
    let until = body.before - medications::MISSED_AFTER;
    if until <= body.since {
        return Ok(HttpResponse::Ok().json(Vec::<UserDose>::new()));
    }
    let doses = window_doses(&state, body.since, until, body.before).await?;
    let mut marked = Vec::new();
    for d in doses
        .into_iter()
        .filter(|d| d.dose.status == "missed" && d.dose.acted_at.is_none())
    {
        let Some(at) = DateTime::parse_from_rfc3339(&d.dose.scheduled_at).ok() else {
            continue;
        };
        let now = Utc::now();
        let row = dose_log::ActiveModel {
            id: sea_orm::Set(Uuid::now_v7()),
            user_id: sea_orm::Set(d.user_id),
            plan_id: sea_orm::Set(d.dose.plan_id),
            scheduled_at: sea_orm::Set(at.with_timezone(&Utc)),
            status: sea_orm::Set("missed".into()),
            amount: sea_orm::Set(d.dose.amount),
            snoozed_until: sea_orm::Set(None),
            stock_deducted: sea_orm::Set(false),
            acted_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
        };
        let inserted = dose_log::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([
                    dose_log::Column::PlanId,
                    dose_log::Column::ScheduledAt,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&state.db)
            .await?;
        if inserted == 1 {
            marked.push(d);
        }
    }
    Ok(HttpResponse::Ok().json(marked))
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
    Ok(HttpResponse::Ok()
        .json(super::drugs::expiring_for(&state, path.into_inner(), query.days).await?))
}

pub async fn low_stock(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let plans = medication_plan::Entity::find()
        .filter(medication_plan::Column::Stock.is_not_null())
        .filter(medication_plan::Column::LowStockThreshold.is_not_null())
        .filter(
            sea_orm::sea_query::Expr::col(medication_plan::Column::Stock).lte(
                sea_orm::sea_query::Expr::col(medication_plan::Column::LowStockThreshold),
            ),
        )
        .limit(10_000)
        .all(&state.db)
        .await?;
    let body: Vec<serde_json::Value> = plans
        .into_iter()
        .map(|p| {
            serde_json::json!({
                "user_id": p.user_id, "plan_id": p.id, "drug_id": p.drug_id,
                "stock": p.stock, "low_stock_threshold": p.low_stock_threshold,
                "unit": p.dose_unit,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
