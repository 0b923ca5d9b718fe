//! A person's plans and expiry dates for their calendar feed (svc-chat serves the feed
//! beside their events): each scheduled plan as recurring doses, phase by phase; as-needed
//! plans have no times and are left out.

use chrono::Duration;
use shared::contracts::{CalendarExpiry, CalendarPhase, CalendarPlan, MedicationCalendar};
use uuid::Uuid;

use super::views::plan_of;
use super::{PlanError, repo};
use crate::state::AppState;

pub async fn calendar(state: &AppState, user: Uuid) -> Result<MedicationCalendar, PlanError> {
    let plans = repo::of_user(&state.db, user, true).await?;
    let drugs = crate::cabinet::repo::newest_first(&state.db, user, None).await?;
    let name = |id: Uuid| {
        drugs
            .iter()
            .find(|d| d.id == id)
            .map_or_else(String::new, |d| d.name.clone())
    };
    let mut out = MedicationCalendar::default();
    for m in plans.iter().filter(|m| !m.as_needed) {
        let plan = plan_of(m);
        let phases = match plan.phases.as_ref().filter(|p| !p.is_empty()) {
            Some(phases) => {
                let mut start = m.start_date;
                phases
                    .iter()
                    .map(|p| {
                        let end = start + Duration::days(i64::from(p.days) - 1);
                        let phase = CalendarPhase {
                            start,
                            end: Some(m.end_date.map_or(end, |e| e.min(end))),
                            amount: p.amount,
                        };
                        start = end + Duration::days(1);
                        phase
                    })
                    .filter(|p| p.end.is_none_or(|e| e >= p.start))
                    .collect()
            }
            None => vec![CalendarPhase {
                start: m.start_date,
                end: m.end_date,
                amount: m.dose_amount,
            }],
        };
        out.plans.push(CalendarPlan {
            plan_id: m.id,
            drug_name: name(m.drug_id),
            unit: m.dose_unit.clone(),
            times: plan
                .times
                .iter()
                .map(|t| t.format("%H:%M").to_string())
                .collect(),
            days_of_week: plan.days_of_week.clone(),
            every_n_days: plan.every_n_days.filter(|n| *n > 1),
            timezone: m.timezone.clone(),
            phases,
        });
    }
    out.expiries = drugs
        .iter()
        .filter_map(|d| {
            Some(CalendarExpiry {
                drug_id: d.id,
                name: d.name.clone(),
                expiry_date: d.expiry_date?,
            })
        })
        .collect();
    Ok(out)
}
