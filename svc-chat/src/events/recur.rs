//! Recurrence: a template's `repeat_pattern` as an RFC 5545 rule (stored in `events.rrule`)
//! and its expansion into occurrences with the `rrule` crate.
//!
//! The stored text is `DTSTART;TZID=<zone>:<local start>` + `RRULE:…` for a series with a
//! time of day, or `DTSTART;VALUE=DATE:<day>` + `RRULE:…` for one without (floating days:
//! the same dates in whatever zone the user is in). A timed series is expanded in its own
//! zone with the time of day pinned (`BYHOUR/BYMINUTE/BYSECOND`), so 07:00 stays 07:00 local
//! across DST; a time that does not exist that day (spring forward) falls the length of the
//! gap later, and a time that happens twice (fall back) is the first of the two, as RFC 5545
//! §3.3.10 says.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, Unvalidated};
use serde_json::Value;
use shared::entities::event;
use shared::time::local_midnight;

use super::input::RepeatPattern;

/// At most this many occurrences in one answer; a wider request is refused (400).
pub const MAX_OCCURRENCES: usize = 1000;

/// One occurrence: its local day, and its start for a series with a time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurrence {
    pub date: NaiveDate,
    pub start: Option<DateTime<Utc>>,
}

/// A parsed series, ready to expand.
#[derive(Debug, Clone)]
pub struct Series {
    /// As stored.
    text: String,
    /// `None`: floating days.
    zone: Option<Tz>,
    /// The first day, and the time of day for a timed series.
    start: NaiveDateTime,
    rule: RRule<Unvalidated>,
    /// Whether the rule can be moved forward by whole periods without changing its days (no
    /// COUNT, a frequency and interval whose periods are whole days, weeks or months).
    rebase: Option<Rebase>,
}

#[derive(Debug, Clone, Copy)]
enum Rebase {
    Days(i64),
    Months(u32),
}

/// Why a pattern has no rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError(pub String);

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn weekday(d: u8) -> Option<Weekday> {
    // The original's model: 0 = Sunday … 6 = Saturday.
    Some(match d {
        0 => Weekday::Sun,
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        6 => Weekday::Sat,
        _ => return None,
    })
}

fn byday(days: &[u8]) -> Result<String, RuleError> {
    let mut set = BTreeSet::new();
    for d in days {
        let w = weekday(*d).ok_or_else(|| {
            RuleError(format!(
                "repeat_pattern.weekdays: {d} is not a day (0 Sunday … 6 Saturday)"
            ))
        })?;
        set.insert(w.num_days_from_monday());
    }
    Ok(set
        .into_iter()
        .map(|n| ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][n as usize])
        .collect::<Vec<_>>()
        .join(","))
}

/// The stored text for a pattern starting on `first` (a local day), at `time` if it has one,
/// in `zone`.
pub fn rule_text(
    pattern: &RepeatPattern,
    first: NaiveDate,
    time: Option<NaiveTime>,
    zone: Tz,
) -> Result<String, RuleError> {
    counted_rule_text(pattern, first, time, zone, None)
}

/// As `rule_text`, ending after `count` days (COUNT) unless the pattern has an end date.
pub fn counted_rule_text(
    pattern: &RepeatPattern,
    first: NaiveDate,
    time: Option<NaiveTime>,
    zone: Tz,
    count: Option<u32>,
) -> Result<String, RuleError> {
    let mut parts: Vec<String> = Vec::new();
    match (
        pattern.kind.as_str(),
        pattern.interval_days.filter(|n| *n > 1),
        pattern.weekdays.as_deref().filter(|w| !w.is_empty()),
    ) {
        ("daily", _, _) => parts.push("FREQ=DAILY".into()),
        // The original's model documents weekdays for a weekly pattern too; its expansion
        // ignored them (a bug): here they are the days.
        ("weekly" | "custom", _, Some(days)) => {
            parts.push("FREQ=WEEKLY".into());
            parts.push(format!("BYDAY={}", byday(days)?));
        }
        ("weekly", _, None) => {
            parts.push("FREQ=WEEKLY".into());
            parts.push(format!(
                "BYDAY={}",
                byday(&[u8::try_from(first.weekday().num_days_from_sunday()).unwrap_or(0)])?
            ));
        }
        ("monthly", _, _) => {
            parts.push("FREQ=MONTHLY".into());
            parts.push(format!("BYMONTHDAY={}", first.day()));
        }
        ("custom", Some(n), None) => {
            parts.push("FREQ=DAILY".into());
            parts.push(format!("INTERVAL={n}"));
        }
        ("custom", None, None) => {
            return Err(RuleError(
                "a custom repeat_pattern needs weekdays or interval_days".into(),
            ));
        }
        (other, _, _) => {
            return Err(RuleError(format!(
                "repeat_pattern.type {other:?} must be one of {}",
                RepeatPattern::KINDS.join(", ")
            )));
        }
    }
    if let Some(end) = &pattern.end_date {
        let end = NaiveDate::parse_from_str(end, "%Y-%m-%d")
            .map_err(|_| RuleError("repeat_pattern.end_date must be YYYY-MM-DD".into()))?;
        if end < first {
            return Err(RuleError(format!(
                "repeat_pattern.end_date {end} is before the series starts ({first})"
            )));
        }
        // The whole end day, as an instant (RFC 5545: UNTIL in UTC with a zoned DTSTART).
        let until = match time {
            Some(_) => local_midnight(zone, end + Duration::days(1)) - Duration::seconds(1),
            None => {
                (end + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    - Duration::seconds(1)
            }
        };
        parts.push(format!("UNTIL={}", until.format("%Y%m%dT%H%M%SZ")));
    } else if let Some(n) = count {
        parts.push(format!("COUNT={}", n.clamp(1, 100_000)));
    }
    let rrule = parts.join(";");
    let text = match time {
        Some(t) => format!(
            "DTSTART;TZID={}:{}\nRRULE:{rrule}",
            zone.name(),
            first.and_time(t).format("%Y%m%dT%H%M%S")
        ),
        None => format!(
            "DTSTART;VALUE=DATE:{}\nRRULE:{rrule}",
            first.format("%Y%m%d")
        ),
    };
    // Whatever we write must read back.
    Series::parse(&text)?;
    Ok(text)
}

impl Series {
    /// Read a stored rule.
    pub fn parse(text: &str) -> Result<Series, RuleError> {
        let bad = |why: &str| RuleError(format!("unreadable recurrence rule: {why}"));
        let mut zone = None;
        let mut start = None;
        let mut rule = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(v) = line.strip_prefix("DTSTART;VALUE=DATE:") {
                let d = NaiveDate::parse_from_str(v, "%Y%m%d").map_err(|_| bad("DTSTART"))?;
                start = Some(d.and_time(NaiveTime::MIN));
            } else if let Some(v) = line.strip_prefix("DTSTART;TZID=") {
                let (z, t) = v.split_once(':').ok_or_else(|| bad("DTSTART"))?;
                zone = Some(z.parse::<Tz>().map_err(|_| bad("TZID"))?);
                start = Some(
                    NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%S")
                        .map_err(|_| bad("DTSTART"))?,
                );
            } else if let Some(v) = line.strip_prefix("RRULE:") {
                rule = Some(
                    v.parse::<RRule<Unvalidated>>()
                        .map_err(|e| RuleError(format!("bad RRULE: {e}")))?,
                );
            } else {
                return Err(bad(line));
            }
        }
        let (Some(start), Some(rule)) = (start, rule) else {
            return Err(bad("DTSTART and RRULE are both needed"));
        };
        let rebase = if rule.get_count().is_some() {
            None
        } else {
            let n = i64::from(rule.get_interval().max(1));
            match rule.get_freq() {
                Frequency::Daily => Some(Rebase::Days(n)),
                Frequency::Weekly => Some(Rebase::Days(7 * n)),
                Frequency::Monthly if !rule.get_by_month_day().is_empty() => {
                    Some(Rebase::Months(u32::try_from(n).unwrap_or(1)))
                }
                _ => None,
            }
        };
        let series = Series {
            text: text.to_owned(),
            zone,
            start,
            rule,
            rebase,
        };
        // Validate once, at the first day.
        series.build(start.date())?;
        Ok(series)
    }

    /// The series of a template: its stored rule, or for a template written before rules
    /// were stored, one derived from its pattern in `zone`. `None`: not a recurring template.
    pub fn of(template: &event::Model, zone: Tz) -> Option<Series> {
        if template.is_template != Some(true) {
            return None;
        }
        if let Some(text) = &template.rrule {
            return Series::parse(text).ok();
        }
        let text = derive(template, zone).ok()??;
        Series::parse(&text).ok()
    }

    /// The same series without its end (UNTIL).
    pub fn without_end(&self) -> Series {
        let text: Vec<String> = self
            .text
            .lines()
            .map(|l| match l.strip_prefix("RRULE:") {
                Some(r) => format!(
                    "RRULE:{}",
                    r.split(';')
                        .filter(|p| !p.starts_with("UNTIL="))
                        .collect::<Vec<_>>()
                        .join(";")
                ),
                None => l.to_owned(),
            })
            .collect();
        Series::parse(&text.join("\n")).unwrap_or_else(|_| self.clone())
    }

    /// The stored text.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn timed(&self) -> bool {
        self.zone.is_some()
    }

    pub fn first_day(&self) -> NaiveDate {
        self.start.date()
    }

    /// The zone a timed series is kept in (`None`: floating days).
    pub fn zone(&self) -> Option<Tz> {
        self.zone
    }

    /// A timed series' local date-time on `date` (its wall-clock time that day, which a DST
    /// gap may skip: then the occurrence is the gap's length later, as RFC 5545 reads it).
    pub fn local_on(&self, date: NaiveDate) -> Option<NaiveDateTime> {
        // To the minute, as the expansion pins it (BYSECOND=0).
        let t = self.start.time();
        let minute = NaiveTime::from_hms_opt(t.hour(), t.minute(), 0).unwrap_or(t);
        self.zone.map(|_| date.and_time(minute))
    }

    /// The `RRULE` value for a calendar: as stored, except that a series of days ends on a
    /// day (RFC 5545 §3.3.10: UNTIL has DTSTART's value type), not at a UTC instant.
    pub fn rrule_value(&self) -> String {
        let stored = self
            .text
            .lines()
            .find_map(|l| l.trim().strip_prefix("RRULE:"))
            .unwrap_or_default();
        if self.zone.is_some() {
            return stored.to_owned();
        }
        stored
            .split(';')
            .map(|p| match p.strip_prefix("UNTIL=") {
                Some(v) => format!("UNTIL={}", v.get(..8).unwrap_or(v)),
                None => p.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The rule as built from `day` on (a day of the series or before it).
    fn build(&self, day: NaiveDate) -> Result<rrule::RRuleSet, RuleError> {
        let zone = rrule::Tz::Tz(self.zone.unwrap_or(chrono_tz::UTC));
        // Midnight of the first day as the start, the time pinned by BYHOUR…: a start whose
        // time falls in a DST gap or fold would be ambiguous itself.
        let dt_start =
            local_midnight(self.zone.unwrap_or(chrono_tz::UTC), day).with_timezone(&zone);
        let t = self.start.time();
        let rule = self
            .rule
            .clone()
            .by_hour(vec![u8::try_from(t.hour()).unwrap_or(0)])
            .by_minute(vec![u8::try_from(t.minute()).unwrap_or(0)])
            .by_second(vec![0]);
        rule.build(dt_start)
            .map_err(|e| RuleError(format!("bad recurrence rule: {e}")))
    }

    /// The first day to expand from for a range starting on `from`: the series' first day
    /// moved forward by whole periods (the same days follow), so a long-running series does
    /// not iterate through its past.
    fn base_for(&self, from: NaiveDate) -> NaiveDate {
        let first = self.start.date();
        if from <= first {
            return first;
        }
        match self.rebase {
            Some(Rebase::Days(n)) => {
                let k = (from - first).num_days().div_euclid(n);
                first + Duration::days(k * n)
            }
            Some(Rebase::Months(n)) => {
                let months = (from.year() - first.year()) * 12 + from.month0() as i32
                    - first.month0() as i32;
                let k = u32::try_from(months.max(0)).unwrap_or(0) / n * n;
                first
                    .with_day(1)
                    .and_then(|d| d.checked_add_months(chrono::Months::new(k)))
                    .unwrap_or(first)
            }
            None => first,
        }
    }

    /// The occurrences starting in `[from, to)` (a floating day counts from its midnight in
    /// `zone`, the user's zone now), minus `exdates`; more than `max` is an error.
    pub fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
        exdates: &BTreeSet<NaiveDate>,
        max: usize,
    ) -> Result<Vec<Occurrence>, RuleError> {
        let out = self.walk(from, to, zone, exdates, max + 1)?;
        if out.len() > max {
            return Err(RuleError(format!(
                "more than {max} occurrences in this range; ask for a shorter one"
            )));
        }
        Ok(out)
    }

    /// The first `n` occurrences starting in `[from, to)`, minus `exdates`.
    pub fn first(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
        exdates: &BTreeSet<NaiveDate>,
        n: usize,
    ) -> Result<Vec<Occurrence>, RuleError> {
        self.walk(from, to, zone, exdates, n)
    }

    fn walk(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
        exdates: &BTreeSet<NaiveDate>,
        take: usize,
    ) -> Result<Vec<Occurrence>, RuleError> {
        if to <= from || take == 0 {
            return Ok(Vec::new());
        }
        let first = self.start.date();
        // A day before the range in any zone (offsets are under a day).
        let from_day = (from - Duration::days(1)).date_naive();
        let set = self.build(self.base_for(from_day.max(first)))?;
        let mut out = Vec::new();
        for dt in &set {
            let (date, start, at) = match self.zone {
                Some(_) => {
                    let utc = dt.with_timezone(&Utc);
                    (dt.date_naive(), Some(utc), utc)
                }
                None => {
                    let d = dt.date_naive();
                    (d, None, local_midnight(zone, d))
                }
            };
            if at >= to {
                break;
            }
            if at < from || date < first || exdates.contains(&date) {
                continue;
            }
            out.push(Occurrence { date, start });
            if out.len() == take {
                break;
            }
        }
        Ok(out)
    }

    /// The occurrence on `date`, if the series has one that day.
    pub fn on(&self, date: NaiveDate, zone: Tz) -> Option<Occurrence> {
        let day_zone = self.zone.unwrap_or(zone);
        let from = local_midnight(day_zone, date);
        let to = local_midnight(day_zone, date + Duration::days(1));
        self.between(from, to, zone, &BTreeSet::new(), 4)
            .ok()?
            .into_iter()
            .find(|o| o.date == date)
    }
}

/// A template's pattern, first day and time of day, as the rule says them: the pattern's
/// `time`, else the template's start time, else none; the template's day, else its start's,
/// else the day it was made.
pub fn derive(template: &event::Model, zone: Tz) -> Result<Option<String>, RuleError> {
    let Some(raw) = &template.repeat_pattern else {
        return Ok(None);
    };
    let pattern: RepeatPattern = serde_json::from_value(raw.clone())
        .map_err(|e| RuleError(format!("repeat_pattern: {e}")))?;
    let time = match &pattern.time {
        Some(t) => Some(
            NaiveTime::parse_from_str(t, "%H:%M")
                .map_err(|_| RuleError("repeat_pattern.time must be HH:MM".into()))?,
        ),
        None => template.start_time.map(|s| s.with_timezone(&zone).time()),
    };
    let first = template
        .event_date
        .or(template.start_time)
        .unwrap_or(template.created_at)
        .with_timezone(&zone)
        .date_naive();
    // A habit's days are counted (`habit_total_count`: its first batch, moved on by the
    // replenishment job once kept).
    let count = template
        .habit_interval
        .map(|_| u32::try_from(template.habit_total_count).unwrap_or(1));
    counted_rule_text(&pattern, first, time, zone, count).map(Some)
}

/// A template's cancelled days.
pub fn exdates(template: &event::Model) -> BTreeSet<NaiveDate> {
    template
        .exdates
        .as_ref()
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|d| d.as_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

/// `exdates` as stored.
pub fn exdates_json(days: &BTreeSet<NaiveDate>) -> Option<Value> {
    (!days.is_empty()).then(|| {
        Value::Array(
            days.iter()
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .collect(),
        )
    })
}

/// The id the app sees for an occurrence not yet made: `virtual_<template>_<YYYYMMDD>`, as
/// the original named them.
pub fn virtual_id(template: uuid::Uuid, date: NaiveDate) -> String {
    format!("virtual_{template}_{}", date.format("%Y%m%d"))
}

/// The template and day of a virtual id.
pub fn parse_virtual_id(id: &str) -> Option<(uuid::Uuid, NaiveDate)> {
    let rest = id.strip_prefix("virtual_")?;
    let (template, day) = rest.rsplit_once('_')?;
    Some((
        template.parse().ok()?,
        NaiveDate::parse_from_str(day, "%Y%m%d").ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn pattern(kind: &str) -> RepeatPattern {
        RepeatPattern {
            kind: kind.into(),
            weekdays: None,
            time: None,
            end_date: None,
            interval_days: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn all(s: &Series, zone: Tz, from: &str, to: &str) -> Vec<Occurrence> {
        s.between(
            local_midnight(zone, day(from)),
            local_midnight(zone, day(to)),
            zone,
            &BTreeSet::new(),
            MAX_OCCURRENCES,
        )
        .unwrap()
    }

    #[test]
    fn seven_oclock_stays_local_across_spring_forward() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let text = rule_text(
            &pattern("daily"),
            day("2027-03-12"),
            NaiveTime::from_hms_opt(7, 0, 0),
            ny,
        )
        .unwrap();
        assert_eq!(
            text,
            "DTSTART;TZID=America/New_York:20270312T070000\nRRULE:FREQ=DAILY"
        );
        let s = Series::parse(&text).unwrap();
        let got = all(&s, ny, "2027-03-12", "2027-03-16");
        let local: Vec<String> = got
            .iter()
            .map(|o| {
                o.start
                    .unwrap()
                    .with_timezone(&ny)
                    .format("%m-%d %H:%M %Z")
                    .to_string()
            })
            .collect();
        assert_eq!(
            local,
            [
                "03-12 07:00 EST",
                "03-13 07:00 EST",
                "03-14 07:00 EDT",
                "03-15 07:00 EDT"
            ]
        );
    }

    #[test]
    fn gap_falls_later_and_fold_takes_the_first() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let gap = Series::parse(
            &rule_text(
                &pattern("daily"),
                day("2027-03-13"),
                NaiveTime::from_hms_opt(2, 30, 0),
                ny,
            )
            .unwrap(),
        )
        .unwrap();
        let on = gap.on(day("2027-03-14"), ny).unwrap().start.unwrap();
        assert_eq!(
            on,
            Utc.with_ymd_and_hms(2027, 3, 14, 7, 30, 0).unwrap(),
            "03:30 EDT"
        );
        let fold = Series::parse(
            &rule_text(
                &pattern("daily"),
                day("2027-11-06"),
                NaiveTime::from_hms_opt(1, 30, 0),
                ny,
            )
            .unwrap(),
        )
        .unwrap();
        let on = fold.on(day("2027-11-07"), ny).unwrap().start.unwrap();
        assert_eq!(
            on,
            Utc.with_ymd_and_hms(2027, 11, 7, 5, 30, 0).unwrap(),
            "01:30 EDT"
        );
    }

    #[test]
    fn weekdays_are_sunday_based_and_until_ends_the_day() {
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let p = RepeatPattern {
            weekdays: Some(vec![0, 3]),
            end_date: Some("2026-12-20".into()),
            ..pattern("weekly")
        };
        let s = Series::parse(
            &rule_text(
                &p,
                day("2026-12-01"),
                NaiveTime::from_hms_opt(23, 30, 0),
                sh,
            )
            .unwrap(),
        )
        .unwrap();
        let days: Vec<NaiveDate> = all(&s, sh, "2026-11-01", "2027-02-01")
            .iter()
            .map(|o| o.date)
            .collect();
        assert_eq!(
            days,
            [
                day("2026-12-02"),
                day("2026-12-06"),
                day("2026-12-09"),
                day("2026-12-13"),
                day("2026-12-16"),
                day("2026-12-20")
            ]
        );
    }

    #[test]
    fn floating_days_every_third_day_and_exdates() {
        let p = RepeatPattern {
            interval_days: Some(3),
            ..pattern("custom")
        };
        let text = rule_text(&p, day("2026-01-01"), None, chrono_tz::UTC).unwrap();
        assert_eq!(
            text,
            "DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=DAILY;INTERVAL=3"
        );
        let s = Series::parse(&text).unwrap();
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let ex = BTreeSet::from([day("2026-12-06")]);
        let got = s
            .between(
                local_midnight(sh, day("2026-12-01")),
                local_midnight(sh, day("2026-12-11")),
                sh,
                &ex,
                100,
            )
            .unwrap();
        // 2026-01-01 + 3k (12-03 is day 336): 12-03, 12-06 (cancelled), 12-09.
        let days: Vec<NaiveDate> = got.iter().map(|o| o.date).collect();
        assert_eq!(days, [day("2026-12-03"), day("2026-12-09")]);
        assert!(got.iter().all(|o| o.start.is_none()));
    }

    #[test]
    fn monthly_skips_months_without_the_day() {
        let p = pattern("monthly");
        let s = Series::parse(&rule_text(&p, day("2027-01-31"), None, chrono_tz::UTC).unwrap())
            .unwrap();
        let days: Vec<NaiveDate> = all(&s, chrono_tz::UTC, "2027-01-01", "2027-06-01")
            .iter()
            .map(|o| o.date)
            .collect();
        assert_eq!(
            days,
            [day("2027-01-31"), day("2027-03-31"), day("2027-05-31")]
        );
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        let first = day("2027-01-10");
        let cases = [
            (pattern("custom"), "weekdays or interval_days"),
            (
                RepeatPattern {
                    end_date: Some("2027-01-09".into()),
                    ..pattern("daily")
                },
                "before the series starts",
            ),
            (
                RepeatPattern {
                    weekdays: Some(vec![7]),
                    ..pattern("weekly")
                },
                "is not a day",
            ),
            (pattern("yearly"), "must be one of"),
        ];
        for (p, why) in cases {
            let e = rule_text(&p, first, None, chrono_tz::UTC).unwrap_err();
            assert!(e.0.contains(why), "{p:?}: {e}");
        }
    }

    #[test]
    fn too_many_occurrences_is_an_error_not_a_truncation() {
        let s = Series::parse(
            &rule_text(&pattern("daily"), day("2026-01-01"), None, chrono_tz::UTC).unwrap(),
        )
        .unwrap();
        let e = s
            .between(
                local_midnight(chrono_tz::UTC, day("2026-01-01")),
                local_midnight(chrono_tz::UTC, day("2030-01-01")),
                chrono_tz::UTC,
                &BTreeSet::new(),
                MAX_OCCURRENCES,
            )
            .unwrap_err();
        assert!(e.0.contains("more than 1000"), "{e}");
    }

    #[test]
    fn virtual_ids_round_trip() {
        let id = uuid::Uuid::now_v7();
        let v = virtual_id(id, day("2026-12-03"));
        assert_eq!(parse_virtual_id(&v), Some((id, day("2026-12-03"))));
        assert_eq!(parse_virtual_id("virtual_x_20261203"), None);
    }
}

/// The expansion against a naive reference that walks the range minute by minute: random
/// rules, zones with and without DST (gaps and folds included) and ranges around the changes.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Kind {
        Daily(u16),
        Weekly(Vec<u8>),
        Monthly,
    }

    /// Whether `d` is one of the rule's days (from `first` on, until `until`).
    fn rule_day(kind: &Kind, first: NaiveDate, until: Option<NaiveDate>, d: NaiveDate) -> bool {
        if d < first || until.is_some_and(|u| d > u) {
            return false;
        }
        match kind {
            Kind::Daily(n) => (d - first).num_days() % i64::from(*n) == 0,
            Kind::Weekly(days) if days.is_empty() => d.weekday() == first.weekday(),
            Kind::Weekly(days) => days
                .iter()
                .any(|w| u32::from(*w) == d.weekday().num_days_from_sunday()),
            Kind::Monthly => d.day() == first.day(),
        }
    }

    /// Minute by minute: an occurrence is the first minute of a rule day whose wall time is
    /// `t`; when the day skips `t` (a DST gap), the instant `t` would be with the offset
    /// before the gap.
    fn reference(
        kind: &Kind,
        first: NaiveDate,
        until: Option<NaiveDate>,
        t: Option<NaiveTime>,
        zone: Tz,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Vec<Occurrence> {
        let mut out = Vec::new();
        let mut m = from - Duration::days(1);
        let mut prev = m.with_timezone(&zone).naive_local();
        let mut seen: Option<NaiveDate> = None;
        while m < to + Duration::days(1) {
            m += Duration::minutes(1);
            let wall = m.with_timezone(&zone).naive_local();
            let d = wall.date();
            let hit = match t {
                // Floating: the day's first minute.
                None => (prev.date() != d).then_some(m),
                Some(_) if seen == Some(d) => None,
                Some(t) if wall.time() == t => Some(m),
                Some(t)
                    if prev.date() == d
                        && prev.time() < t
                        && wall.time() > t
                        && wall - prev > Duration::minutes(1) =>
                {
                    // The gap: `t` is that far past the gap's start.
                    Some(m + (t - (prev.time() + Duration::minutes(1))))
                }
                Some(_) => None,
            };
            if let Some(at) = hit
                && rule_day(kind, first, until, d)
            {
                seen = Some(d);
                if at >= from && at < to {
                    out.push(Occurrence {
                        date: d,
                        start: t.map(|_| at),
                    });
                }
            }
            prev = wall;
        }
        out
    }

    fn zones() -> impl Strategy<Value = Tz> {
        prop_oneof![
            Just(chrono_tz::America::New_York),
            Just(chrono_tz::Europe::London),
            Just(chrono_tz::Asia::Shanghai),
        ]
    }

    /// Days around the 2027 changes in New York and London.
    fn around() -> impl Strategy<Value = NaiveDate> {
        (
            prop_oneof![
                Just("2027-03-14"),
                Just("2027-11-07"),
                Just("2027-03-28"),
                Just("2027-10-31")
            ],
            -6i64..6,
        )
            .prop_map(|(d, k)| d.parse::<NaiveDate>().unwrap() + Duration::days(k))
    }

    fn kinds() -> impl Strategy<Value = Kind> {
        prop_oneof![
            (1u16..5).prop_map(Kind::Daily),
            proptest::collection::btree_set(0u8..7, 0..4)
                .prop_map(|s| Kind::Weekly(s.into_iter().collect())),
            Just(Kind::Monthly),
        ]
    }

    fn times() -> impl Strategy<Value = Option<NaiveTime>> {
        prop_oneof![
            1 => Just(None),
            4 => (0u32..4, prop_oneof![Just(0u32), Just(15), Just(30), Just(59)])
                .prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0)),
            2 => (4u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn expansion_matches_the_minute_by_minute_reference(
            zone in zones(),
            kind in kinds(),
            t in times(),
            start in around(),
            first_back in 0i64..40,
            until_after in proptest::option::of(0i64..20),
            days in 1i64..10,
        ) {
            let first = start - Duration::days(first_back);
            let until = until_after.map(|k| start + Duration::days(k));
            let pattern = RepeatPattern {
                kind: match &kind { Kind::Daily(1) => "daily", Kind::Daily(_) => "custom", Kind::Weekly(_) => "weekly", Kind::Monthly => "monthly" }.into(),
                weekdays: match &kind { Kind::Weekly(w) if !w.is_empty() => Some(w.clone()), _ => None },
                time: None,
                end_date: until.map(|u| u.format("%Y-%m-%d").to_string()),
                interval_days: match &kind { Kind::Daily(n) if *n > 1 => Some(*n), _ => None },
            };
            let until = until.filter(|u| *u >= first);
            prop_assume!(pattern.end_date.as_deref().is_none_or(|_| until.is_some()));
            let series = Series::parse(&rule_text(&pattern, first, t, zone).unwrap()).unwrap();
            let range = (local_midnight(zone, start), local_midnight(zone, start + Duration::days(days)) + Duration::minutes(37));
            let got = series.between(range.0, range.1, zone, &BTreeSet::new(), 10_000).unwrap();
            let want = reference(&kind, first, until, t, zone, range);
            prop_assert_eq!(got, want);
        }
    }
}
