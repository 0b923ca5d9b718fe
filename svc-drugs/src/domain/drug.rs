//! A drug as the API shows it, and its expiry status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shared::entities::{drug, drug_image};
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

impl DrugView {
    pub fn new(
        d: drug::Model,
        images: &[drug_image::Model],
        today: NaiveDate,
        warning_days: i64,
    ) -> Self {
        let (status, days_to_expiry) = status(d.expiry_date, today, warning_days);
        let images = images
            .iter()
            .filter(|i| i.drug_id == Some(d.id))
            .map(|i| ImageRef {
                id: i.id,
                url: format!("/api/v1/drugs/{}/images/{}", d.id, i.id),
            })
            .collect();
        Self {
            id: d.id,
            name: d.name,
            brand: d.brand,
            generic_name: d.generic_name,
            manufacturer: d.manufacturer,
            strength: d.strength,
            dosage_form: d.dosage_form,
            package: d.package,
            approval_number: d.approval_number,
            barcode: d.barcode,
            batch_number: d.batch_number,
            production_date: d.production_date,
            expiry_date: d.expiry_date,
            quantity: d.quantity,
            unit: d.unit,
            notes: d.notes,
            images,
            status,
            days_to_expiry,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
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
