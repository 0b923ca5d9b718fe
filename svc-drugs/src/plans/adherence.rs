//! Adherence over a range: per plan and in total, how many doses were taken, skipped, missed
//! or are still pending.

use serde::Serialize;
use shared::contracts::DoseStatus;
use uuid::Uuid;

use super::PlanError;
use super::doses::{RangeQuery, in_range};
use crate::state::AppState;

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
    fn add(&mut self, status: DoseStatus) {
        self.scheduled += 1;
        match status {
            DoseStatus::Taken => self.taken += 1,
            DoseStatus::Skipped => self.skipped += 1,
            DoseStatus::Missed => self.missed += 1,
            DoseStatus::Due | DoseStatus::Snoozed => self.pending += 1,
        }
    }

    fn finish(&mut self) {
        let settled = self.taken + self.skipped + self.missed;
        self.adherence = (settled > 0).then(|| f64::from(self.taken) / f64::from(settled));
    }
}

/// `{from, to, total, plans: [{plan_id, drug_name, counts}]}`.
pub async fn adherence(
    state: &AppState,
    user: Uuid,
    q: &RangeQuery,
) -> Result<serde_json::Value, PlanError> {
    let (from, to, doses) = in_range(state, user, q).await?;
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
    Ok(serde_json::json!({
        "from": from, "to": to, "total": total, "plans": plans,
    }))
}
