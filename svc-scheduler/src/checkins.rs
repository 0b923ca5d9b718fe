//! The four daily check-ins of the original app (morning briefing, afternoon check-in, evening
//! switch, closing ritual): per user and local day one work item each, due at the user's own
//! time; svc-chat writes the message from the user's day (or decides there is nothing worth
//! saying) and stores it in the chat timeline; this side delivers it.
//!
//! | check-in | due (user's zone) | sent when |
//! |---|---|---|
//! | morning briefing | wake time | enabled |
//! | afternoon check-in | 12:00 | enabled and awake then |
//! | evening switch | 18:00 | enabled and awake then |
//! | closing ritual | 15 minutes before sleep time | enabled |
//!
//! A check-in found more than [`LATE`] after its time (the scheduler was down, the platform's
//! timer did not fire) is skipped: a morning briefing at tea time helps no one.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use shared::entities::job_item::JobItemStatus;
use shared::entities::{job_item, notification_setting};
use uuid::Uuid;

use crate::awake;
use crate::jobs::Job;

/// How late a check-in may still go.
pub const LATE: Duration = Duration::hours(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Morning,
    Afternoon,
    Evening,
    Closing,
}

pub const KINDS: [Kind; 4] = [Kind::Morning, Kind::Afternoon, Kind::Evening, Kind::Closing];

impl Kind {
    pub fn of(job: Job) -> Option<Kind> {
        match job {
            Job::MorningBriefing => Some(Kind::Morning),
            Job::AfternoonCheckin => Some(Kind::Afternoon),
            Job::EveningSwitch => Some(Kind::Evening),
            Job::ClosingRitual => Some(Kind::Closing),
            _ => None,
        }
    }

    pub fn job(self) -> Job {
        match self {
            Kind::Morning => Job::MorningBriefing,
            Kind::Afternoon => Job::AfternoonCheckin,
            Kind::Evening => Job::EveningSwitch,
            Kind::Closing => Job::ClosingRitual,
        }
    }

    /// As svc-chat's `/internal/checkins/generate` and the notification's `data.checkin` name it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Morning => "morning",
            Kind::Afternoon => "afternoon",
            Kind::Evening => "evening",
            Kind::Closing => "closing",
        }
    }

    /// The original app's name of the period (`data.type` `morning_notification`, category
    /// `NIGHT_NOTIFICATION`).
    pub fn period(self) -> &'static str {
        match self {
            Kind::Morning => "morning",
            Kind::Afternoon => "afternoon",
            Kind::Evening => "evening",
            Kind::Closing => "night",
        }
    }

    pub fn enabled(self, s: &notification_setting::Model) -> bool {
        match self {
            Kind::Morning => s.morning_briefing_enabled,
            Kind::Afternoon => s.afternoon_checkin_enabled,
            Kind::Evening => s.evening_switch_enabled,
            Kind::Closing => s.closing_ritual_enabled,
        }
    }

    /// The instant the check-in of local day `day` is due. A closing ritual whose time is
    /// before the wake time (the user goes to bed after midnight) is in the next night.
    pub fn due(self, s: &notification_setting::Model, tz: Tz, day: NaiveDate) -> DateTime<Utc> {
        let wake = awake::clock(
            &s.wake_time,
            NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        );
        let sleep = awake::clock(
            &s.sleep_time,
            NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
        );
        let hour = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
        match self {
            Kind::Morning => awake::at(tz, day, wake),
            Kind::Afternoon => awake::at(tz, day, hour(12)),
            Kind::Evening => awake::at(tz, day, hour(18)),
            Kind::Closing => {
                let time = sleep - Duration::minutes(15);
                let day = if time < wake {
                    day + Duration::days(1)
                } else {
                    day
                };
                awake::at(tz, day, time)
            }
        }
    }

    /// Whether it goes at `due`: afternoon and evening only when the user is awake then (the
    /// morning and closing ones are at the window's edges by definition).
    pub fn goes_at(self, s: &notification_setting::Model, tz: Tz, due: DateTime<Utc>) -> bool {
        match self {
            Kind::Morning | Kind::Closing => true,
            Kind::Afternoon | Kind::Evening => {
                let wake = awake::clock(&s.wake_time, NaiveTime::MIN);
                let sleep = awake::clock(&s.sleep_time, NaiveTime::MIN);
                awake::next_wake(due, tz, wake, sleep).is_none()
            }
        }
    }
}

/// After the user changed their times: today's check-ins not yet sent move to the new times.
pub async fn retime(
    db: &impl sea_orm::ConnectionTrait,
    s: &notification_setting::Model,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let today = now.with_timezone(&tz).date_naive();
    for kind in KINDS {
        job_item::Entity::update_many()
            .col_expr(
                job_item::Column::NextAttemptAt,
                Expr::value(kind.due(s, tz, today)),
            )
            .filter(job_item::Column::Job.eq(kind.job().name()))
            .filter(job_item::Column::UserId.eq(s.user_id))
            .filter(job_item::Column::Period.eq(today.to_string()))
            .filter(job_item::Column::Status.eq(JobItemStatus::Pending))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The due time of each of `users`' check-in of `day` (users without settings: the defaults).
pub async fn due_times(
    db: &impl sea_orm::ConnectionTrait,
    kind: Kind,
    users: &[Uuid],
    tz: Tz,
    day: NaiveDate,
) -> Result<std::collections::HashMap<Uuid, DateTime<Utc>>, sea_orm::DbErr> {
    let saved: std::collections::HashMap<Uuid, notification_setting::Model> =
        notification_setting::Entity::find()
            .filter(notification_setting::Column::UserId.is_in(users.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.user_id, s))
            .collect();
    Ok(users
        .iter()
        .map(|u| {
            let s = saved
                .get(u)
                .cloned()
                .unwrap_or_else(|| crate::routes::notification_settings::defaults(*u));
            (*u, kind.due(&s, tz, day))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use crate::routes::notification_settings::defaults;

    fn settings(wake: &str, sleep: &str) -> notification_setting::Model {
        let mut s = defaults(Uuid::nil());
        s.wake_time = wake.to_owned();
        s.sleep_time = sleep.to_owned();
        s
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn due_at_the_users_own_times_in_their_zone() {
        let sh = chrono_tz::Asia::Shanghai;
        let day: NaiveDate = "2026-12-07".parse().unwrap();
        let s = settings("07:30", "23:00");
        assert_eq!(Kind::Morning.due(&s, sh, day), utc("2026-12-06T23:30:00Z"));
        assert_eq!(
            Kind::Afternoon.due(&s, sh, day),
            utc("2026-12-07T04:00:00Z")
        );
        assert_eq!(Kind::Evening.due(&s, sh, day), utc("2026-12-07T10:00:00Z"));
        assert_eq!(Kind::Closing.due(&s, sh, day), utc("2026-12-07T14:45:00Z"));
        // To bed at 00:30: the ritual is at 00:15 of the next night, not of this morning.
        let late = settings("09:00", "00:30");
        assert_eq!(
            Kind::Closing.due(&late, sh, day),
            utc("2026-12-07T16:15:00Z")
        );
    }

    #[test]
    fn across_the_dst_change_the_local_time_holds() {
        let ny = chrono_tz::America::New_York;
        let s = settings("08:00", "22:00");
        // 2026-03-08: clocks go forward; 08:00 EDT is 12:00Z, the day before 13:00Z (EST).
        assert_eq!(
            Kind::Morning.due(&s, ny, "2026-03-07".parse().unwrap()),
            utc("2026-03-07T13:00:00Z")
        );
        assert_eq!(
            Kind::Morning.due(&s, ny, "2026-03-08".parse().unwrap()),
            utc("2026-03-08T12:00:00Z")
        );
        // A wake time in the skipped hour (02:30) goes at the first minute after it.
        let odd = settings("02:30", "22:00");
        assert_eq!(
            Kind::Morning.due(&odd, ny, "2026-03-08".parse().unwrap()),
            utc("2026-03-08T07:00:00Z")
        );
    }

    #[test]
    fn afternoon_and_evening_only_while_awake() {
        let sh = chrono_tz::Asia::Shanghai;
        let day: NaiveDate = "2026-12-07".parse().unwrap();
        // A night-shift worker awake 20:00–12:00: no afternoon or evening check-in.
        let night = settings("20:00", "12:00");
        for kind in [Kind::Afternoon, Kind::Evening] {
            assert!(
                !kind.goes_at(&night, sh, kind.due(&night, sh, day)),
                "{kind:?}"
            );
        }
        let s = settings("08:00", "22:00");
        for kind in KINDS {
            assert!(kind.goes_at(&s, sh, kind.due(&s, sh, day)), "{kind:?}");
        }
    }
}
