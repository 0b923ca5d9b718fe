//! Drugs as the API shows them: with their photos' URLs and their expiry status in the
//! user's time zone.

use chrono::NaiveDate;
use shared::entities::{drug, drug_image};

use super::{CabinetError, repo};
use shared::contracts::{CabinetDrug, DrugImage};

use crate::domain::drug::status;
use crate::state::{AppState, UserPrefs};

/// One drug as shown on `today`; `images` may hold other drugs' photos too.
pub fn drug_view(
    d: drug::Model,
    images: &[drug_image::Model],
    today: NaiveDate,
    warning_days: i64,
) -> CabinetDrug {
    let (status, days_to_expiry) = status(d.expiry_date, today, warning_days);
    let images = images
        .iter()
        .filter(|i| i.drug_id == Some(d.id))
        .map(|i| DrugImage {
            id: i.id,
            url: format!("/api/v1/drugs/{}/images/{}", d.id, i.id),
        })
        .collect();
    CabinetDrug {
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
        serial_number: d.serial_number,
        box_id: d.box_id,
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

/// These drugs as shown, their photos loaded in one query.
pub async fn views(
    state: &AppState,
    prefs: &UserPrefs,
    drugs: Vec<drug::Model>,
) -> Result<Vec<CabinetDrug>, CabinetError> {
    let images = repo::images_of(&state.db, drugs.iter().map(|d| d.id).collect()).await?;
    let today = prefs.today();
    Ok(drugs
        .into_iter()
        .map(|d| drug_view(d, &images, today, prefs.expiry_warning_days))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::ProductField;

    #[test]
    fn a_drug_view_shows_every_product_field() {
        let now = chrono::Utc::now();
        let row = drug::Model {
            id: uuid::Uuid::now_v7(),
            user_id: uuid::Uuid::now_v7(),
            name: "x".into(),
            brand: None,
            generic_name: None,
            manufacturer: None,
            strength: None,
            dosage_form: None,
            package: None,
            approval_number: None,
            barcode: None,
            batch_number: None,
            serial_number: None,
            box_id: None,
            production_date: None,
            expiry_date: None,
            quantity: None,
            unit: None,
            notes: None,
            recognition_id: None,
            search_text: String::new(),
            created_at: now,
            updated_at: now,
        };
        let view = serde_json::to_value(drug_view(row, &[], now.date_naive(), 30)).unwrap();
        for field in ProductField::ALL {
            assert!(view.get(field.name()).is_some(), "{}", field.name());
        }
    }
}
