//! A `VTIMEZONE` for an IANA zone (RFC 5545 §3.6.5), from the time-zone database compiled
//! into `chrono-tz`: one `STANDARD`/`DAYLIGHT` sub-component per offset change in the range
//! the feed needs, so a calendar that reads only the feed (and not its own copy of the
//! database) places every time where the server does.

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// One period of a zone: from `at` (UTC), the offset `to`, named `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    at: DateTime<Utc>,
    from: FixedOffset,
    to: FixedOffset,
    daylight: bool,
    name: Option<String>,
}

fn offset_at(tz: Tz, at: DateTime<Utc>) -> (FixedOffset, bool, Option<String>) {
    let o = tz.offset_from_utc_datetime(&at.naive_utc());
    (
        o.fix(),
        !o.dst_offset().is_zero(),
        o.abbreviation().map(str::to_owned),
    )
}

/// The offset changes of `tz` in `[from, to)`, found day by day and then to the second.
fn changes(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut at = from;
    let mut here = offset_at(tz, at).0;
    while at < to {
        let next = (at + Duration::days(1)).min(to);
        let there = offset_at(tz, next).0;
        if there != here {
            // The change is in (at, next]: the first second with the new offset.
            let (mut lo, mut hi) = (at.timestamp(), next.timestamp());
            let instant = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, instant(mid)).0 == here {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = instant(hi);
            let (offset, daylight, name) = offset_at(tz, hi);
            out.push(Change {
                at: hi,
                from: here,
                to: offset,
                daylight,
                name,
            });
            here = offset;
        }
        at = next;
    }
    out
}

/// `+HHMM`, or `+HHMMSS` for an offset with seconds (the database's oldest entries).
fn utc_offset(o: FixedOffset) -> String {
    let secs = o.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

fn local(at: DateTime<Utc>, offset: FixedOffset) -> NaiveDateTime {
    at.with_timezone(&offset).naive_local()
}

/// The `VTIMEZONE` text (CRLF lines) for `tz` covering `[from, to)`: the zone as it is at
/// `from`, then each change up to `to`.
pub fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let (offset, daylight, name) = offset_at(tz, from);
    let first = Change {
        at: from,
        from: offset,
        to: offset,
        daylight,
        name,
    };
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", tz.name());
    for c in std::iter::once(first).chain(changes(tz, from, to)) {
        let kind = if c.daylight { "DAYLIGHT" } else { "STANDARD" };
        out.push_str(&format!(
            "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\n",
            // Local time before the change (RFC 5545: in the offset it changes from).
            local(c.at, c.from).format("%Y%m%dT%H%M%S"),
            utc_offset(c.from),
            utc_offset(c.to),
        ));
        // A name is a plain word in the database ("EST", "CST", "+03"): nothing to escape.
        if let Some(n) = c.name.filter(|n| n.chars().all(|ch| ch.is_ascii_graphic())) {
            out.push_str(&format!("TZNAME:{n}\r\n"));
        }
        out.push_str(&format!("END:{kind}\r\n"));
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn new_york_changes_at_two_in_the_morning_local_time() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let found = changes(tz, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"));
        assert_eq!(found.len(), 2, "{found:?}");
        // 2027-03-14 02:00 EST → EDT; 2027-11-07 02:00 EDT → EST.
        assert_eq!(found[0].at, utc("2027-03-14T07:00:00Z"));
        assert!(found[0].daylight);
        assert_eq!(utc_offset(found[0].from), "-0500");
        assert_eq!(utc_offset(found[0].to), "-0400");
        assert_eq!(found[0].name.as_deref(), Some("EDT"));
        assert_eq!(found[1].at, utc("2027-11-07T06:00:00Z"));
        assert!(!found[1].daylight);
        let text = vtimezone(tz, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"));
        assert!(
            text.contains(
                "BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nEND:DAYLIGHT"
            ),
            "{text}"
        );
        assert!(
            text.contains("DTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500"),
            "{text}"
        );
    }

    #[test]
    fn a_zone_without_changes_has_one_period() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let text = vtimezone(tz, utc("2020-01-01T00:00:00Z"), utc("2036-01-01T00:00:00Z"));
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 1, "{text}");
        assert!(text.contains("TZOFFSETTO:+0800"), "{text}");
        assert!(!text.contains("DAYLIGHT"), "{text}");
    }

    #[test]
    fn offsets_with_minutes_and_seconds_are_written_in_full() {
        assert_eq!(
            utc_offset(FixedOffset::east_opt(5 * 3600 + 45 * 60).unwrap()),
            "+0545"
        );
        assert_eq!(
            utc_offset(FixedOffset::west_opt(17_762).unwrap()),
            "-045602"
        );
    }
}
