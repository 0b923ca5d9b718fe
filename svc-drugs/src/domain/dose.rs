//! A dose: one time a plan says to take a drug. Doses are computed, not stored, so a dose's id
//! is `<plan id>_<unix seconds of its time>`.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// A due dose not acted on this long after its time counts as missed.
pub const MISSED_AFTER: Duration = Duration::hours(2);

pub fn dose_id(plan: Uuid, at: DateTime<Utc>) -> String {
    format!("{plan}_{}", at.timestamp())
}

/// The plan and time of a dose id.
pub fn parse_dose_id(id: &str) -> Option<(Uuid, DateTime<Utc>)> {
    let (plan, secs) = id.split_once('_')?;
    Some((
        plan.parse().ok()?,
        DateTime::from_timestamp(secs.parse().ok()?, 0)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dose_id_names_its_plan_and_time() {
        let plan = Uuid::now_v7();
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        assert_eq!(parse_dose_id(&dose_id(plan, at)), Some((plan, at)));
        assert_eq!(parse_dose_id("nonsense"), None);
        assert_eq!(parse_dose_id(&format!("{plan}_soon")), None);
    }
}
