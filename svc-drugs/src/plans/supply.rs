//! A plan's supply as shown (run-out date, refill date), the stored `refill_due_on` the
//! reminder reads, refills, and taking an as-needed dose within its limits.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use shared::entities::{dose_log, medication_plan, refill};
use uuid::Uuid;

use super::manage::owned;
use super::views::{PlanView, plan_of};
use super::{PlanError, repo};
use crate::domain::dose::LogStatus;
use crate::domain::supply::{self, Closed, RunOut};
use crate::state::AppState;

/// The days an as-needed plan's pace is taken from.
const RECENT_DAYS: i64 = 14;

#[derive(Debug, Clone, Serialize)]
pub struct Supply {
    #[serde(flatten)]
    pub run_out: RunOut,
    /// When to refill: the run-out date minus the lead time, earlier past closed days.
    pub refill_on: Option<NaiveDate>,
}

fn closed_of(m: &medication_plan::Model) -> Closed {
    m.pharmacy_closed
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The supply of a plan with stock; `recent` is what an as-needed plan used lately.
pub fn supply_of(m: &medication_plan::Model, now: DateTime<Utc>, recent: f64) -> Option<Supply> {
    let stock = m.stock?;
    let plan = plan_of(m);
    let today = now.with_timezone(&plan.timezone).date_naive();
    let run_out = if m.as_needed {
        let age = (today - m.start_date).num_days() + 1;
        supply::run_out_by_average(stock, recent, age.clamp(1, RECENT_DAYS), today)
    } else {
        supply::run_out(&plan, stock, now)
    };
    let refill_on = run_out.runs_out_on.map(|d| {
        supply::refill_on(
            d,
            i64::from(m.refill_lead_days.unwrap_or(0)),
            &closed_of(m),
            today,
        )
    });
    Some(Supply { run_out, refill_on })
}

/// Units taken lately, per as-needed plan among `plans`, in one query.
pub async fn recent_use<C: ConnectionTrait>(
    db: &C,
    plans: &[&medication_plan::Model],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, f64>, DbErr> {
    let ids: Vec<Uuid> = plans.iter().filter(|p| p.as_needed).map(|p| p.id).collect();
    let mut used = HashMap::new();
    if ids.is_empty() {
        return Ok(used);
    }
    let logs = dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.is_in(ids))
        .filter(dose_log::Column::Status.eq(LogStatus::Taken.as_str()))
        .filter(dose_log::Column::ScheduledAt.gt(now - Duration::days(RECENT_DAYS)))
        .all(db)
        .await?;
    for log in logs {
        *used.entry(log.plan_id).or_insert(0.0) += log.amount;
    }
    Ok(used)
}

/// Plans as shown, with their supply.
pub async fn views<C: ConnectionTrait>(
    db: &C,
    rows: Vec<medication_plan::Model>,
) -> Result<Vec<PlanView>, DbErr> {
    let now = Utc::now();
    let used = recent_use(db, &rows.iter().collect::<Vec<_>>(), now).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let s = supply_of(&m, now, used.get(&m.id).copied().unwrap_or(0.0));
            PlanView::new(m, s)
        })
        .collect())
}

pub async fn view<C: ConnectionTrait>(
    db: &C,
    row: medication_plan::Model,
) -> Result<PlanView, DbErr> {
    let mut v = views(db, vec![row]).await?;
    v.pop()
        .ok_or_else(|| DbErr::Custom("plan view vanished".into()))
}

/// Recompute and store when to remind about a refill (after the stock or the plan changed).
pub async fn refresh_refill_due<C: ConnectionTrait>(db: &C, plan: Uuid) -> Result<(), DbErr> {
    let Some(m) = medication_plan::Entity::find_by_id(plan).one(db).await? else {
        return Ok(());
    };
    let now = Utc::now();
    let used = recent_use(db, &[&m], now).await?;
    let due = m
        .refill_lead_days
        .and_then(|_| supply_of(&m, now, used.get(&m.id).copied().unwrap_or(0.0)))
        .and_then(|s| s.refill_on);
    if due != m.refill_due_on {
        medication_plan::Entity::update_many()
            .col_expr(medication_plan::Column::RefillDueOn, Expr::value(due))
            .filter(medication_plan::Column::Id.eq(plan))
            .exec(db)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefillInput {
    pub amount: f64,
    /// When it happened, for a refill entered afterwards (default: now).
    pub refilled_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RefillView {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub amount: f64,
    pub refilled_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<refill::Model> for RefillView {
    fn from(r: refill::Model) -> Self {
        Self {
            id: r.id,
            plan_id: r.plan_id,
            amount: r.amount,
            refilled_at: r.refilled_at,
            note: r.note,
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct Refilled {
    pub refill: RefillView,
    pub plan: PlanView,
}

/// Log a refill and add it to the stock (a plan without stock starts counting from it).
pub async fn add_refill(
    state: &AppState,
    user: Uuid,
    plan: Uuid,
    input: RefillInput,
) -> Result<Refilled, PlanError> {
    let now = Utc::now();
    if !(input.amount.is_finite() && input.amount > 0.0 && input.amount <= 1_000_000.0) {
        return Err(PlanError::invalid(
            "补药数量应大于 0 且不超过 1000000。amount must be above 0 and at most 1000000.",
        ));
    }
    let at = input.refilled_at.unwrap_or(now);
    if at > now + Duration::minutes(5) || at < now - Duration::days(5 * 366) {
        return Err(PlanError::invalid(
            "补药时间不能在将来，也不能早于 5 年前。refilled_at must not be in the future nor more than 5 years ago.",
        ));
    }
    let note = input
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(PlanError::invalid(
            "备注最多 500 字。note: at most 500 characters.",
        ));
    }
    let m = owned(state, user, plan).await?;
    let txn = state.db.begin().await?;
    let row = refill::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        plan_id: Set(m.id),
        amount: Set(input.amount),
        refilled_at: Set(at),
        note: Set(note),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    // One statement: two refills at once both count, stock or no stock yet.
    repo::change_stock(&txn, m.id, input.amount).await?;
    refresh_refill_due(&txn, m.id).await?;
    txn.commit().await?;
    let fresh = owned(state, user, plan).await?;
    Ok(Refilled {
        refill: row.into(),
        plan: view(&state.db, fresh).await?,
    })
}

/// A plan's refills, latest first.
pub async fn refills(
    state: &AppState,
    user: Uuid,
    plan: Uuid,
) -> Result<Vec<RefillView>, PlanError> {
    let m = owned(state, user, plan).await?;
    Ok(refill::Entity::find()
        .filter(refill::Column::PlanId.eq(m.id))
        .order_by_desc(refill::Column::RefilledAt)
        .all(&state.db)
        .await?
        .into_iter()
        .map(RefillView::from)
        .collect())
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TakeInput {
    /// Default: the plan's dose.
    pub amount: Option<f64>,
}

#[derive(Serialize)]
pub struct Taken {
    pub taken_at: DateTime<Utc>,
    pub amount: f64,
    pub unit: String,
    /// Taken in the 24 hours up to now, this one included.
    pub taken_in_24h: f64,
    pub max_per_24h: Option<f64>,
    /// When the next dose would be within both limits.
    pub next_allowed_at: Option<DateTime<Utc>>,
    /// Said one dose before the limit, and when it is reached.
    pub warning_zh: Option<String>,
    pub warning_en: Option<String>,
    pub plan: PlanView,
}

const EPS: f64 = 1e-9;

/// Take a dose of an as-needed plan now, unless it breaks its minimum interval or its
/// maximum per 24 hours (then nothing is written and the answer says when it may be taken).
pub async fn take(
    state: &AppState,
    user: Uuid,
    plan: Uuid,
    input: TakeInput,
) -> Result<Taken, PlanError> {
    let m = owned(state, user, plan).await?;
    if !m.as_needed {
        return Err(PlanError::invalid(
            "这是按时服用的计划，请在对应的那次服药上标记。This plan is on a schedule: mark its doses with POST /api/v1/doses/{id}/taken.",
        ));
    }
    let amount = input.amount.unwrap_or(m.dose_amount);
    if !(amount.is_finite() && amount > 0.0 && amount <= 10_000.0) {
        return Err(PlanError::invalid(
            "剂量应大于 0 且不超过 10000。amount must be above 0 and at most 10000.",
        ));
    }
    let unit = m.dose_unit.clone();
    let now = Utc::now();
    let txn = state.db.begin().await?;
    // Take the plan's row first: two takes at once are checked one after the other.
    medication_plan::Entity::update_many()
        .col_expr(medication_plan::Column::UpdatedAt, Expr::value(now))
        .filter(medication_plan::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    let window: Vec<dose_log::Model> = dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.eq(m.id))
        .filter(dose_log::Column::Status.eq(LogStatus::Taken.as_str()))
        .filter(dose_log::Column::ScheduledAt.gt(now - Duration::hours(24)))
        .order_by_asc(dose_log::Column::ScheduledAt)
        .all(&txn)
        .await?;
    let before: f64 = window.iter().map(|l| l.amount).sum();
    // The interval may be longer than the day: the last dose whenever it was.
    let last = dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.eq(m.id))
        .filter(dose_log::Column::Status.eq(LogStatus::Taken.as_str()))
        .order_by_desc(dose_log::Column::ScheduledAt)
        .one(&txn)
        .await?
        .map(|l| l.scheduled_at);
    let interval = m
        .min_interval_minutes
        .map(|n| Duration::minutes(i64::from(n)));
    let earliest_by_interval = last.zip(interval).map(|(l, i)| l + i);
    // When enough of the window has aged out for `extra` more.
    let earliest_by_max = |extra: f64| -> Option<DateTime<Utc>> {
        let max = m.max_per_24h?;
        let mut total = before + extra;
        for l in &window {
            total -= l.amount;
            if total <= max + EPS {
                return Some(l.scheduled_at + Duration::hours(24));
            }
        }
        None
    };
    let tz = plan_of(&m).timezone;
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%m-%d %H:%M").to_string();
    if let Some(at) = earliest_by_interval.filter(|at| *at > now) {
        let mins = (at - now).num_minutes() + 1;
        let gap = interval.map_or(0, |i| i.num_minutes());
        return Err(PlanError::PrnLimit(format!(
            "距离上次服用还不到 {gap} 分钟，约 {mins} 分钟后（{at}）才能再服。The minimum interval of {gap} minutes has not passed: the next dose is possible in about {mins} minutes ({at}).",
            at = local(at),
        )));
    }
    if let Some(max) = m.max_per_24h
        && before + amount > max + EPS
    {
        let when = earliest_by_max(amount).filter(|at| *at > now);
        return Err(PlanError::PrnLimit(format!(
            "24 小时内已服 {before} {unit}，再服 {amount} {unit} 会超过上限 {max} {unit}{}。Taking {amount} {unit} more would exceed the limit of {max} {unit} in 24 hours ({before} {unit} taken){}.",
            when.map(|w| format!("，{} 后可再服", local(w)))
                .unwrap_or_default(),
            when.map(|w| format!("; possible again after {}", local(w)))
                .unwrap_or_default(),
        )));
    }
    let mut log = repo::new_log(user, m.id, now, LogStatus::Taken, amount, None, now);
    log.stock_deducted = Set(m.stock.is_some());
    log.insert(&txn).await?;
    if m.stock.is_some() {
        repo::change_stock(&txn, m.id, -amount).await?;
    }
    refresh_refill_due(&txn, m.id).await?;
    txn.commit().await?;

    let taken_in_24h = before + amount;
    let dose = m.dose_amount;
    let (warning_zh, warning_en) = match m.max_per_24h {
        Some(max) if taken_in_24h + dose > max + EPS => (
            Some(format!(
                "已达到 24 小时上限 {max} {unit}，在此之前不要再服。"
            )),
            Some(format!(
                "The limit of {max} {unit} in 24 hours is reached: take no more until it eases."
            )),
        ),
        Some(max) if taken_in_24h + 2.0 * dose > max + EPS => (
            Some(format!("24 小时内只能再服一次（上限 {max} {unit}）。")),
            Some(format!(
                "Only one more dose is allowed in these 24 hours (limit {max} {unit})."
            )),
        ),
        _ => (None, None),
    };
    let next_allowed_at = [
        interval.map(|i| now + i),
        // With this dose in the window.
        m.max_per_24h.and_then(|max| {
            let mut total = taken_in_24h + dose;
            if total <= max + EPS {
                return None;
            }
            let mut logs: Vec<(DateTime<Utc>, f64)> =
                window.iter().map(|l| (l.scheduled_at, l.amount)).collect();
            logs.push((now, amount));
            for (at, a) in logs {
                total -= a;
                if total <= max + EPS {
                    return Some(at + Duration::hours(24));
                }
            }
            None
        }),
    ]
    .into_iter()
    .flatten()
    .max();
    let fresh = owned(state, user, plan).await?;
    Ok(Taken {
        taken_at: now,
        amount,
        unit,
        taken_in_24h,
        max_per_24h: m.max_per_24h,
        next_allowed_at,
        warning_zh,
        warning_en,
        plan: view(&state.db, fresh).await?,
    })
}
