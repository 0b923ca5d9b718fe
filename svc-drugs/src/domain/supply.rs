//! When a plan's stock runs out, found by walking its schedule dose by dose (weekdays, every
//! N days, taper phases, the end date: never stock ÷ daily dose), and when to refill: the
//! run-out date minus the user's lead time, moved earlier past the days the pharmacy is
//! closed. An as-needed plan runs out by its recent average use. Stock may be below zero.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::schedule::{Plan, local_instant};

/// How far ahead the walk looks.
pub const HORIZON_DAYS: i64 = 731;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Walked along the schedule.
    Schedule,
    /// An as-needed plan: its average use over the last days.
    RecentAverage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOut {
    pub basis: Basis,
    /// The local date of the first dose the stock cannot cover; `None` when the stock lasts
    /// past the plan's end or the two-year horizon (see `lasts`).
    pub runs_out_on: Option<NaiveDate>,
    /// That dose's instant (scheduled plans).
    pub first_uncovered_dose_at: Option<DateTime<Utc>>,
    /// Whole days from today to the run-out date.
    pub days_left: Option<i64>,
    /// `plan_end`, `horizon` or `no_recent_use` when there is no run-out date (else null).
    pub lasts: Option<&'static str>,
}

const EPS: f64 = 1e-9;

/// Walk the schedule from `from`: each dose at or after it takes its amount from `stock`;
/// the first dose that finds less than its amount is where the stock runs out.
pub fn run_out(plan: &Plan, stock: f64, from: DateTime<Utc>) -> RunOut {
    let tz = plan.timezone;
    let today = from.with_timezone(&tz).date_naive();
    let mut times = plan.times.clone();
    times.sort_unstable();
    let done = |runs_out_on: Option<NaiveDate>, at: Option<DateTime<Utc>>, lasts| RunOut {
        basis: Basis::Schedule,
        runs_out_on,
        first_uncovered_dose_at: at,
        days_left: runs_out_on.map(|d| (d - today).num_days()),
        lasts,
    };
    if times.is_empty() {
        return done(None, None, Some("plan_end"));
    }
    let last_day = plan_last_day(plan);
    let mut remaining = stock;
    let mut date = today.max(plan.start_date);
    let horizon = today + Duration::days(HORIZON_DAYS);
    while date <= horizon {
        if last_day.is_some_and(|last| date > last) {
            return done(None, None, Some("plan_end"));
        }
        if let Some(amount) = plan.amount_on(date) {
            // Only the first day needs the instants (doses before `from` are past).
            let due: Vec<_> = if date == today {
                times
                    .iter()
                    .filter(|t| local_instant(tz, date, **t).is_some_and(|at| at >= from))
                    .collect()
            } else {
                times.iter().collect()
            };
            let need = amount * due.len() as f64;
            if remaining + EPS >= need {
                remaining -= need;
            } else {
                // How many of today's doses are still covered; the next one is not.
                let covered = ((remaining + EPS) / amount).floor().max(0.0) as usize;
                let at = due.get(covered).and_then(|t| local_instant(tz, date, **t));
                return done(Some(date), at, None);
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    done(None, None, Some("horizon"))
}

/// The last day a plan has doses: its end date, or the end of its taper.
fn plan_last_day(plan: &Plan) -> Option<NaiveDate> {
    let taper_end = plan
        .phases
        .as_ref()
        .filter(|p| !p.is_empty())
        .map(|phases| {
            let days: i64 = phases.iter().map(|p| i64::from(p.days)).sum();
            plan.start_date + Duration::days(days - 1)
        });
    match (plan.end_date, taper_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An as-needed plan: `used` units over the last `days` days at its recent pace.
pub fn run_out_by_average(stock: f64, used: f64, days: i64, today: NaiveDate) -> RunOut {
    let per_day = if days > 0 { used / days as f64 } else { 0.0 };
    if per_day <= EPS {
        return RunOut {
            basis: Basis::RecentAverage,
            runs_out_on: None,
            first_uncovered_dose_at: None,
            days_left: None,
            lasts: Some("no_recent_use"),
        };
    }
    let left = (stock.max(0.0) / per_day).floor() as i64;
    let runs_out_on = (left <= HORIZON_DAYS).then(|| today + Duration::days(left));
    RunOut {
        basis: Basis::RecentAverage,
        runs_out_on,
        first_uncovered_dose_at: None,
        days_left: runs_out_on.map(|_| left),
        lasts: runs_out_on.is_none().then_some("horizon"),
    }
}

/// Days the pharmacy is closed: ISO weekdays (1 = Monday) and dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    #[serde(default)]
    pub weekdays: Vec<u32>,
    #[serde(default)]
    pub dates: Vec<NaiveDate>,
}

impl Closed {
    pub fn is_closed(&self, date: NaiveDate) -> bool {
        self.weekdays.contains(&date.weekday().number_from_monday()) || self.dates.contains(&date)
    }
}

/// When to refill: `lead_days` before the run-out date, moved earlier past closed days; never
/// before `today` (then it is today: refill now).
pub fn refill_on(
    runs_out_on: NaiveDate,
    lead_days: i64,
    closed: &Closed,
    today: NaiveDate,
) -> NaiveDate {
    let mut day = runs_out_on - Duration::days(lead_days);
    // A week of closed weekdays would loop forever; a year of closed dates is the bound.
    for _ in 0..366 {
        if day <= today || !closed.is_closed(day) {
            break;
        }
        day -= Duration::days(1);
    }
    day.max(today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{Phase, parse_time};

    fn plan(times: &[&str], start: &str) -> Plan {
        Plan {
            times: times.iter().map(|t| parse_time(t).unwrap()).collect(),
            days_of_week: None,
            every_n_days: None,
            start_date: start.parse().unwrap(),
            end_date: None,
            timezone: chrono_tz::Asia::Shanghai,
            dose_amount: 1.0,
            phases: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn twice_a_day_walks_dose_by_dose_from_now() {
        // 10:00 in Shanghai on 2026-12-07: the 08:00 dose is past, 20:00 is ahead.
        let p = plan(&["08:00", "20:00"], "2026-12-01");
        let r = run_out(&p, 5.0, at("2026-12-07T02:00:00Z"));
        // 20:00 on the 7th, both on the 8th and 9th: 5 doses; the 10th's 08:00 is uncovered.
        assert_eq!(r.runs_out_on, Some(d("2026-12-10")));
        assert_eq!(r.first_uncovered_dose_at, Some(at("2026-12-10T00:00:00Z")));
        assert_eq!(r.days_left, Some(3));
        // 4.5 tablets cover four doses and a half: the fifth is uncovered.
        let r = run_out(&p, 4.5, at("2026-12-07T02:00:00Z"));
        assert_eq!(r.first_uncovered_dose_at, Some(at("2026-12-09T12:00:00Z")));
        // Below zero: the next dose.
        let r = run_out(&p, -3.0, at("2026-12-07T02:00:00Z"));
        assert_eq!(r.first_uncovered_dose_at, Some(at("2026-12-07T12:00:00Z")));
    }

    #[test]
    fn weekdays_every_n_days_tapers_and_the_end_are_walked() {
        // Monday, Wednesday, Friday from Monday 2026-12-07: 4 tablets last to Monday the 14th.
        let mut p = plan(&["08:00"], "2026-12-07");
        p.days_of_week = Some(vec![1, 3, 5]);
        let r = run_out(&p, 4.0, at("2026-12-06T16:00:00Z"));
        assert_eq!(r.runs_out_on, Some(d("2026-12-16")));
        // Every 3 days: 7th, 10th, 13th covered; the 16th is not.
        p.days_of_week = None;
        p.every_n_days = Some(3);
        assert_eq!(
            run_out(&p, 3.0, at("2026-12-06T16:00:00Z")).runs_out_on,
            Some(d("2026-12-16"))
        );
        // A taper: 3 days of 4, 3 days of 2, then over. 15 tablets: 12 + 2 + (1 < 2) → day 5.
        p.every_n_days = None;
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
        assert_eq!(
            run_out(&p, 15.0, at("2026-12-06T16:00:00Z")).runs_out_on,
            Some(d("2026-12-11"))
        );
        // 18 tablets last the whole taper.
        let r = run_out(&p, 18.0, at("2026-12-06T16:00:00Z"));
        assert_eq!((r.runs_out_on, r.lasts), (None, Some("plan_end")));
        // An end date before the stock runs out.
        p.phases = None;
        p.end_date = Some(d("2026-12-09"));
        assert_eq!(
            run_out(&p, 10.0, at("2026-12-06T16:00:00Z")).lasts,
            Some("plan_end")
        );
        // Beyond two years.
        p.end_date = None;
        assert_eq!(
            run_out(&p, 10_000.0, at("2026-12-06T16:00:00Z")).lasts,
            Some("horizon")
        );
    }

    #[test]
    fn as_needed_by_its_recent_average() {
        let today = d("2026-12-07");
        let r = run_out_by_average(10.0, 14.0, 14, today);
        assert_eq!(
            (r.runs_out_on, r.days_left),
            (Some(d("2026-12-17")), Some(10))
        );
        assert_eq!(
            run_out_by_average(10.0, 0.0, 14, today).lasts,
            Some("no_recent_use")
        );
        assert_eq!(
            run_out_by_average(-2.0, 14.0, 14, today).runs_out_on,
            Some(today)
        );
    }

    #[test]
    fn the_refill_moves_earlier_past_closed_days_and_never_into_the_past() {
        let today = d("2026-12-07"); // Monday
        let closed = Closed {
            weekdays: vec![7], // Sundays
            dates: vec![d("2026-12-12")],
        };
        // Run out Tuesday the 15th, 2 days lead → Sunday 13th (closed) → Saturday 12th
        // (closed) → Friday 11th.
        assert_eq!(
            refill_on(d("2026-12-15"), 2, &closed, today),
            d("2026-12-11")
        );
        assert_eq!(
            refill_on(d("2026-12-15"), 0, &closed, today),
            d("2026-12-15")
        );
        assert_eq!(refill_on(d("2026-12-08"), 5, &closed, today), today);
        // Every day closed: bounded, ends at today.
        let always = Closed {
            weekdays: (1..=7).collect(),
            dates: vec![],
        };
        assert_eq!(refill_on(d("2026-12-20"), 1, &always, today), today);
    }
}
