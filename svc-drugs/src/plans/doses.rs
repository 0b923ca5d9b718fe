//! Plans expanded into doses over a range, each with what happened to it.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use shared::contracts::{Dose, DoseStatus};
use shared::entities::{dose_log, medication_plan};
use uuid::Uuid;

use super::views::plan_of;
use super::{PlanError, repo};
use crate::domain::dose::{LogStatus, MISSED_AFTER, dose_id};
use crate::domain::schedule::{Occurrence, Plan, local_instant};
use crate::state::AppState;

const MAX_RANGE_DAYS: i64 = 92;

/// `from` and `to`, each a date or an RFC 3339 time; today when absent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

impl RangeQuery {
    pub fn new(from: Option<String>, to: Option<String>) -> Self {
        Self { from, to }
    }
}

/// `2026-11-22T08:00:00+08:00`, or a date: the start of that day (`from`) or the end of it
/// (`to`, inclusive) in the user's time zone.
fn parse_bound(raw: &str, tz: Tz, end_of_day: bool) -> Result<DateTime<Utc>, PlanError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let date: NaiveDate = raw.parse().map_err(|_| {
        PlanError::invalid(format!(
            "{raw:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
        ))
    })?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    local_instant(tz, date, NaiveTime::MIN)
        .ok_or_else(|| PlanError::invalid("that date has no midnight in your time zone"))
}

/// The instants a range query covers (today by default), at most 92 days.
async fn range(
    state: &AppState,
    user: Uuid,
    q: &RangeQuery,
) -> Result<(DateTime<Utc>, DateTime<Utc>), PlanError> {
    let prefs = state.user_prefs(user).await?;
    let tz = prefs.timezone;
    let today = prefs.today().to_string();
    let from = parse_bound(q.from.as_deref().unwrap_or(&today), tz, false)?;
    let to = parse_bound(q.to.as_deref().unwrap_or(&today), tz, true)?;
    if to <= from {
        return Err(PlanError::invalid("to must be after from"));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(PlanError::invalid(format!(
            "a range may span at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

/// Every dose of these plans in `[from, to)`, with what happened to it, in time order.
pub async fn expand<C: ConnectionTrait>(
    db: &C,
    plans: &[medication_plan::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Dose>, PlanError> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let (names, logs) = tokio::try_join!(
        repo::drug_names(db, plans.iter().map(|p| p.drug_id).collect()),
        repo::logs_between(db, plans.iter().map(|p| p.id).collect(), from, to)
    )?;
    let logs: std::collections::HashMap<(Uuid, i64), dose_log::Model> = logs
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

/// The one dose of a plan at `at`.
pub(super) async fn dose_at<C: ConnectionTrait>(
    db: &C,
    plan: &medication_plan::Model,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Dose>, PlanError> {
    expand(
        db,
        std::slice::from_ref(plan),
        at,
        at + Duration::seconds(1),
        now,
    )
    .await
}

fn view(
    m: &medication_plan::Model,
    plan: &Plan,
    o: &Occurrence,
    log: Option<&dose_log::Model>,
    name: Option<&String>,
    now: DateTime<Utc>,
) -> Dose {
    let status = match log.and_then(|l| LogStatus::parse(&l.status)) {
        Some(recorded) => recorded.dose_status(),
        None if o.at + MISSED_AFTER < now => DoseStatus::Missed,
        None => DoseStatus::Due,
    };
    Dose {
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

/// A user's doses over a range query, with the instants it covers.
pub async fn in_range(
    state: &AppState,
    user: Uuid,
    q: &RangeQuery,
) -> Result<(DateTime<Utc>, DateTime<Utc>, Vec<Dose>), PlanError> {
    // The plans do not depend on the range: both reads go at once.
    let ((from, to), plans) = tokio::try_join!(range(state, user, q), async {
        Ok(repo::of_user(&state.db, user, false).await?)
    })?;
    let doses = expand(&state.db, &plans, from, to, Utc::now()).await?;
    Ok((from, to, doses))
}

/// A user's doses over a range query.
pub async fn doses(state: &AppState, user: Uuid, q: &RangeQuery) -> Result<Vec<Dose>, PlanError> {
    Ok(in_range(state, user, q).await?.2)
}

/// A user's doses today, in their time zone (for the assistant).
pub async fn doses_today(state: &AppState, user: Uuid) -> Result<Vec<Dose>, PlanError> {
    doses(state, user, &RangeQuery::default()).await
}
