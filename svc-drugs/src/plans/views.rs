//! A plan row read back: as the schedule to expand, and as the API shows it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::entities::medication_plan;
use uuid::Uuid;

use super::input::{DoseSpec, PrnSpec, RefillSpec, ScheduleSpec};
use super::supply::Supply;
use crate::domain::schedule::{Phase, Plan, parse_time};

/// The schedule of a plan row (unreadable parts are left out, never fatal).
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

/// Minutes after a dose's time at which, unmarked, it goes to the person's caregivers.
pub fn escalate_after(m: &medication_plan::Model) -> u32 {
    m.escalate_after_minutes
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(super::input::DEFAULT_ESCALATE_AFTER)
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
    as_needed: bool,
    prn: Option<PrnSpec>,
    refill: Option<RefillSpec>,
    /// When the stock runs out and when to refill (plans with stock).
    supply: Option<Supply>,
    /// Minutes after a dose's time at which, unmarked, it goes to the person's caregivers.
    escalate_after_minutes: u32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PlanView {
    pub fn drug_id(&self) -> Uuid {
        self.drug_id
    }

    pub fn new(m: medication_plan::Model, supply: Option<Supply>) -> Self {
        let p = plan_of(&m);
        Self {
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
            as_needed: m.as_needed,
            prn: m.as_needed.then(|| PrnSpec {
                min_interval_minutes: m.min_interval_minutes.and_then(|v| u32::try_from(v).ok()),
                max_per_24h: m.max_per_24h,
            }),
            refill: m.refill_lead_days.map(|lead| RefillSpec {
                lead_days: u32::try_from(lead).unwrap_or(0),
                pharmacy_closed: m
                    .pharmacy_closed
                    .clone()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default(),
            }),
            supply,
            escalate_after_minutes: escalate_after(&m),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
