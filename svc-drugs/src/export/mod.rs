//! A person's medicines out of the cabinet: a FHIR R4 Bundle (`GET /api/v1/export/fhir`)
//! for another health app or a clinic system, and a printable report for a doctor's visit
//! (`GET /api/v1/export/report`, HTML in Chinese or English).

mod fhir;
mod report;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use shared::contracts::Dose;
use shared::entities::{dose_log, drug, medication_plan};
use uuid::Uuid;

use crate::cabinet::repo as drugs;
use crate::plans::{self, PlanError, RangeQuery, repo};
use crate::state::AppState;

pub use fhir::bundle;
pub use report::{Lang, html};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// A date or RFC 3339 time; the last 30 days by default (at most 92).
    pub from: Option<String>,
    pub to: Option<String>,
    /// The report's language: `zh` (default) or `en`.
    pub lang: Option<String>,
}

/// Everything an export shows, read once.
pub struct Gathered {
    pub user: Uuid,
    pub tz: Tz,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub drugs: Vec<drug::Model>,
    pub plans: Vec<medication_plan::Model>,
    /// Scheduled doses in the range with what became of them.
    pub doses: Vec<Dose>,
    /// Every recorded dose in the range (as-needed ones included).
    pub logs: Vec<dose_log::Model>,
    pub names: HashMap<Uuid, String>,
    /// The person's name as a dependent in a household (a caregiver's report on a dependent
    /// names whom it is about).
    pub person: Option<String>,
}

impl Gathered {
    pub fn drug(&self, id: Uuid) -> Option<&drug::Model> {
        self.drugs.iter().find(|d| d.id == id)
    }
}

pub async fn gather(state: &AppState, user: Uuid, q: &ExportQuery) -> Result<Gathered, PlanError> {
    let prefs = state.user_prefs(user).await?;
    let today = prefs.today();
    let range = RangeQuery::new(
        Some(
            q.from
                .clone()
                .unwrap_or_else(|| (today - Duration::days(29)).to_string()),
        ),
        Some(q.to.clone().unwrap_or_else(|| today.to_string())),
    );
    let (from, to, doses) = plans::in_range(state, user, &range).await?;
    let plans = repo::of_user(&state.db, user, true).await?;
    let drugs = drugs::newest_first(&state.db, user, None).await?;
    let logs =
        repo::logs_between(&state.db, plans.iter().map(|p| p.id).collect(), from, to).await?;
    let names = drugs.iter().map(|d| (d.id, d.name.clone())).collect();
    let person = crate::household::repo::dependent_name(&state.db, user).await?;
    Ok(Gathered {
        user,
        tz: prefs.timezone,
        from,
        to,
        drugs,
        plans,
        doses,
        logs,
        person,
        names,
    })
}
