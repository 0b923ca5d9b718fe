//! The user's awake window (`wake_time` to `sleep_time` of their notification settings, in
//! their zone): nothing that can wait is pushed outside it; it waits for the next wake time.
//! Dose and event reminders are due when they are due and go at once.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Kinds pushed whatever the hour: the user set the time themselves.
pub fn is_urgent(kind: &str) -> bool {
    matches!(kind, "dose_reminder" | "dose_escalation" | "event_reminder")
}

/// `HH:MM` of the settings (already checked when saved); a bad one reads as `fallback`.
pub fn clock(text: &str, fallback: NaiveTime) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M").unwrap_or(fallback)
}

/// The instant `day` at `time` in `tz`: the earlier of two in a repeated hour, the first
/// minute after a skipped one.
pub fn at(tz: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut local = day.and_time(time);
    for _ in 0..=180 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += Duration::minutes(1);
    }
    Utc.from_utc_datetime(&day.and_time(time))
}

/// None while the user is awake at `now`; else when they wake next. A window whose sleep time
/// is before its wake time runs over midnight; equal times mean always awake.
pub fn next_wake(
    now: DateTime<Utc>,
    tz: Tz,
    wake: NaiveTime,
    sleep: NaiveTime,
) -> Option<DateTime<Utc>> {
    if wake == sleep {
        return None;
    }
    let local = now.with_timezone(&tz);
    let t = local.time();
    let awake = if wake < sleep {
        wake <= t && t < sleep
    } else {
        t >= wake || t < sleep
    };
    if awake {
        return None;
    }
    let today = local.date_naive();
    let day = if t < wake {
        today
    } else {
        today + Duration::days(1)
    };
    Some(at(tz, day, wake))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
    fn hm(s: &str) -> NaiveTime {
        clock(s, NaiveTime::MIN)
    }

    #[test]
    fn asleep_waits_for_the_next_wake_time_in_the_users_zone() {
        let sh = chrono_tz::Asia::Shanghai;
        let (w, s) = (hm("08:00"), hm("22:00"));
        // 12:00 in Shanghai: awake.
        assert_eq!(next_wake(utc("2026-12-06T04:00:00Z"), sh, w, s), None);
        // 23:30: the next morning's 08:00 (00:00Z).
        assert_eq!(
            next_wake(utc("2026-12-06T15:30:00Z"), sh, w, s),
            Some(utc("2026-12-07T00:00:00Z"))
        );
        // 06:00: this morning's 08:00.
        assert_eq!(
            next_wake(utc("2026-12-06T22:00:00Z"), sh, w, s),
            Some(utc("2026-12-07T00:00:00Z"))
        );
        // A night owl awake 10:00 to 02:00: 01:00 is awake, 03:00 is not.
        let (w, s) = (hm("10:00"), hm("02:00"));
        assert_eq!(next_wake(utc("2026-12-06T17:00:00Z"), sh, w, s), None);
        assert_eq!(
            next_wake(utc("2026-12-06T19:00:00Z"), sh, w, s),
            Some(utc("2026-12-07T02:00:00Z"))
        );
    }

    #[test]
    fn across_the_dst_change_the_wake_time_stays_local() {
        let ny = chrono_tz::America::New_York;
        let (w, s) = (hm("07:00"), hm("22:00"));
        // 23:00 EST on Saturday 2026-03-07: wakes 07:00 EDT on Sunday = 11:00Z (not 12:00Z).
        assert_eq!(
            next_wake(utc("2026-03-08T04:00:00Z"), ny, w, s),
            Some(utc("2026-03-08T11:00:00Z"))
        );
        // A wake time inside the skipped hour (02:30 does not exist that night): 03:00 EDT.
        assert_eq!(
            next_wake(utc("2026-03-08T05:00:00Z"), ny, hm("02:30"), hm("22:00")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        // In November the repeated hour: 01:30 happens twice; the first one counts.
        assert_eq!(
            next_wake(utc("2026-11-01T04:00:00Z"), ny, hm("01:30"), hm("22:00")),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }
}
