//! Expanding a medication plan into dose instants.
//!
//! Times are wall-clock times in the plan's time zone. On a day when the clocks jump forward
//! past a dose time, the dose moves forward by the jump (02:30 becomes 03:30); when they fall
//! back and a time happens twice, the dose is at its first occurrence. Either way a dose is
//! taken once a day, never twice and never skipped.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub days: u32,
    pub amount: f64,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub times: Vec<NaiveTime>,
    /// ISO weekdays, 1 = Monday.
    pub days_of_week: Option<Vec<u32>>,
    pub every_n_days: Option<u32>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub timezone: Tz,
    pub dose_amount: f64,
    pub phases: Option<Vec<Phase>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occurrence {
    pub at: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
    pub amount: f64,
}

impl Plan {
    /// The amount due on a date, or `None` when the plan has no dose that day.
    pub fn amount_on(&self, date: NaiveDate) -> Option<f64> {
        if date < self.start_date || self.end_date.is_some_and(|end| date > end) {
            return None;
        }
        let day_index = (date - self.start_date).num_days();
        if let Some(days) = &self.days_of_week
            && !days.contains(&date.weekday().number_from_monday())
        {
            return None;
        }
        if let Some(n) = self.every_n_days
            && n > 1
            && day_index % i64::from(n) != 0
        {
            return None;
        }
        match &self.phases {
            Some(phases) if !phases.is_empty() => {
                let mut first_day = 0i64;
                for phase in phases {
                    let next = first_day + i64::from(phase.days);
                    if day_index < next {
                        return Some(phase.amount);
                    }
                    first_day = next;
                }
                // The taper is over.
                None
            }
            _ => Some(self.dose_amount),
        }
    }

    /// Every dose with `from <= at < to`.
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        let mut out = Vec::new();
        if to <= from {
            return out;
        }
        let first = from.with_timezone(&self.timezone).date_naive() - Duration::days(1);
        let last = to.with_timezone(&self.timezone).date_naive() + Duration::days(1);
        let mut date = first.max(self.start_date);
        while date <= last {
            if let Some(amount) = self.amount_on(date) {
                for &time in &self.times {
                    if let Some(at) = local_instant(self.timezone, date, time)
                        && at >= from
                        && at < to
                    {
                        out.push(Occurrence {
                            at,
                            local_date: date,
                            local_time: time,
                            amount,
                        });
                    }
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        out.sort_by_key(|o| o.at);
        out
    }

    /// The dose at exactly this instant, if the plan has one.
    pub fn occurrence_at(&self, at: DateTime<Utc>) -> Option<Occurrence> {
        self.occurrences(at, at + Duration::seconds(1))
            .into_iter()
            .find(|o| o.at == at)
    }
}

/// The UTC instant of a wall-clock time, moved forward over a DST gap and taking the first
/// of two repeated times.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Inside a gap: the same wall time after the jump (gaps are at most a few hours).
            (1..=4).find_map(|h| {
                tz.from_local_datetime(&(naive + Duration::hours(h)))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
            })
        }
    }
}

/// `"08:00"` → 08:00.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(tz: Tz, times: &[&str]) -> Plan {
        Plan {
            times: times.iter().map(|t| parse_time(t).unwrap()).collect(),
            days_of_week: None,
            every_n_days: None,
            start_date: "2026-03-01".parse().unwrap(),
            end_date: None,
            timezone: tz,
            dose_amount: 1.0,
            phases: None,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn dst_spring_forward_moves_the_dose_and_keeps_one_a_day() {
        // New York jumps 02:00 → 03:00 on 2026-03-08.
        let p = plan(chrono_tz::America::New_York, &["02:30", "08:00"]);
        let doses = p.occurrences(utc("2026-03-07T00:00:00Z"), utc("2026-03-10T00:00:00Z"));
        let on_8th: Vec<_> = doses
            .iter()
            .filter(|o| o.local_date == "2026-03-08".parse::<NaiveDate>().unwrap())
            .collect();
        assert_eq!(on_8th.len(), 2);
        // 02:30 does not exist: 03:30 EDT = 07:30Z.
        assert_eq!(on_8th[0].at, utc("2026-03-08T07:30:00Z"));
        // 08:00 EDT = 12:00Z (the day before it was 13:00Z).
        assert_eq!(on_8th[1].at, utc("2026-03-08T12:00:00Z"));
        assert!(doses.iter().any(|o| o.at == utc("2026-03-07T13:00:00Z")));
    }

    #[test]
    fn dst_fall_back_takes_the_first_of_two() {
        // New York falls back 02:00 → 01:00 on 2026-11-01.
        let mut p = plan(chrono_tz::America::New_York, &["01:30"]);
        p.start_date = "2026-10-30".parse().unwrap();
        let doses = p.occurrences(utc("2026-11-01T00:00:00Z"), utc("2026-11-02T00:00:00Z"));
        assert_eq!(doses.len(), 1);
        assert_eq!(doses[0].at, utc("2026-11-01T05:30:00Z"));
    }

    #[test]
    fn time_zones_weekdays_intervals_and_tapers() {
        let mut p = plan(chrono_tz::Asia::Shanghai, &["08:00"]);
        p.start_date = "2026-11-02".parse().unwrap(); // a Monday
        p.days_of_week = Some(vec![1, 3, 5]);
        let doses = p.occurrences(utc("2026-11-01T00:00:00Z"), utc("2026-11-09T00:00:00Z"));
        let dates: Vec<String> = doses.iter().map(|o| o.local_date.to_string()).collect();
        assert_eq!(dates, ["2026-11-02", "2026-11-04", "2026-11-06"]);
        assert_eq!(doses[0].at, utc("2026-11-02T00:00:00Z"));

        p.days_of_week = None;
        p.every_n_days = Some(3);
        p.phases = Some(vec![
            Phase {
                days: 3,
                amount: 4.0,
            },
            Phase {
                days: 3,
                amount: 2.0,
            },
        ]);
        let doses = p.occurrences(utc("2026-11-01T00:00:00Z"), utc("2026-11-30T00:00:00Z"));
        let got: Vec<(String, f64)> = doses
            .iter()
            .map(|o| (o.local_date.to_string(), o.amount))
            .collect();
        assert_eq!(
            got,
            [("2026-11-02".into(), 4.0), ("2026-11-05".into(), 2.0)]
        );
    }
}
