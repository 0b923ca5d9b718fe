//! Times as the UniLife app writes them. Its original backend took ISO 8601 with or without
//! an offset (and `YYYY-MM-DD HH:MM:SS` for the chat's `current_time`), reading a time without
//! an offset as the user's local time; we do the same, in the user's own time zone (the
//! original assumed Asia/Shanghai for everyone).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

/// Seconds until the next UTC midnight, when daily quotas start again (at least 1).
pub fn seconds_to_utc_midnight() -> u64 {
    let now = now_micros();
    let next = (now.date_naive() + Duration::days(1))
        .and_time(NaiveTime::MIN)
        .and_utc();
    u64::try_from((next - now).num_seconds())
        .unwrap_or(3600)
        .max(1)
}

/// Now, to the microsecond: what PostgreSQL keeps and what the original's timestamps
/// carried (clients reading six fractional digits at most are common).
pub fn now_micros() -> DateTime<Utc> {
    use chrono::DurationRound;
    let now = Utc::now();
    now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
}

/// Midnight of `date` in `tz`, as UTC (the first instant of the day where midnight is
/// skipped by a DST change).
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

/// A time the app sent: with an offset it is that instant, without one it is the user's
/// local time (resolved later, when the user's zone is known).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppTime {
    Exact(DateTime<FixedOffset>),
    Local(NaiveDateTime),
}

impl AppTime {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Self::Exact(t));
        }
        // `2026-01-20 10:00:00+08:00` and offsets without a colon.
        for f in [
            "%Y-%m-%d %H:%M:%S%.f%:z",
            "%Y-%m-%dT%H:%M:%S%.f%z",
            "%Y-%m-%d %H:%M:%S%.f%z",
        ] {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return Some(Self::Exact(t));
            }
        }
        for f in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                return Some(Self::Local(t));
            }
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| Self::Local(d.and_time(NaiveTime::MIN)))
    }

    /// The instant, reading a local time in `tz` (the earlier one when a DST change repeats
    /// it, the later one when it skips it).
    pub fn in_zone(self, tz: Tz) -> DateTime<Utc> {
        match self {
            Self::Exact(t) => t.with_timezone(&Utc),
            Self::Local(naive) => tz
                .from_local_datetime(&naive)
                .earliest()
                .or_else(|| {
                    tz.from_local_datetime(&(naive + Duration::hours(1)))
                        .earliest()
                })
                .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc)),
        }
    }

    /// The calendar date as the user sees it.
    pub fn local_date(self, tz: Tz) -> NaiveDate {
        match self {
            Self::Exact(t) => t.with_timezone(&tz).date_naive(),
            Self::Local(naive) => naive.date(),
        }
    }
}

impl<'de> Deserialize<'de> for AppTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not a time (ISO 8601, e.g. 2026-01-20T10:00:00+08:00)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn a_time_without_offset_is_the_users_local_time() {
        let t = AppTime::parse("2026-01-20T10:00:00").unwrap();
        assert_eq!(
            t.in_zone(chrono_tz::Asia::Shanghai).to_rfc3339(),
            "2026-01-20T02:00:00+00:00"
        );
        assert_eq!(
            AppTime::parse("2026-01-20 10:00:00").unwrap(),
            AppTime::parse("2026-01-20T10:00:00.000").unwrap()
        );
    }

    #[test]
    fn a_time_with_an_offset_is_that_instant_whatever_the_zone() {
        let t = AppTime::parse("2026-01-20T10:00:00Z").unwrap();
        assert_eq!(
            t.in_zone(chrono_tz::Asia::Shanghai).to_rfc3339(),
            "2026-01-20T10:00:00+00:00"
        );
        assert_eq!(
            t.local_date(chrono_tz::Pacific::Kiritimati).to_string(),
            "2026-01-21"
        );
        assert!(AppTime::parse("next tuesday").is_none());
        assert!(AppTime::parse("2026-13-01T00:00:00").is_none());
    }

    #[test]
    fn midnight_skipped_by_a_dst_change_is_the_first_instant_of_the_day() {
        // Santiago skips 00:00–01:00 on 2026-09-06.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let m = local_midnight(tz, NaiveDate::from_ymd_opt(2026, 9, 6).unwrap());
        assert_eq!(m.with_timezone(&tz).format("%H:%M").to_string(), "01:00");
    }
}
