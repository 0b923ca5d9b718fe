//! Reading the originals' values. SQLite keeps whatever was written: SQLAlchemy's naive
//! `DATETIME` text, dates in several spellings, booleans as 0/1, JSON as text.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

/// An instant from the original's text. A time without an offset is read in `naive_zone`
/// (UTC for the columns the original filled with `datetime.utcnow()`).
pub fn instant(raw: &str, naive_zone: Tz) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(raw, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
    .or_else(|| date(raw).and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    naive_zone
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A calendar date: `2026-01-23`, `2026/01/23`, `2026.01.23`, `2026年1月23日`, or the date
/// part of a date and time.
pub fn date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let head = raw.get(..10).unwrap_or(raw);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(head, f).ok())
        .or_else(|| NaiveDate::parse_from_str(raw, "%Y年%m月%d日").ok())
}

pub fn boolean(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" => Some(true),
        "0" | "false" | "f" | "no" => Some(false),
        _ => None,
    }
}

pub fn integer(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    raw.parse::<i64>().ok().or_else(|| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

pub fn number(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// JSON text, or why it is not.
pub fn json(raw: &str) -> Result<Value, String> {
    serde_json::from_str(raw).map_err(|e| format!("not JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_datetimes_and_offsets_are_read() {
        let utc = instant("2026-01-23 03:08:32.940778", Tz::UTC).map(|t| t.to_rfc3339());
        assert_eq!(utc.as_deref(), Some("2026-01-23T03:08:32.940778+00:00"));
        let local = instant("2026-01-23 09:00:00", Tz::Asia__Shanghai).map(|t| t.to_rfc3339());
        assert_eq!(local.as_deref(), Some("2026-01-23T01:00:00+00:00"));
        let aware = instant("2026-01-23T09:00:00+08:00", Tz::UTC).map(|t| t.to_rfc3339());
        assert_eq!(aware.as_deref(), Some("2026-01-23T01:00:00+00:00"));
        assert!(instant("soon", Tz::UTC).is_none());
    }

    #[test]
    fn dates_in_the_spellings_drug_serve_stored_are_read() {
        let want = NaiveDate::from_ymd_opt(2027, 3, 1);
        for raw in [
            "2027-03-01",
            "2027/03/01",
            "2027.03.01",
            "2027年3月1日",
            "2027-03-01 00:00:00",
        ] {
            assert_eq!(date(raw), want, "{raw}");
        }
        assert_eq!(date("见包装"), None);
    }
}
