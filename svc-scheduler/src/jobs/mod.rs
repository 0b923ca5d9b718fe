//! Job definitions and one scheduler tick.
//!
//! The scheduler wakes often (every minute from its clock, every 1–15 minutes from a platform
//! timer) and decides per user, in the user's own time zone, what is due: a daily job is due
//! for a user once their local time has passed its hour, and is done once per (job, user,
//! period). So a platform whose cron time zone is unclear still does the right thing.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

pub mod items;
pub mod reminders;
pub mod runner;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    DailyDiaries,
    DailyProfiles,
    WeeklyProfiles,
    DoseReminders,
    ExpiryAlerts,
    EventReminders,
    HabitReplenish,
    MorningBriefing,
    AfternoonCheckin,
    EveningSwitch,
    ClosingRitual,
}

pub const ALL: [Job; 11] = [
    Job::DoseReminders,
    Job::EventReminders,
    Job::ExpiryAlerts,
    Job::DailyDiaries,
    Job::DailyProfiles,
    Job::WeeklyProfiles,
    Job::HabitReplenish,
    Job::MorningBriefing,
    Job::AfternoonCheckin,
    Job::EveningSwitch,
    Job::ClosingRitual,
];

impl Job {
    pub fn name(self) -> &'static str {
        match self {
            Job::DailyDiaries => "daily-diaries",
            Job::DailyProfiles => "daily-profiles",
            Job::WeeklyProfiles => "weekly-profiles",
            Job::DoseReminders => "dose-reminders",
            Job::ExpiryAlerts => "expiry-alerts",
            Job::EventReminders => "event-reminders",
            Job::HabitReplenish => "habit-replenish",
            Job::MorningBriefing => "morning-briefing",
            Job::AfternoonCheckin => "afternoon-checkin",
            Job::EveningSwitch => "evening-switch",
            Job::ClosingRitual => "closing-ritual",
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        ALL.into_iter().find(|j| j.name() == name)
    }

    pub fn schedule(self) -> &'static str {
        match self {
            Job::DailyDiaries => "daily 03:00 user's local time (the day before)",
            Job::DailyProfiles => "daily 03:15 user's local time (the day before)",
            Job::WeeklyProfiles => "Sunday 04:00 user's local time (the 7 days before)",
            Job::DoseReminders => "every minute (doses due now; missed doses marked)",
            Job::ExpiryAlerts => "daily 09:00 user's local time (and low stock)",
            Job::EventReminders => "every minute (events starting soon)",
            Job::HabitReplenish => "daily 02:00 user's local time (kept habits: 20 days ahead)",
            Job::MorningBriefing => {
                "daily at the user's wake time (a check-in written by the model)"
            }
            Job::AfternoonCheckin => "daily 12:00 user's local time, when awake (a check-in)",
            Job::EveningSwitch => "daily 18:00 user's local time, when awake (a check-in)",
            Job::ClosingRitual => "daily 15 minutes before the user's sleep time (a check-in)",
        }
    }

    /// For a per-user daily job: the local time it becomes due and, for weekly jobs, the day.
    pub fn daily_at(self) -> Option<(NaiveTime, Option<Weekday>)> {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0);
        match self {
            Job::DailyDiaries => t(3, 0).map(|t| (t, None)),
            Job::DailyProfiles => t(3, 15).map(|t| (t, None)),
            Job::WeeklyProfiles => t(4, 0).map(|t| (t, Some(Weekday::Sun))),
            Job::ExpiryAlerts => t(9, 0).map(|t| (t, None)),
            Job::HabitReplenish => t(2, 0).map(|t| (t, None)),
            // Seeded at midnight, each item due at the user's own time (`crate::checkins`).
            Job::MorningBriefing
            | Job::AfternoonCheckin
            | Job::EveningSwitch
            | Job::ClosingRitual => t(0, 0).map(|t| (t, None)),
            Job::DoseReminders | Job::EventReminders => None,
        }
    }

    /// The period a daily job is due for at `now` for a user in `tz`, if any: diaries and
    /// profiles are for the day before; expiry alerts for today; weekly profiles for the week
    /// ending the day before.
    pub fn period_due(self, now: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
        let (at, weekday) = self.daily_at()?;
        let local = now.with_timezone(&tz);
        if local.time() < at || weekday.is_some_and(|d| local.weekday() != d) {
            return None;
        }
        let today = local.date_naive();
        match self {
            Job::ExpiryAlerts
            | Job::HabitReplenish
            | Job::MorningBriefing
            | Job::AfternoonCheckin
            | Job::EveningSwitch
            | Job::ClosingRitual => Some(today),
            _ => Some(today - Duration::days(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn due_in_the_users_own_time_zone() {
        let ny = chrono_tz::America::New_York;
        // 07:59Z is 02:59 in New York (EST): not yet; 08:00Z is 03:00: the diary for the day before.
        assert_eq!(
            Job::DailyDiaries.period_due(utc("2026-11-23T07:59:00Z"), ny),
            None
        );
        assert_eq!(
            Job::DailyDiaries.period_due(utc("2026-11-23T08:00:00Z"), ny),
            Some("2026-11-22".parse().unwrap())
        );
        // Shanghai is at 16:00 then: long past, same rule.
        let sh = chrono_tz::Asia::Shanghai;
        assert_eq!(
            Job::DailyDiaries.period_due(utc("2026-11-23T08:00:00Z"), sh),
            Some("2026-11-22".parse().unwrap())
        );
        // Across the DST change (2026-03-08 in New York): 03:00 EDT is 07:00Z.
        assert_eq!(
            Job::DailyDiaries.period_due(utc("2026-03-09T07:00:00Z"), ny),
            Some("2026-03-08".parse().unwrap())
        );
        assert_eq!(
            Job::DailyDiaries.period_due(utc("2026-03-09T06:59:00Z"), ny),
            None
        );
        // Weekly: Sundays only.
        assert_eq!(
            Job::WeeklyProfiles.period_due(utc("2026-11-22T04:00:00Z"), chrono_tz::UTC),
            Some("2026-11-21".parse().unwrap())
        );
        assert_eq!(
            Job::WeeklyProfiles.period_due(utc("2026-11-23T04:00:00Z"), chrono_tz::UTC),
            None
        );
    }
}
