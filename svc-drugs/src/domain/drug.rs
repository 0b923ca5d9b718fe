//! A drug as the API shows it, and its expiry status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Expiring,
    Expired,
    Unknown,
}

impl Status {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Self::Ok),
            "expiring" => Some(Self::Expiring),
            "expired" => Some(Self::Expired),
            "unknown" => Some(Self::Unknown),
            _ => None,
        }
    }
}

/// `expired` after the expiry date, `expiring` within `warning_days` of it (the day itself
/// included), `ok` before that, `unknown` without a date.
pub fn status(
    expiry: Option<NaiveDate>,
    today: NaiveDate,
    warning_days: i64,
) -> (Status, Option<i64>) {
    let Some(expiry) = expiry else {
        return (Status::Unknown, None);
    };
    let days = (expiry - today).num_days();
    let status = if days < 0 {
        Status::Expired
    } else if days <= warning_days {
        Status::Expiring
    } else {
        Status::Ok
    };
    (status, Some(days))
}

#[derive(Debug, Serialize)]
pub struct ImageRef {
    pub id: Uuid,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct DrugView {
    pub id: Uuid,
    pub name: String,
    pub brand: Option<String>,
    pub generic_name: Option<String>,
    pub manufacturer: Option<String>,
    pub strength: Option<String>,
    pub dosage_form: Option<String>,
    pub package: Option<String>,
    pub approval_number: Option<String>,
    pub barcode: Option<String>,
    pub batch_number: Option<String>,
    pub production_date: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub notes: Option<String>,
    pub images: Vec<ImageRef>,
    pub status: Status,
    pub days_to_expiry: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_boundaries() {
        let today: NaiveDate = "2026-11-22".parse().unwrap();
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        assert_eq!(
            status(d("2026-11-21"), today, 30),
            (Status::Expired, Some(-1))
        );
        assert_eq!(
            status(d("2026-11-22"), today, 30),
            (Status::Expiring, Some(0))
        );
        assert_eq!(
            status(d("2026-12-22"), today, 30),
            (Status::Expiring, Some(30))
        );
        assert_eq!(status(d("2026-12-23"), today, 30), (Status::Ok, Some(31)));
        assert_eq!(status(None, today, 30), (Status::Unknown, None));
    }
}
