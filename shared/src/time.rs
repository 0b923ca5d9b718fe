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
    wall_time(tz, date.and_time(NaiveTime::MIN))
}

/// The instant of the wall time `naive` in `tz`: the earlier one when a DST change repeats it;
/// when a change skips it, the same time shifted by the (usual, one-hour) gap, or for a longer
/// gap (Apia skipped 2011-12-30 whole) the first quarter hour after it.
fn wall_time(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    std::iter::once(Duration::zero())
        .chain(std::iter::once(Duration::hours(1)))
        .chain((1..=4 * 48).map(|q| Duration::minutes(15 * q)))
        .find_map(|shift| tz.from_local_datetime(&(naive + shift)).earliest())
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
            Self::Local(naive) => wall_time(tz, naive),
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

    mod properties {
        use chrono::{DateTime, FixedOffset, NaiveDateTime, Timelike};
        use chrono_tz::Tz;
        use proptest::prelude::*;

        use super::super::AppTime;

        /// Any second from 1900 to 2200.
        fn naive() -> impl Strategy<Value = NaiveDateTime> {
            (-2_208_988_800i64..7_258_118_400)
                .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap().naive_utc())
        }

        const ZONES: [Tz; 5] = [
            chrono_tz::Asia::Shanghai,
            chrono_tz::America::New_York,
            chrono_tz::America::Santiago,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Pacific::Apia,
        ];

        proptest! {
            #[test]
            fn any_text_is_a_time_or_none_never_a_panic(s in "\\PC{0,40}") {
                let _ = AppTime::parse(&s);
            }

            #[test]
            fn every_local_form_the_app_sends_reads_back(t in naive()) {
                for (form, exact) in [
                    ("%Y-%m-%dT%H:%M:%S", true),
                    ("%Y-%m-%d %H:%M:%S", true),
                    ("%Y-%m-%dT%H:%M:%S%.3f", true),
                    ("%Y-%m-%dT%H:%M", false),
                    ("%Y-%m-%d %H:%M", false),
                ] {
                    let text = t.format(form).to_string();
                    let want = if exact { t } else { t.with_second(0).unwrap() };
                    prop_assert_eq!(AppTime::parse(&text), Some(AppTime::Local(want)), "{}", text);
                }
            }

            #[test]
            fn a_time_with_an_offset_is_its_instant(
                t in naive(),
                offset in -(14 * 3600)..=(14 * 3600),
            ) {
                let offset = FixedOffset::east_opt(offset - offset % 60).unwrap();
                let at = t.and_local_timezone(offset).single().unwrap();
                for text in [at.to_rfc3339(), at.format("%Y-%m-%d %H:%M:%S%:z").to_string(), at.format("%Y-%m-%dT%H:%M:%S%z").to_string()] {
                    let parsed = AppTime::parse(&text);
                    prop_assert_eq!(parsed, Some(AppTime::Exact(at)), "{}", text);
                    prop_assert_eq!(parsed.map(|p| p.in_zone(chrono_tz::UTC)), Some(at.to_utc()));
                }
            }

            #[test]
            fn a_local_time_lands_on_that_wall_time_or_just_after_a_gap(t in naive(), zone in 0..ZONES.len()) {
                let tz = ZONES[zone];
                let at = AppTime::Local(t).in_zone(tz);
                let wall = at.with_timezone(&tz).naive_local();
                // The same wall time if it exists; in a gap a change skips, a little later
                // (an hour for the usual gap, up to the end of a skipped day).
                let shift = wall - t;
                let exists = t.and_local_timezone(tz).earliest().is_some();
                prop_assert!(
                    if exists { shift.is_zero() } else { shift > chrono::Duration::zero() && shift <= chrono::Duration::hours(25) },
                    "{} in {} became {}", t, tz, wall
                );
                prop_assert_eq!(AppTime::Local(t).local_date(tz), t.date());
            }
        }
    }

    #[test]
    fn a_time_in_a_skipped_day_is_the_start_of_the_next() {
        // Apia went from 2011-12-29 23:59:59 straight to 2011-12-31 00:00.
        let t = AppTime::parse("2011-12-30T10:00:00").unwrap();
        let at = t.in_zone(chrono_tz::Pacific::Apia);
        assert_eq!(
            at.with_timezone(&chrono_tz::Pacific::Apia).to_string(),
            "2011-12-31 00:00:00 +14"
        );
    }

    #[test]
    fn midnight_skipped_by_a_dst_change_is_the_first_instant_of_the_day() {
        // Santiago skips 00:00–01:00 on 2026-09-06.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let m = local_midnight(tz, NaiveDate::from_ymd_opt(2026, 9, 6).unwrap());
        assert_eq!(m.with_timezone(&tz).format("%H:%M").to_string(), "01:00");
    }
}
