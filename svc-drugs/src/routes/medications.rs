//! Medication plans, the doses they expand into, dose actions and adherence.
//!
//! A dose's id is `<plan id>_<unix seconds of its time>`: doses are computed, not stored, and
//! only what happened to one (taken, skipped, snoozed, missed) is a row, unique per plan and
//! time, so repeating an action changes nothing.

use shared::ErrorCode;
use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use shared::ApiError;
use shared::entities::{dose_log, drug, medication_plan};
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::domain::schedule::{Occurrence, Phase, Plan, parse_time};
use crate::state::AppState;

/// A due dose not acted on this long after its time counts as missed.
pub const MISSED_AFTER: Duration = Duration::hours(2);
const MAX_RANGE_DAYS: i64 = 92;

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DoseSpec {
    pub amount: f64,
    pub unit: String,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    pub times: Vec<String>,
    pub days_of_week: Option<Vec<u32>>,
    pub every_n_days: Option<u32>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub drug_id: Uuid,
    pub dose: DoseSpec,
    pub schedule: ScheduleSpec,
    pub phases: Option<Vec<Phase>>,
    pub stock: Option<f64>,
    pub low_stock_threshold: Option<f64>,
}

fn validate(input: &PlanInput) -> Result<(), ApiError> {
    let d = &input.dose;
    if !(d.amount.is_finite() && d.amount > 0.0 && d.amount <= 10_000.0) {
        return Err(ApiError::validation(
            "dose.amount must be above 0 and at most 10000",
        ));
    }
    if d.unit.trim().is_empty() || d.unit.chars().count() > 20 {
        return Err(ApiError::validation("dose.unit must be 1 to 20 characters"));
    }
    let s = &input.schedule;
    if s.times.is_empty() || s.times.len() > 12 {
        return Err(ApiError::validation(
            "schedule.times must list 1 to 12 times",
        ));
    }
    for t in &s.times {
        if parse_time(t).is_none() {
            return Err(ApiError::validation(format!(
                "schedule.times: {t:?} is not a time like \"08:00\""
            )));
        }
    }
    if let Some(days) = &s.days_of_week
        && (days.is_empty() || days.iter().any(|d| !(1..=7).contains(d)))
    {
        return Err(ApiError::validation(
            "schedule.days_of_week must list ISO weekdays 1 (Monday) to 7 (Sunday)",
        ));
    }
    if let Some(n) = s.every_n_days
        && !(1..=365).contains(&n)
    {
        return Err(ApiError::validation(
            "schedule.every_n_days must be 1 to 365",
        ));
    }
    if s.days_of_week.is_some() && s.every_n_days.is_some_and(|n| n > 1) {
        return Err(ApiError::validation(
            "give schedule.days_of_week or schedule.every_n_days, not both",
        ));
    }
    if let Some(end) = s.end_date
        && end < s.start_date
    {
        return Err(ApiError::validation(
            "schedule.end_date is before start_date",
        ));
    }
    if let Some(tz) = &s.timezone
        && tz.parse::<Tz>().is_err()
    {
        return Err(ApiError::validation(format!(
            "schedule.timezone: {tz:?} is not an IANA time zone"
        )));
    }
    if let Some(phases) = &input.phases
        && (phases.len() > 20
            || phases
                .iter()
                .any(|p| p.days == 0 || p.days > 3650 || !(p.amount.is_finite() && p.amount > 0.0)))
    {
        return Err(ApiError::validation(
            "phases: at most 20, each with days 1 to 3650 and an amount above 0",
        ));
    }
    for (name, v) in [
        ("stock", input.stock),
        ("low_stock_threshold", input.low_stock_threshold),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && (0.0..=1_000_000.0).contains(&v))
        {
            return Err(ApiError::validation(format!(
                "{name} must be between 0 and 1000000"
            )));
        }
    }
    Ok(())
}

pub fn plan_of(m: &medication_plan::Model) -> Plan {
    let times: Vec<String> = serde_json::from_value(m.times.clone()).unwrap_or_default();
    Plan {
        times: times.iter().filter_map(|t| parse_time(t)).collect(),
        days_of_week: m
            .days_of_week
            .clone()
            .and_then(|v| serde_json::from_value(v).ok()),
        every_n_days: m.every_n_days.and_then(|n| u32::try_from(n).ok()),
        start_date: m.start_date,
        end_date: m.end_date,
        timezone: m.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
        dose_amount: m.dose_amount,
        phases: m
            .phases
            .clone()
            .and_then(|v| serde_json::from_value(v).ok()),
    }
}

#[derive(Serialize)]
pub struct PlanView {
    id: Uuid,
    drug_id: Uuid,
    dose: DoseSpec,
    schedule: ScheduleSpec,
    phases: Option<Vec<Phase>>,
    stock: Option<f64>,
    low_stock_threshold: Option<f64>,
    low_stock: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn plan_view(m: medication_plan::Model) -> PlanView {
    let p = plan_of(&m);
    PlanView {
        id: m.id,
        drug_id: m.drug_id,
        dose: DoseSpec {
            amount: m.dose_amount,
            unit: m.dose_unit.clone(),
        },
        schedule: ScheduleSpec {
            times: serde_json::from_value(m.times.clone()).unwrap_or_default(),
            days_of_week: p.days_of_week,
            every_n_days: p.every_n_days,
            start_date: m.start_date,
            end_date: m.end_date,
            timezone: Some(m.timezone.clone()),
        },
        phases: p.phases,
        stock: m.stock,
        low_stock_threshold: m.low_stock_threshold,
        low_stock: matches!((m.stock, m.low_stock_threshold), (Some(s), Some(t)) if s <= t),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn owned_plan(
    state: &AppState,
    user: Uuid,
    id: Uuid,
) -> Result<medication_plan::Model, ApiError> {
    medication_plan::Entity::find_by_id(id)
        .filter(medication_plan::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::MedicationNotFound, "no such medication plan"))
}

fn fill(m: &mut medication_plan::ActiveModel, input: PlanInput, tz: String) {
    let s = input.schedule;
    m.drug_id = Set(input.drug_id);
    m.dose_amount = Set(input.dose.amount);
    m.dose_unit = Set(input.dose.unit.trim().to_owned());
    m.times = Set(serde_json::json!(
        s.times.iter().map(|t| t.trim()).collect::<Vec<_>>()
    ));
    m.days_of_week = Set(s.days_of_week.map(|d| serde_json::json!(d)));
    m.every_n_days = Set(s.every_n_days.and_then(|n| i32::try_from(n).ok()));
    m.start_date = Set(s.start_date);
    m.end_date = Set(s.end_date);
    m.timezone = Set(s.timezone.unwrap_or(tz));
    m.phases = Set(input.phases.map(|p| serde_json::json!(p)));
    m.stock = Set(input.stock);
    m.low_stock_threshold = Set(input.low_stock_threshold);
}

pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<PlanInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    validate(&input)?;
    super::drugs::owned_drug(&state, user, input.drug_id).await?;
    let prefs = state.user_prefs(user).await?;
    let now = Utc::now();
    let mut m = medication_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fill(&mut m, input, prefs.timezone.name().to_owned());
    let saved = m.insert(&state.db).await?;
    Ok(HttpResponse::Created().json(plan_view(saved)))
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let rows = medication_plan::Entity::find()
        .filter(medication_plan::Column::UserId.eq(user))
        .order_by_asc(medication_plan::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(plan_view).collect::<Vec<_>>()))
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(plan_view(
        owned_plan(&state, user, path.into_inner()).await?,
    )))
}

pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<PlanInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    validate(&input)?;
    let existing = owned_plan(&state, user, path.into_inner()).await?;
    super::drugs::owned_drug(&state, user, input.drug_id).await?;
    let tz = existing.timezone.clone();
    let mut m: medication_plan::ActiveModel = existing.into();
    fill(&mut m, input, tz);
    m.updated_at = Set(Utc::now());
    Ok(HttpResponse::Ok().json(plan_view(m.update(&state.db).await?)))
}

pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let plan = owned_plan(&state, user, path.into_inner()).await?;
    medication_plan::Entity::delete_by_id(plan.id)
        .exec(&state.db)
        .await?;
    dose_log::Entity::delete_many()
        .filter(dose_log::Column::PlanId.eq(plan.id))
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, Clone)]
pub struct DoseView {
    pub id: String,
    pub plan_id: Uuid,
    pub drug_id: Uuid,
    pub drug_name: String,
    pub scheduled_at: String,
    pub local_date: NaiveDate,
    pub local_time: String,
    pub amount: f64,
    pub unit: String,
    pub status: &'static str,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub acted_at: Option<DateTime<Utc>>,
}

pub fn dose_id(plan: Uuid, at: DateTime<Utc>) -> String {
    format!("{plan}_{}", at.timestamp())
}

fn parse_dose_id(id: &str) -> Option<(Uuid, DateTime<Utc>)> {
    let (plan, secs) = id.split_once('_')?;
    Some((
        plan.parse().ok()?,
        DateTime::from_timestamp(secs.parse().ok()?, 0)?,
    ))
}

/// `2026-11-22T08:00:00+08:00`, or a date: the start of that day (`from`) or the end of it
/// (`to`, inclusive) in the user's time zone.
pub fn parse_bound(raw: &str, tz: Tz, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let date: NaiveDate = raw.parse().map_err(|_| {
        ApiError::validation(format!(
            "{raw:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
        ))
    })?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    crate::domain::schedule::local_instant(tz, date, chrono::NaiveTime::MIN)
        .ok_or_else(|| ApiError::validation("that date has no midnight in your time zone"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn range(
    state: &AppState,
    user: Uuid,
    q: &RangeQuery,
) -> Result<(DateTime<Utc>, DateTime<Utc>, Tz), ApiError> {
    let prefs = state.user_prefs(user).await?;
    let tz = prefs.timezone;
    let today = prefs.today().to_string();
    let from = parse_bound(q.from.as_deref().unwrap_or(&today), tz, false)?;
    let to = parse_bound(q.to.as_deref().unwrap_or(&today), tz, true)?;
    if to <= from {
        return Err(ApiError::validation("to must be after from"));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::validation(format!(
            "a range may span at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to, tz))
}

/// Every dose of these plans in `[from, to)`, with what happened to it.
pub async fn expand<C: ConnectionTrait>(
    db: &C,
    plans: &[medication_plan::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DoseView>, ApiError> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let plan_ids: Vec<Uuid> = plans.iter().map(|p| p.id).collect();
    let drug_ids: Vec<Uuid> = plans.iter().map(|p| p.drug_id).collect();
    let names: HashMap<Uuid, String> = drug::Entity::find()
        .filter(drug::Column::Id.is_in(drug_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let logs: HashMap<(Uuid, i64), dose_log::Model> = dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.is_in(plan_ids))
        .filter(dose_log::Column::ScheduledAt.gte(from))
        .filter(dose_log::Column::ScheduledAt.lt(to))
        .all(db)
        .await?
        .into_iter()
        .map(|l| ((l.plan_id, l.scheduled_at.timestamp()), l))
        .collect();
    let mut out = Vec::new();
    for m in plans {
        let plan = plan_of(m);
        for o in plan.occurrences(from, to) {
            let log = logs.get(&(m.id, o.at.timestamp()));
            out.push(view(m, &plan, &o, log, names.get(&m.drug_id), now));
        }
    }
    out.sort_by(|a, b| a.scheduled_at.cmp(&b.scheduled_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

fn view(
    m: &medication_plan::Model,
    plan: &Plan,
    o: &Occurrence,
    log: Option<&dose_log::Model>,
    name: Option<&String>,
    now: DateTime<Utc>,
) -> DoseView {
    let status = match log.map(|l| l.status.as_str()) {
        Some("taken") => "taken",
        Some("skipped") => "skipped",
        Some("missed") => "missed",
        Some("snoozed") => "snoozed",
        _ if o.at + MISSED_AFTER < now => "missed",
        _ => "due",
    };
    DoseView {
        id: dose_id(m.id, o.at),
        plan_id: m.id,
        drug_id: m.drug_id,
        drug_name: name.cloned().unwrap_or_default(),
        scheduled_at: o.at.with_timezone(&plan.timezone).to_rfc3339(),
        local_date: o.local_date,
        local_time: o.local_time.format("%H:%M").to_string(),
        amount: o.amount,
        unit: m.dose_unit.clone(),
        status,
        snoozed_until: log.and_then(|l| l.snoozed_until),
        acted_at: log.map(|l| l.acted_at),
    }
}

pub async fn user_plans<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
) -> Result<Vec<medication_plan::Model>, ApiError> {
    Ok(medication_plan::Entity::find()
        .filter(medication_plan::Column::UserId.eq(user))
        .all(db)
        .await?)
}

pub async fn doses(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, to, _) = range(&state, user, &query).await?;
    let plans = user_plans(&state.db, user).await?;
    Ok(HttpResponse::Ok().json(expand(&state.db, &plans, from, to, Utc::now()).await?))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SnoozeBody {
    minutes: Option<i64>,
}

/// Record an action on a dose. Returns the dose as it now is.
pub async fn record_action(
    state: &AppState,
    user: Uuid,
    dose: &str,
    action: &str,
    snooze_minutes: i64,
) -> Result<DoseView, ApiError> {
    let not_found = || ApiError::new(ErrorCode::DoseNotFound, "no such dose");
    let (plan_id, at) = parse_dose_id(dose).ok_or_else(not_found)?;
    let m = medication_plan::Entity::find_by_id(plan_id)
        .filter(medication_plan::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let plan = plan_of(&m);
    let occurrence = plan.occurrence_at(at).ok_or_else(not_found)?;
    let now = Utc::now();
    let status = match action {
        "taken" => "taken",
        "skipped" => "skipped",
        "snooze" => "snoozed",
        _ => return Err(ApiError::new(ErrorCode::NotFound, "no such action")),
    };
    let txn = state.db.begin().await?;
    let insert = dose_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        plan_id: Set(m.id),
        scheduled_at: Set(at),
        status: Set(status.into()),
        amount: Set(occurrence.amount),
        snoozed_until: Set((status == "snoozed").then(|| now + Duration::minutes(snooze_minutes))),
        stock_deducted: Set(false),
        acted_at: Set(now),
        updated_at: Set(now),
    };
    let on_conflict = sea_orm::sea_query::OnConflict::columns([
        dose_log::Column::PlanId,
        dose_log::Column::ScheduledAt,
    ])
    .do_nothing()
    .to_owned();
    dose_log::Entity::insert(insert)
        .on_conflict(on_conflict)
        .exec_without_returning(&txn)
        .await?;
    let log = dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.eq(m.id))
        .filter(dose_log::Column::ScheduledAt.eq(at))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::internal("dose log vanished"))?;
    let mut stock_change = 0.0;
    let mut deducted = log.stock_deducted;
    if status == "taken" && !log.stock_deducted {
        // Only the request that flips the flag lowers the stock.
        let flipped = dose_log::Entity::update_many()
            .col_expr(dose_log::Column::StockDeducted, Expr::value(true))
            .filter(dose_log::Column::Id.eq(log.id))
            .filter(dose_log::Column::StockDeducted.eq(false))
            .exec(&txn)
            .await?;
        if flipped.rows_affected == 1 {
            stock_change = -occurrence.amount;
            deducted = true;
        }
    } else if status != "taken" && log.stock_deducted {
        let flipped = dose_log::Entity::update_many()
            .col_expr(dose_log::Column::StockDeducted, Expr::value(false))
            .filter(dose_log::Column::Id.eq(log.id))
            .filter(dose_log::Column::StockDeducted.eq(true))
            .exec(&txn)
            .await?;
        if flipped.rows_affected == 1 {
            stock_change = occurrence.amount;
            deducted = false;
        }
    }
    if log.status != status || status == "snoozed" {
        let mut active: dose_log::ActiveModel = log.clone().into();
        active.status = Set(status.into());
        active.stock_deducted = Set(deducted);
        active.snoozed_until =
            Set((status == "snoozed").then(|| now + Duration::minutes(snooze_minutes)));
        active.acted_at = Set(now);
        active.updated_at = Set(now);
        active.update(&txn).await?;
    }
    if stock_change != 0.0 && m.stock.is_some() {
        medication_plan::Entity::update_many()
            .col_expr(
                medication_plan::Column::Stock,
                Expr::col(medication_plan::Column::Stock).add(stock_change),
            )
            .filter(medication_plan::Column::Id.eq(m.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    let views = expand(&state.db, &[m], at, at + Duration::seconds(1), now).await?;
    views.into_iter().next().ok_or_else(not_found)
}

pub async fn act(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<(String, String)>,
    body: Option<web::Json<SnoozeBody>>,
) -> Result<HttpResponse, ApiError> {
    let (dose, action) = path.into_inner();
    let minutes = body.and_then(|b| b.minutes).unwrap_or(10);
    if !(1..=240).contains(&minutes) {
        return Err(ApiError::validation("minutes must be between 1 and 240"));
    }
    let view = record_action(&state, user, &dose, &action, minutes).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Serialize, Default)]
struct Counts {
    scheduled: u32,
    taken: u32,
    skipped: u32,
    missed: u32,
    pending: u32,
    /// taken ÷ (doses whose time has passed), or null when none has.
    adherence: Option<f64>,
}

impl Counts {
    fn add(&mut self, status: &str) {
        self.scheduled += 1;
        match status {
            "taken" => self.taken += 1,
            "skipped" => self.skipped += 1,
            "missed" => self.missed += 1,
            _ => self.pending += 1,
        }
    }

    fn finish(&mut self) {
        let settled = self.taken + self.skipped + self.missed;
        self.adherence = (settled > 0).then(|| f64::from(self.taken) / f64::from(settled));
    }
}

pub async fn adherence(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, to, _) = range(&state, user, &query).await?;
    let plans = user_plans(&state.db, user).await?;
    let doses = expand(&state.db, &plans, from, to, Utc::now()).await?;
    let mut total = Counts::default();
    let mut per_plan: Vec<(Uuid, String, Counts)> = Vec::new();
    for d in &doses {
        total.add(d.status);
        match per_plan.iter_mut().find(|(id, _, _)| *id == d.plan_id) {
            Some((_, _, c)) => c.add(d.status),
            None => {
                let mut c = Counts::default();
                c.add(d.status);
                per_plan.push((d.plan_id, d.drug_name.clone(), c));
            }
        }
    }
    total.finish();
    let plans: Vec<serde_json::Value> = per_plan
        .into_iter()
        .map(|(id, name, mut c)| {
            c.finish();
            serde_json::json!({"plan_id": id, "drug_name": name, "counts": c})
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "from": from, "to": to, "total": total, "plans": plans,
    })))
}

/// Plans that have a dose somewhere in `[from, to)` (by their dates; the caller expands).
pub fn active_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Condition {
    let (first, last) = (
        (from - Duration::days(1)).date_naive(),
        (to + Duration::days(1)).date_naive(),
    );
    Condition::all()
        .add(medication_plan::Column::StartDate.lte(last))
        .add(
            Condition::any()
                .add(medication_plan::Column::EndDate.is_null())
                .add(medication_plan::Column::EndDate.gte(first)),
        )
}
