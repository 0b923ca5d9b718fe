//! A user's events as an iCalendar feed (RFC 5545).
//!
//! - A single event is a `VEVENT` at its time in the user's zone (`TZID`), a day event
//!   (`event_date` without a time) an all-day `VEVENT`, a deadline without a start a
//!   moment at its end; an event with neither day nor time is not in a calendar.
//! - A routine (a template with a rule) is one `VEVENT` with its `RRULE` and `EXDATE`s, in
//!   the zone the series is kept in; a day made into an instance (moved, completed,
//!   cancelled, edited) is a `VEVENT` with the series' `UID` and a `RECURRENCE-ID`.
//! - Every zone used has a `VTIMEZONE`; timed events get a `VALARM` when the feed asks for
//!   one.
//!
//! Written by the small [`Writer`] here, not the `icalendar` crate's builder: that writer
//! adds a random `UID` and a `DTSTAMP` to every component, `VTIMEZONE` and `VALARM` too
//! (RFC 5545 allows neither in a `VTIMEZONE`), so its output was invalid and differed on
//! every fetch. The tests read the feed back with the `icalendar` crate's parser.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use shared::entities::event::{self, EventStatus};
use uuid::Uuid;

use super::vtimezone::vtimezone;
use crate::events::recur::{self, Occurrence, Series};

/// How the feed is made.
#[derive(Debug, Clone, Copy)]
pub struct FeedOptions {
    /// The user's zone now.
    pub tz: Tz,
    /// Minutes before a timed event to alert; `None`: no alarms.
    pub alarm_minutes: Option<i32>,
    pub now: DateTime<Utc>,
}

/// Product id of the feed (RFC 5545 §3.7.3).
const PRODID: &str = "-//UniLife//Calendar Feed//ZH";
/// How far ahead the zones' changes are written.
const ZONE_YEARS_AHEAD: i64 = 10;

/// iCalendar content lines: escaped text, folded at 75 octets, CRLF.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// `NAME[;PARAMS]:value` with the value as given (dates, rules, durations).
    pub fn raw(&mut self, name: &str, value: &str) -> &mut Self {
        let line = format!("{name}:{value}");
        fold_into(&mut self.out, &line);
        self
    }

    /// `NAME:value` with the value escaped as TEXT (RFC 5545 §3.3.11).
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.raw(name, &escape(value))
    }

    pub fn begin(&mut self, kind: &str) -> &mut Self {
        self.raw("BEGIN", kind)
    }

    pub fn end(&mut self, kind: &str) -> &mut Self {
        self.raw("END", kind)
    }

    /// Lines already written elsewhere (CRLF-terminated).
    pub fn lines(&mut self, text: &str) -> &mut Self {
        self.out.push_str(text);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Escape TEXT: backslash, semicolon, comma and newlines (a CR is dropped).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            // Other control characters are not allowed in TEXT.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Append `line` folded: at most 75 octets a line, never inside a character (RFC 5545
/// §3.1), each continuation starting with a space.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn uid(id: Uuid) -> String {
    format!("{id}@unilife")
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// `NAME;TZID=zone` and the local time, for a zoned date-time property.
fn zoned(w: &mut Writer, name: &str, at: DateTime<Utc>, tz: Tz) {
    wall(w, name, local(at, tz), tz);
}

/// `NAME;TZID=zone` and a wall-clock time as written (one a DST gap skips included: a
/// series' days are its wall-clock time, and a calendar moves a skipped one as we do).
fn wall(w: &mut Writer, name: &str, at: NaiveDateTime, tz: Tz) {
    w.raw(
        &format!("{name};TZID={}", tz.name()),
        &at.format("%Y%m%dT%H%M%S").to_string(),
    );
}

fn day(w: &mut Writer, name: &str, d: NaiveDate) {
    w.raw(
        &format!("{name};VALUE=DATE"),
        &d.format("%Y%m%d").to_string(),
    );
}

/// The default length of an event without an end or duration.
fn length(e: &event::Model) -> Duration {
    Duration::minutes(i64::from(e.duration.filter(|d| *d > 0).unwrap_or(60)))
}

/// Where an event sits in a calendar.
#[derive(Debug, Clone, Copy)]
enum Placement {
    Timed(DateTime<Utc>, DateTime<Utc>),
    Day(NaiveDate),
}

impl Placement {
    /// About when it starts (a day from its UTC midnight), for the zones' range.
    fn instant(self) -> DateTime<Utc> {
        match self {
            Placement::Timed(start, _) => start,
            Placement::Day(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
        }
    }
}

fn placement(e: &event::Model, tz: Tz) -> Option<Placement> {
    match (e.start_time, e.end_time, e.event_date) {
        (Some(start), end, _) => Some(Placement::Timed(
            start,
            end.filter(|end| *end >= start)
                .unwrap_or_else(|| start + length(e)),
        )),
        // A deadline: the moment it is due.
        (None, Some(end), _) => Some(Placement::Timed(end, end)),
        (None, None, Some(day)) => Some(Placement::Day(day.with_timezone(&tz).date_naive())),
        (None, None, None) => None,
    }
}

fn place(w: &mut Writer, at: Placement, tz: Tz) {
    match at {
        Placement::Timed(start, end) => {
            zoned(w, "DTSTART", start, tz);
            zoned(w, "DTEND", end, tz);
        }
        Placement::Day(d) => {
            day(w, "DTSTART", d);
            day(w, "DTEND", d + Duration::days(1));
        }
    }
}

/// The properties every `VEVENT` of ours has: what it is, when it changed, its state.
fn describe(w: &mut Writer, e: &event::Model, uid: &str, now: DateTime<Utc>) {
    let title = if e.status == EventStatus::Completed {
        format!("✓ {}", e.title)
    } else {
        e.title.clone()
    };
    w.text("UID", uid)
        .raw("DTSTAMP", &stamp(now))
        .raw("LAST-MODIFIED", &stamp(e.updated_at))
        .text("SUMMARY", &title)
        .text("CATEGORIES", e.category.as_str())
        .raw(
            "STATUS",
            if e.status == EventStatus::Cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            },
        );
    let text: Vec<&str> = [e.description.as_deref(), e.notes.as_deref()]
        .into_iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if !text.is_empty() {
        w.text("DESCRIPTION", &text.join("\n\n"));
    }
    if let Some(place) = e.location.as_deref().filter(|l| !l.trim().is_empty()) {
        w.text("LOCATION", place);
    }
}

/// A display alarm `minutes` before the start, for an event still to do.
fn alarm(w: &mut Writer, e: &event::Model, minutes: Option<i32>) {
    let live = matches!(e.status, EventStatus::Pending | EventStatus::InProgress);
    if let Some(m) = minutes.filter(|_| live) {
        w.begin("VALARM")
            .raw("ACTION", "DISPLAY")
            .text("DESCRIPTION", &e.title)
            .raw("TRIGGER", &format!("-PT{}M", m.max(0)))
            .end("VALARM");
    }
}

/// A routine: its first day, rule and cancelled days.
fn series_event(
    w: &mut Writer,
    t: &event::Model,
    s: &Series,
    opts: &FeedOptions,
) -> Option<DateTime<Utc>> {
    let far = opts.now + Duration::days(366 * 200);
    let before = shared::time::local_midnight(s.zone().unwrap_or(opts.tz), s.first_day())
        - Duration::days(2);
    // The first day with no day cancelled: COUNT counts cancelled days too.
    let first: Occurrence = s
        .first(before, far, opts.tz, &BTreeSet::new(), 1)
        .ok()?
        .into_iter()
        .next()?;
    w.begin("VEVENT");
    describe(w, t, &uid(t.id), opts.now);
    let exdates = recur::exdates(t);
    let at = match (s.zone(), first.start, s.local_on(first.date)) {
        (Some(zone), Some(start), Some(wall_start)) => {
            // The rule's days are its wall-clock time: DTSTART is that time on the first
            // day even when a DST gap moves that day's occurrence (the gap's length later).
            // Its length as DURATION: a DTEND on the wall clock would be 0 or 2 hours long
            // when the first day has a change inside the event.
            wall(w, "DTSTART", wall_start, zone);
            w.raw(
                "DURATION",
                &format!("PT{}M", length(t).num_minutes().max(0)),
            );
            w.raw("RRULE", &s.rrule_value());
            for d in &exdates {
                if s.on(*d, opts.tz).is_some()
                    && let Some(at) = s.local_on(*d)
                {
                    wall(w, "EXDATE", at, zone);
                }
            }
            alarm(w, t, opts.alarm_minutes);
            Placement::Timed(start, start + length(t))
        }
        _ => {
            let at = Placement::Day(first.date);
            place(w, at, opts.tz);
            w.raw("RRULE", &s.rrule_value());
            for d in &exdates {
                day(w, "EXDATE", *d);
            }
            at
        }
    };
    w.end("VEVENT");
    Some(at.instant())
}

/// A day of a routine made into an instance: the series' `UID` and the day it replaces.
fn exception_event(
    w: &mut Writer,
    e: &event::Model,
    template: &event::Model,
    s: &Series,
    opts: &FeedOptions,
    overridden: &mut HashSet<(Uuid, NaiveDate)>,
) -> Option<DateTime<Utc>> {
    let date = crate::events::store::series_day(e, opts.tz)?;
    // One override per day of the series, and none for a cancelled day (a calendar would
    // drop one of two, or hide an override of an excluded day): such an instance is an
    // event of its own.
    if recur::exdates(template).contains(&date) || overridden.contains(&(template.id, date)) {
        return None;
    }
    let occ = s.on(date, opts.tz)?;
    overridden.insert((template.id, date));
    let at = placement(e, opts.tz)?;
    w.begin("VEVENT");
    describe(w, e, &uid(template.id), opts.now);
    let zone = s.zone().unwrap_or(opts.tz);
    match (s.zone(), s.local_on(occ.date)) {
        (Some(z), Some(at)) => wall(w, "RECURRENCE-ID", at, z),
        _ => day(w, "RECURRENCE-ID", occ.date),
    }
    place(w, at, zone);
    if matches!(at, Placement::Timed(..)) {
        alarm(w, e, opts.alarm_minutes);
    }
    w.end("VEVENT");
    Some(at.instant())
}

fn single_event(w: &mut Writer, e: &event::Model, opts: &FeedOptions) -> Option<DateTime<Utc>> {
    let at = placement(e, opts.tz)?;
    w.begin("VEVENT");
    describe(w, e, &uid(e.id), opts.now);
    place(w, at, opts.tz);
    if matches!(at, Placement::Timed(..)) {
        alarm(w, e, opts.alarm_minutes);
    }
    w.end("VEVENT");
    Some(at.instant())
}

/// The feed of `events` (a user's: singles, templates and instances alike) and of their
/// medicines.
pub fn render(
    events: &[event::Model],
    meds: &shared::contracts::MedicationCalendar,
    opts: &FeedOptions,
) -> String {
    let templates: HashMap<Uuid, (&event::Model, Series)> = events
        .iter()
        .filter(|t| t.status != EventStatus::Cancelled)
        .filter_map(|t| Series::of(t, opts.tz).map(|s| (t.id, (t, s))))
        .collect();
    let mut zones: BTreeSet<&'static str> = BTreeSet::new();
    zones.insert(opts.tz.name());
    let mut body = Writer::default();
    let mut earliest: Option<DateTime<Utc>> = None;
    let mut overridden = HashSet::new();
    for e in events {
        let at = match (&e.is_template, e.parent_event_id) {
            (Some(true), _) => match templates.get(&e.id) {
                Some((t, s)) => {
                    if let Some(z) = s.zone() {
                        zones.insert(z.name());
                    }
                    series_event(&mut body, t, s, opts)
                }
                None => None,
            },
            (_, Some(parent)) => templates
                .get(&parent)
                .and_then(|(t, s)| exception_event(&mut body, e, t, s, opts, &mut overridden))
                // Not a day of a live series (its series cancelled, or the day moved off
                // the series' days): an event of its own.
                .or_else(|| single_event(&mut body, e, opts)),
            _ => single_event(&mut body, e, opts),
        };
        earliest = match (earliest, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let (med_zones, med_earliest) = super::medications::write(&mut body, meds, opts.now);
    for tz in med_zones {
        zones.insert(tz.name());
    }
    earliest = match (earliest, med_earliest) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // Whole UTC days, so the zones' part of the feed (and its ETag) stays the same between
    // fetches while the events do.
    let midnight = |at: DateTime<Utc>| at.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    // Without events, from the start of the year (not yesterday: the ETag would change daily).
    let from = match earliest {
        Some(at) => midnight(at - Duration::days(1)),
        None => NaiveDate::from_ymd_opt(opts.now.year(), 1, 1)
            .unwrap_or(opts.now.date_naive())
            .and_time(chrono::NaiveTime::MIN)
            .and_utc(),
    };
    let to = midnight(opts.now + Duration::days(366 * ZONE_YEARS_AHEAD));
    let mut w = Writer::default();
    w.begin("VCALENDAR")
        .raw("VERSION", "2.0")
        .text("PRODID", PRODID)
        .raw("CALSCALE", "GREGORIAN")
        .raw("METHOD", "PUBLISH")
        .text("NAME", "UniLife")
        .text("X-WR-CALNAME", "UniLife")
        .text("X-WR-TIMEZONE", opts.tz.name())
        // Calendar apps poll; once an hour is what they are asked to.
        .raw("REFRESH-INTERVAL;VALUE=DURATION", "PT1H")
        .raw("X-PUBLISHED-TTL", "PT1H");
    for zone in zones {
        if let Ok(tz) = zone.parse::<Tz>() {
            w.lines(&vtimezone(tz, from, to));
        }
    }
    w.lines(&body.finish()).end("VCALENDAR");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_between_characters() {
        assert_eq!(escape("a,b;c\\d\ne\r"), "a\\,b\\;c\\\\d\\ne");
        let mut w = Writer::default();
        let title = "长".repeat(40);
        w.text("SUMMARY", &title);
        let out = w.finish();
        let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 1, "{out}");
        for l in &lines {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{title}\r\n"));
    }
}
