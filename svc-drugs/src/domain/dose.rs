//! A dose: one time a plan says to take a drug. Doses are computed, not stored, so a dose's id
//! is `<plan id>_<unix seconds of its time>`.

use chrono::{DateTime, Duration, Utc};
use shared::contracts::DoseStatus;
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

/// What was done with a dose, as `dose_logs.status` stores it. A dose without a row is due,
/// or missed once `MISSED_AFTER` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStatus {
    Taken,
    Skipped,
    Snoozed,
    Missed,
}

impl LogStatus {
    const ALL: [LogStatus; 4] = [Self::Taken, Self::Skipped, Self::Snoozed, Self::Missed];

    /// The stored value.
    pub const fn as_str(self) -> &'static str {
        self.dose_status().as_str()
    }

    /// The dose's status once this is recorded.
    pub const fn dose_status(self) -> DoseStatus {
        match self {
            Self::Taken => DoseStatus::Taken,
            Self::Skipped => DoseStatus::Skipped,
            Self::Snoozed => DoseStatus::Snoozed,
            Self::Missed => DoseStatus::Missed,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// What a person's action records: `taken`, `skipped` or `snooze` (the URL's word).
    pub fn of_action(action: &str) -> Option<Self> {
        match action {
            "taken" => Some(Self::Taken),
            "skipped" => Some(Self::Skipped),
            "snooze" => Some(Self::Snoozed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_statuses_are_stored_as_they_were() {
        let stored: Vec<&str> = LogStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(stored, ["taken", "skipped", "snoozed", "missed"]);
        for status in LogStatus::ALL {
            assert_eq!(LogStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(LogStatus::parse("due"), None);
        assert_eq!(LogStatus::of_action("snooze"), Some(LogStatus::Snoozed));
        assert_eq!(LogStatus::of_action("snoozed"), None);
        assert_eq!(LogStatus::of_action("eaten"), None);
    }

    #[test]
    fn a_dose_id_names_its_plan_and_time() {
        let plan = Uuid::now_v7();
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        assert_eq!(parse_dose_id(&dose_id(plan, at)), Some((plan, at)));
        assert_eq!(parse_dose_id("nonsense"), None);
        assert_eq!(parse_dose_id(&format!("{plan}_soon")), None);
    }
}
