//! A medication plan as a person sends it, checked and applied to a row.

use chrono::NaiveDate;
use chrono_tz::Tz;
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use shared::entities::medication_plan;
use uuid::Uuid;

use super::PlanError;
use crate::domain::schedule::{Phase, parse_time};
use crate::domain::supply::Closed;

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

/// The limits of an as-needed plan.
#[derive(Debug, Deserialize, Serialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct PrnSpec {
    pub min_interval_minutes: Option<u32>,
    /// In the dose's unit.
    pub max_per_24h: Option<f64>,
}

/// When to be reminded to refill: days before the run-out date, and when the pharmacy is
/// closed.
#[derive(Debug, Deserialize, Serialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RefillSpec {
    #[serde(default)]
    pub lead_days: u32,
    #[serde(default)]
    pub pharmacy_closed: Closed,
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
    /// Taken when needed, not on a schedule (`schedule.times` empty).
    #[serde(default)]
    pub as_needed: bool,
    pub prn: Option<PrnSpec>,
    pub refill: Option<RefillSpec>,
    /// Minutes after a dose's time at which a dependent's unmarked dose goes to their
    /// household's caregivers (5 to 240; none: [`DEFAULT_ESCALATE_AFTER`]).
    pub escalate_after_minutes: Option<u32>,
}

/// When a dependent's dose still unmarked is sent to their caregivers, by default.
pub const DEFAULT_ESCALATE_AFTER: u32 = 30;

impl PlanInput {
    pub(super) fn validate(&self) -> Result<(), PlanError> {
        validate_dose(&self.dose)?;
        self.validate_prn()?;
        validate_schedule(&self.schedule, self.as_needed)?;
        if let Some(refill) = &self.refill {
            validate_refill(refill)?;
        }
        if self
            .escalate_after_minutes
            .is_some_and(|m| !(5..=240).contains(&m))
        {
            return Err(PlanError::invalid(
                "漏服提醒家人的时间应为服药时间后 5 到 240 分钟。escalate_after_minutes must be 5 to 240.",
            ));
        }
        if let Some(phases) = &self.phases
            && (phases.len() > 20
                || phases.iter().any(|p| {
                    p.days == 0 || p.days > 3650 || !(p.amount.is_finite() && p.amount > 0.0)
                }))
        {
            return Err(PlanError::invalid(
                "phases: at most 20, each with days 1 to 3650 and an amount above 0",
            ));
        }
        for (name, v) in [
            ("stock", self.stock),
            ("low_stock_threshold", self.low_stock_threshold),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && (0.0..=1_000_000.0).contains(&v))
            {
                return Err(PlanError::invalid(format!(
                    "{name} must be between 0 and 1000000"
                )));
            }
        }
        Ok(())
    }

    fn validate_prn(&self) -> Result<(), PlanError> {
        let Some(prn) = &self.prn else {
            return Ok(());
        };
        if !self.as_needed {
            return Err(PlanError::invalid(
                "按需服用的限制只用于按需计划（as_needed: true）。prn limits are for as-needed plans (as_needed: true).",
            ));
        }
        if let Some(m) = prn.min_interval_minutes
            && !(1..=2880).contains(&m)
        {
            return Err(PlanError::invalid(
                "两次服用的最短间隔应为 1 到 2880 分钟。prn.min_interval_minutes must be 1 to 2880.",
            ));
        }
        if let Some(max) = prn.max_per_24h {
            if !(max.is_finite() && max > 0.0 && max <= 100_000.0) {
                return Err(PlanError::invalid(
                    "24 小时上限应大于 0 且不超过 100000。prn.max_per_24h must be above 0 and at most 100000.",
                ));
            }
            if max + 1e-9 < self.dose.amount {
                return Err(PlanError::invalid(format!(
                    "24 小时上限（{max} {unit}）低于一次的剂量（{dose} {unit}），一次也不能服用。prn.max_per_24h ({max}) is below one dose ({dose}): not even one dose could be taken.",
                    dose = self.dose.amount,
                    unit = self.dose.unit.trim(),
                )));
            }
        }
        Ok(())
    }

    /// Write the plan into a row; `tz` is the time zone when the schedule names none.
    pub(super) fn fill(self, m: &mut medication_plan::ActiveModel, tz: String) {
        let s = self.schedule;
        m.drug_id = Set(self.drug_id);
        m.dose_amount = Set(self.dose.amount);
        m.dose_unit = Set(self.dose.unit.trim().to_owned());
        m.times = Set(serde_json::json!(
            s.times.iter().map(|t| t.trim()).collect::<Vec<_>>()
        ));
        m.days_of_week = Set(s.days_of_week.map(|d| serde_json::json!(d)));
        m.every_n_days = Set(s.every_n_days.and_then(|n| i32::try_from(n).ok()));
        m.start_date = Set(s.start_date);
        m.end_date = Set(s.end_date);
        m.timezone = Set(s.timezone.unwrap_or(tz));
        m.phases = Set(self.phases.map(|p| serde_json::json!(p)));
        m.stock = Set(self.stock);
        m.low_stock_threshold = Set(self.low_stock_threshold);
        m.as_needed = Set(self.as_needed);
        let prn = self.prn.unwrap_or_default();
        m.min_interval_minutes = Set(prn.min_interval_minutes.and_then(|v| i32::try_from(v).ok()));
        m.max_per_24h = Set(prn.max_per_24h);
        m.refill_lead_days = Set(self
            .refill
            .as_ref()
            .and_then(|r| i32::try_from(r.lead_days).ok()));
        m.pharmacy_closed = Set(self.refill.map(|r| serde_json::json!(r.pharmacy_closed)));
        m.escalate_after_minutes = Set(self
            .escalate_after_minutes
            .and_then(|v| i32::try_from(v).ok()));
    }
}

fn validate_dose(d: &DoseSpec) -> Result<(), PlanError> {
    if !(d.amount.is_finite() && d.amount > 0.0 && d.amount <= 10_000.0) {
        return Err(PlanError::invalid(
            "dose.amount must be above 0 and at most 10000",
        ));
    }
    if d.unit.trim().is_empty() || d.unit.chars().count() > 20 {
        return Err(PlanError::invalid("dose.unit must be 1 to 20 characters"));
    }
    Ok(())
}

fn validate_refill(r: &RefillSpec) -> Result<(), PlanError> {
    if r.lead_days > 60 {
        return Err(PlanError::invalid(
            "提前补药的天数应为 0 到 60。refill.lead_days must be 0 to 60.",
        ));
    }
    let closed = &r.pharmacy_closed;
    if closed.weekdays.len() > 7 || closed.weekdays.iter().any(|d| !(1..=7).contains(d)) {
        return Err(PlanError::invalid(
            "药店休息日应为 1（周一）到 7（周日）。refill.pharmacy_closed.weekdays must list ISO weekdays 1 (Monday) to 7 (Sunday).",
        ));
    }
    if closed.dates.len() > 366 {
        return Err(PlanError::invalid(
            "药店休息的日期最多 366 个。refill.pharmacy_closed.dates: at most 366 dates.",
        ));
    }
    Ok(())
}

fn validate_schedule(s: &ScheduleSpec, as_needed: bool) -> Result<(), PlanError> {
    if as_needed {
        if !s.times.is_empty() {
            return Err(PlanError::invalid(
                "按需计划没有固定服药时间（需要时再服）。An as-needed plan has no schedule.times (it is taken when needed).",
            ));
        }
    } else if s.times.is_empty() || s.times.len() > 12 {
        return Err(PlanError::invalid("schedule.times must list 1 to 12 times"));
    }
    if let Some(t) = s.times.iter().find(|t| parse_time(t).is_none()) {
        return Err(PlanError::invalid(format!(
            "schedule.times: {t:?} is not a time like \"08:00\""
        )));
    }
    if let Some(days) = &s.days_of_week
        && (days.is_empty() || days.iter().any(|d| !(1..=7).contains(d)))
    {
        return Err(PlanError::invalid(
            "schedule.days_of_week must list ISO weekdays 1 (Monday) to 7 (Sunday)",
        ));
    }
    if let Some(n) = s.every_n_days
        && !(1..=365).contains(&n)
    {
        return Err(PlanError::invalid("schedule.every_n_days must be 1 to 365"));
    }
    if s.days_of_week.is_some() && s.every_n_days.is_some_and(|n| n > 1) {
        return Err(PlanError::invalid(
            "give schedule.days_of_week or schedule.every_n_days, not both",
        ));
    }
    if let Some(end) = s.end_date
        && end < s.start_date
    {
        return Err(PlanError::invalid("schedule.end_date is before start_date"));
    }
    if let Some(tz) = &s.timezone
        && tz.parse::<Tz>().is_err()
    {
        return Err(PlanError::invalid(format!(
            "schedule.timezone: {tz:?} is not an IANA time zone"
        )));
    }
    Ok(())
}
