//! A person's medicines in their calendar feed (from svc-drugs' `/internal/calendar`): each
//! dose time of a scheduled plan as a recurring `VEVENT` per phase (`RRULE` daily, every N
//! days or on weekdays, `UNTIL` the phase's last dose) in the plan's own zone, with an alarm
//! at the dose time; each drug's expiry date as an all-day event with an alarm a week before.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use shared::contracts::{CalendarPlan, MedicationCalendar};

use super::ics::Writer;

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The first day on or after `from` the plan has a dose (so `DTSTART` is one of the rule's).
fn first_day(p: &CalendarPlan, plan_start: NaiveDate, from: NaiveDate) -> Option<NaiveDate> {
    (0..370).map(|i| from + Duration::days(i)).find(|d| {
        let weekday_ok = p
            .days_of_week
            .as_ref()
            .is_none_or(|days| days.contains(&d.weekday().number_from_monday()));
        let every_ok = p
            .every_n_days
            .is_none_or(|n| (*d - plan_start).num_days().rem_euclid(i64::from(n)) == 0);
        weekday_ok && every_ok
    })
}

fn rule(p: &CalendarPlan, until: Option<DateTime<Utc>>) -> String {
    let mut r = match (&p.days_of_week, p.every_n_days) {
        (Some(days), _) => format!(
            "FREQ=WEEKLY;BYDAY={}",
            days.iter()
                .filter_map(|d| DAYS.get((*d as usize).wrapping_sub(1)))
                .copied()
                .collect::<Vec<_>>()
                .join(",")
        ),
        (None, Some(n)) => format!("FREQ=DAILY;INTERVAL={n}"),
        (None, None) => "FREQ=DAILY".to_owned(),
    };
    if let Some(until) = until {
        r.push_str(&format!(";UNTIL={}", stamp(until)));
    }
    r
}

/// Write the medicines' events; the zones they use and their earliest start.
pub fn write(
    w: &mut Writer,
    meds: &MedicationCalendar,
    now: DateTime<Utc>,
) -> (Vec<Tz>, Option<DateTime<Utc>>) {
    let mut zones = Vec::new();
    let mut earliest: Option<DateTime<Utc>> = None;
    for p in &meds.plans {
        let Ok(tz) = p.timezone.parse::<Tz>() else {
            continue;
        };
        let Some(plan_start) = p.phases.first().map(|f| f.start) else {
            continue;
        };
        zones.push(tz);
        for (i, phase) in p.phases.iter().enumerate() {
            let Some(first) = first_day(p, plan_start, phase.start) else {
                continue;
            };
            if phase.end.is_some_and(|end| first > end) {
                continue;
            }
            for time in &p.times {
                let Ok(t) = NaiveTime::parse_from_str(time, "%H:%M") else {
                    continue;
                };
                let start = first.and_time(t);
                let until = phase.end.map(|end| {
                    tz.from_local_datetime(&end.and_time(t))
                        .earliest()
                        .map_or_else(|| end.and_time(t).and_utc(), |at| at.with_timezone(&Utc))
                });
                if let Some(at) = tz.from_local_datetime(&start).earliest() {
                    let at = at.with_timezone(&Utc);
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
                let summary = format!("💊 {} {} {}", p.drug_name, number(phase.amount), p.unit);
                w.begin("VEVENT")
                    .raw(
                        "UID",
                        &format!("{}-{i}-{}@unilife-medications", p.plan_id, t.format("%H%M")),
                    )
                    .raw("DTSTAMP", &stamp(now))
                    .text("SUMMARY", &summary)
                    .raw(
                        &format!("DTSTART;TZID={}", tz.name()),
                        &start.format("%Y%m%dT%H%M%S").to_string(),
                    )
                    .raw("DURATION", "PT10M")
                    .raw("RRULE", &rule(p, until))
                    .text("CATEGORIES", "Medication")
                    .begin("VALARM")
                    .raw("ACTION", "DISPLAY")
                    .text("DESCRIPTION", &summary)
                    .raw("TRIGGER", "PT0M")
                    .end("VALARM")
                    .end("VEVENT");
            }
        }
    }
    for e in &meds.expiries {
        let summary = format!("⚠️ {} 到期 / expires", e.name);
        w.begin("VEVENT")
            .raw("UID", &format!("{}-expiry@unilife-medications", e.drug_id))
            .raw("DTSTAMP", &stamp(now))
            .text("SUMMARY", &summary)
            .raw(
                "DTSTART;VALUE=DATE",
                &e.expiry_date.format("%Y%m%d").to_string(),
            )
            .raw(
                "DTEND;VALUE=DATE",
                &(e.expiry_date + Duration::days(1))
                    .format("%Y%m%d")
                    .to_string(),
            )
            .raw("TRANSP", "TRANSPARENT")
            .text("CATEGORIES", "Medication")
            .begin("VALARM")
            .raw("ACTION", "DISPLAY")
            .text("DESCRIPTION", &summary)
            .raw("TRIGGER", "-P7D")
            .end("VALARM")
            .end("VEVENT");
    }
    (zones, earliest)
}
