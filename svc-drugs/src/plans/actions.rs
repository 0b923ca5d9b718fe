//! Taking, skipping and snoozing a dose. Idempotent: one log row per dose, and the stock is
//! lowered once when a dose is taken and given back when it is not any more.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
use serde::Deserialize;
use shared::contracts::Dose;
use shared::entities::dose_log;
use uuid::Uuid;

use super::doses::dose_at;
use super::views::plan_of;
use super::{PlanError, repo};
use crate::domain::dose::{LogStatus, parse_dose_id};
use crate::state::AppState;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SnoozeBody {
    minutes: Option<i64>,
}

impl SnoozeBody {
    /// Minutes to snooze for: 10 by default, 1 to 240.
    pub fn minutes(body: Option<&Self>) -> Result<i64, PlanError> {
        let minutes = body.and_then(|b| b.minutes).unwrap_or(10);
        if !(1..=240).contains(&minutes) {
            return Err(PlanError::invalid("minutes must be between 1 and 240"));
        }
        Ok(minutes)
    }
}

/// Record an action on a dose. Returns the dose as it now is.
pub async fn record_action(
    state: &AppState,
    user: Uuid,
    dose: &str,
    action: &str,
    snooze_minutes: i64,
) -> Result<Dose, PlanError> {
    let (plan_id, at) = parse_dose_id(dose).ok_or(PlanError::DoseNotFound)?;
    let m = repo::owned(&state.db, user, plan_id)
        .await?
        .ok_or(PlanError::DoseNotFound)?;
    let occurrence = plan_of(&m)
        .occurrence_at(at)
        .ok_or(PlanError::DoseNotFound)?;
    let now = Utc::now();
    let status = LogStatus::of_action(action).ok_or(PlanError::NoSuchAction)?;
    let snoozed = status == LogStatus::Snoozed;
    let snoozed_until = snoozed.then(|| now + Duration::minutes(snooze_minutes));
    let txn = state.db.begin().await?;
    let insert = repo::new_log(
        user,
        m.id,
        at,
        status,
        occurrence.amount,
        snoozed_until,
        now,
    );
    repo::insert_log_if_new(&txn, insert).await?;
    let log = repo::log_at(&txn, m.id, at)
        .await?
        .ok_or_else(|| PlanError::Internal("dose log vanished".into()))?;
    // Only the request that flips the flag changes the stock.
    let taken = status == LogStatus::Taken;
    let mut stock_change = 0.0;
    let mut deducted = log.stock_deducted;
    if taken != log.stock_deducted && repo::flip_stock_deducted(&txn, log.id, taken).await? {
        stock_change = if taken {
            -occurrence.amount
        } else {
            occurrence.amount
        };
        deducted = taken;
    }
    if LogStatus::parse(&log.status) != Some(status) || snoozed {
        let mut active: dose_log::ActiveModel = log.clone().into();
        active.status = Set(status.as_str().into());
        active.stock_deducted = Set(deducted);
        active.snoozed_until = Set(snoozed_until);
        active.acted_at = Set(now);
        active.updated_at = Set(now);
        active.update(&txn).await?;
    }
    if stock_change != 0.0 && m.stock.is_some() {
        repo::change_stock(&txn, m.id, stock_change).await?;
        super::supply::refresh_refill_due(&txn, m.id).await?;
    }
    txn.commit().await?;
    let views = dose_at(&state.db, &m, at, now).await?;
    views.into_iter().next().ok_or(PlanError::DoseNotFound)
}
