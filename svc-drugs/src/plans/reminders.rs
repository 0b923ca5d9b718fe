//! Doses across every user, for svc-scheduler's reminders: due in a window, newly missed, and
//! plans running low on stock.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use shared::contracts::{DoseEscalation, DoseStatus, LowStock, MarkMissed, UserDose};

use shared::entities::medication_plan;

use super::doses::{dose_at, expand};
use super::{PlanError, repo};
use crate::domain::dose::{LogStatus, MISSED_AFTER};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// Every user's doses in `[from, to)` (at most 2 days), as they are at `now`.
async fn window_doses(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<UserDose>, PlanError> {
    if to <= from || to - from > Duration::days(2) {
        return Err(PlanError::invalid(
            "the window must be positive and at most 2 days",
        ));
    }
    let plans = repo::active_between(&state.db, from, to).await?;
    let mut out = Vec::new();
    for chunk in plans.chunks(500) {
        let doses = expand(&state.db, chunk, from, to, now).await?;
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
pub async fn doses_due(state: &AppState, window: &Window) -> Result<Vec<UserDose>, PlanError> {
    let doses = window_doses(state, window.from, window.to, window.from).await?;
    let mut out: Vec<UserDose> = doses
        .into_iter()
        .filter(|d| d.dose.status == DoseStatus::Due)
        .collect();
    // Snoozed doses come back when their snooze ends.
    let snoozed = repo::snoozes_ending(&state.db, window.from, window.to).await?;
    for log in snoozed {
        let Some(plan) = repo::plan(&state.db, log.plan_id).await? else {
            continue;
        };
        for dose in dose_at(&state.db, &plan, log.scheduled_at, Utc::now()).await? {
            out.push(UserDose {
                user_id: plan.user_id,
                dose,
            });
        }
    }
    Ok(out)
}

/// How far back from a window the doses that may escalate in it lie: the longest a plan may
/// wait (240 minutes) after a dose's time, or after a snooze that ends within a day of it.
const ESCALATION_LOOKBACK: Duration = Duration::hours(26);

/// Dependents' doses nobody has marked whose escalation moment is in `[from, to)` (at most 2
/// days), with the caregivers of each dependent. The moment is the dose's time (or the end
/// of its snooze) plus the plan's `escalate_after_minutes`; doses from before the plan was
/// made are history, not missed. Stateless: svc-scheduler's notification keys make each
/// told once.
pub async fn escalations(
    state: &AppState,
    window: &Window,
) -> Result<Vec<DoseEscalation>, PlanError> {
    if window.to <= window.from || window.to - window.from > Duration::days(2) {
        return Err(PlanError::invalid(
            "the window must be positive and at most 2 days",
        ));
    }
    let looked_after = crate::household::repo::looked_after(&state.db).await?;
    let persons: Vec<_> = looked_after.keys().copied().collect();
    let (since, now) = (window.from - ESCALATION_LOOKBACK, Utc::now());
    let mut out = Vec::new();
    for chunk in persons.chunks(500) {
        let plans = repo::active_between_for(&state.db, chunk, since, window.to).await?;
        for dose in expand(&state.db, &plans, since, window.to, now).await? {
            let Some(plan) = plans.iter().find(|p| p.id == dose.plan_id) else {
                continue;
            };
            let Some((name, caregivers)) = looked_after.get(&plan.user_id) else {
                continue;
            };
            let Some(moment) = escalation_moment(&dose, plan) else {
                continue;
            };
            if moment >= window.from && moment < window.to && moment <= now {
                out.push(DoseEscalation {
                    person_id: plan.user_id,
                    person_name: name.clone(),
                    caregivers: caregivers.clone(),
                    after_minutes: super::views::escalate_after(plan),
                    dose,
                });
            }
        }
    }
    Ok(out)
}

/// When an unmarked dose is told to caregivers; none for a dose someone marked (taken,
/// skipped) or one from before its plan existed. A dose still due or missed (only the system
/// marks a dose missed) counts from its time, a snoozed one from the end of its snooze.
fn escalation_moment(
    dose: &shared::contracts::Dose,
    plan: &medication_plan::Model,
) -> Option<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(&dose.scheduled_at)
        .ok()?
        .with_timezone(&Utc);
    if at < plan.created_at {
        return None;
    }
    let from = match dose.status {
        DoseStatus::Due | DoseStatus::Missed => at,
        DoseStatus::Snoozed => dose.snoozed_until?,
        DoseStatus::Taken | DoseStatus::Skipped => return None,
    };
    Some(from + Duration::minutes(i64::from(super::views::escalate_after(plan))))
}

/// Record as missed every unacted dose in `[since, before - grace)`; answers the doses newly
/// marked (a dose already marked is not returned again, so a retried call notifies once).
pub async fn mark_missed(state: &AppState, body: &MarkMissed) -> Result<Vec<UserDose>, PlanError> {
    let until = body.before - MISSED_AFTER;
    if until <= body.since {
        return Ok(Vec::new());
    }
    let doses = window_doses(state, body.since, until, body.before).await?;
    let mut marked = Vec::new();
    for d in doses
        .into_iter()
        .filter(|d| d.dose.status == DoseStatus::Missed && d.dose.acted_at.is_none())
    {
        let Some(at) = DateTime::parse_from_rfc3339(&d.dose.scheduled_at).ok() else {
            continue;
        };
        let row = repo::new_log(
            d.user_id,
            d.dose.plan_id,
            at.with_timezone(&Utc),
            LogStatus::Missed,
            d.dose.amount,
            None,
            Utc::now(),
        );
        if repo::insert_log_if_new(&state.db, row).await? == 1 {
            marked.push(d);
        }
    }
    Ok(marked)
}

/// Plans at or below their low-stock threshold, or whose refill date has come (in the
/// plan's zone), across users, with when their stock runs out.
pub async fn low_stock(state: &AppState) -> Result<Vec<LowStock>, PlanError> {
    let now = Utc::now();
    let plans = repo::low_stock(&state.db, (now + Duration::days(1)).date_naive()).await?;
    let used = super::supply::recent_use(&state.db, &plans.iter().collect::<Vec<_>>(), now).await?;
    Ok(plans
        .into_iter()
        .filter_map(|p| {
            let supply = super::supply::supply_of(&p, now, used.get(&p.id).copied().unwrap_or(0.0));
            let today = now
                .with_timezone(&super::views::plan_of(&p).timezone)
                .date_naive();
            let low = matches!((p.stock, p.low_stock_threshold), (Some(s), Some(t)) if s <= t);
            let refill_due = p.refill_due_on.is_some_and(|d| d <= today);
            (low || refill_due).then(|| LowStock {
                drug_id: p.drug_id,
                low_stock_threshold: p.low_stock_threshold,
                plan_id: p.id,
                stock: p.stock,
                unit: p.dose_unit,
                user_id: p.user_id,
                runs_out_on: supply.as_ref().and_then(|s| s.run_out.runs_out_on),
                refill_on: supply.and_then(|s| s.refill_on),
            })
        })
        .collect())
}
