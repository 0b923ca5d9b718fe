//! A medication plan as a person sends it, checked and applied to a row.

use chrono::NaiveDate;
use chrono_tz::Tz;
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use shared::entities::medication_plan;
use uuid::Uuid;

use super::PlanError;
use crate::domain::schedule::{Phase, parse_time};

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

impl PlanInput {
    pub(super) fn validate(&self) -> Result<(), PlanError> {
        validate_dose(&self.dose)?;
        validate_schedule(&self.schedule)?;
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

fn validate_schedule(s: &ScheduleSpec) -> Result<(), PlanError> {
    if s.times.is_empty() || s.times.len() > 12 {
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
