//! A drug as a person types it (POST and PUT), checked and applied to a row.

use chrono::{NaiveDate, Utc};
use sea_orm::Set;
use serde::Deserialize;
use shared::entities::drug;
use uuid::Uuid;

use super::CabinetError;
use crate::domain::product::ProductField;
use crate::pipeline::fields::{normalize_approval_number, valid_gtin};

const MAX_TEXT: usize = 500;

/// The fields a person may set by hand (POST and PUT). On PUT, a missing field is left as it
/// is and `null` clears it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DrugInput {
    pub(super) name: Option<String>,
    #[serde(default, with = "patch")]
    brand: Option<Option<String>>,
    #[serde(default, with = "patch")]
    generic_name: Option<Option<String>>,
    #[serde(default, with = "patch")]
    manufacturer: Option<Option<String>>,
    #[serde(default, with = "patch")]
    strength: Option<Option<String>>,
    #[serde(default, with = "patch")]
    dosage_form: Option<Option<String>>,
    #[serde(default, with = "patch")]
    package: Option<Option<String>>,
    #[serde(default, with = "patch")]
    approval_number: Option<Option<String>>,
    #[serde(default, with = "patch")]
    barcode: Option<Option<String>>,
    #[serde(default, with = "patch")]
    batch_number: Option<Option<String>>,
    #[serde(default, with = "patch")]
    production_date: Option<Option<NaiveDate>>,
    #[serde(default, with = "patch")]
    expiry_date: Option<Option<NaiveDate>>,
    #[serde(default, with = "patch")]
    quantity: Option<Option<f64>>,
    #[serde(default, with = "patch")]
    unit: Option<Option<String>>,
    #[serde(default, with = "patch")]
    notes: Option<Option<String>>,
}

/// `Option<Option<T>>` for partial updates: absent → `None`, `null` → `Some(None)`.
mod patch {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

fn check_text(field: &str, value: &Option<Option<String>>) -> Result<(), CabinetError> {
    if let Some(Some(v)) = value
        && v.chars().count() > MAX_TEXT
    {
        return Err(CabinetError::invalid(format!(
            "{field} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

/// A change with its text trimmed; blank text clears.
fn trimmed(value: Option<Option<String>>) -> Option<Option<String>> {
    value.map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

impl DrugInput {
    pub(super) fn validate(&self) -> Result<(), CabinetError> {
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            return Err(CabinetError::invalid("name must be 1 to 200 characters"));
        }
        for field in ProductField::ALL.into_iter().filter(|f| f.is_free_text()) {
            if let Some(value) = self.patch(field) {
                check_text(field.name(), value)?;
            }
        }
        check_text("unit", &self.unit)?;
        if let Some(Some(notes)) = &self.notes
            && notes.chars().count() > 5000
        {
            return Err(CabinetError::invalid(
                "notes is longer than 5000 characters",
            ));
        }
        if let Some(Some(a)) = &self.approval_number
            && normalize_approval_number(a).is_none()
        {
            return Err(CabinetError::invalid(
                "approval_number must be 国药准字 + one of H Z S J B T F + 8 digits",
            ));
        }
        if let Some(Some(b)) = &self.barcode
            && !valid_gtin(b)
        {
            return Err(CabinetError::invalid(
                "barcode must be an EAN-8, UPC-A, EAN-13 or GTIN-14 number with a valid check digit",
            ));
        }
        if let Some(Some(q)) = self.quantity
            && !(q.is_finite() && (0.0..=1_000_000.0).contains(&q))
        {
            return Err(CabinetError::invalid(
                "quantity must be between 0 and 1000000",
            ));
        }
        Ok(())
    }

    /// A text field's change; the name is not one (it is never cleared).
    fn patch(&self, field: ProductField) -> Option<&Option<Option<String>>> {
        Some(match field {
            ProductField::Name => return None,
            ProductField::Brand => &self.brand,
            ProductField::GenericName => &self.generic_name,
            ProductField::Manufacturer => &self.manufacturer,
            ProductField::Strength => &self.strength,
            ProductField::DosageForm => &self.dosage_form,
            ProductField::Package => &self.package,
            ProductField::ApprovalNumber => &self.approval_number,
            ProductField::Barcode => &self.barcode,
            ProductField::BatchNumber => &self.batch_number,
        })
    }

    pub(super) fn apply(self, m: &mut drug::ActiveModel) {
        if let Some(name) = &self.name {
            m.name = Set(name.trim().to_owned());
        }
        for field in ProductField::ALL {
            let Some(value) = self.patch(field).cloned().and_then(trimmed) else {
                continue;
            };
            let value = match field {
                ProductField::ApprovalNumber => value.and_then(|a| normalize_approval_number(&a)),
                _ => value,
            };
            set_text(m, field, value);
        }
        if let Some(v) = trimmed(self.unit) {
            m.unit = Set(v);
        }
        if let Some(v) = trimmed(self.notes) {
            m.notes = Set(v);
        }
        if let Some(v) = self.production_date {
            m.production_date = Set(v);
        }
        if let Some(v) = self.expiry_date {
            m.expiry_date = Set(v);
        }
        if let Some(v) = self.quantity {
            m.quantity = Set(v);
        }
    }
}

/// Set a text field of a drug row (a drug always has a name).
pub fn set_text(m: &mut drug::ActiveModel, field: ProductField, value: Option<String>) {
    match field {
        ProductField::Name => m.name = Set(value.unwrap_or_default()),
        ProductField::Brand => m.brand = Set(value),
        ProductField::GenericName => m.generic_name = Set(value),
        ProductField::Manufacturer => m.manufacturer = Set(value),
        ProductField::Strength => m.strength = Set(value),
        ProductField::DosageForm => m.dosage_form = Set(value),
        ProductField::Package => m.package = Set(value),
        ProductField::ApprovalNumber => m.approval_number = Set(value),
        ProductField::Barcode => m.barcode = Set(value),
        ProductField::BatchNumber => m.batch_number = Set(value),
    }
}

/// A new drug with nothing filled in yet but its owner.
pub fn blank_drug(user: Uuid) -> drug::ActiveModel {
    let now = Utc::now();
    drug::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        name: Set(String::new()),
        brand: Set(None),
        generic_name: Set(None),
        manufacturer: Set(None),
        strength: Set(None),
        dosage_form: Set(None),
        package: Set(None),
        approval_number: Set(None),
        barcode: Set(None),
        batch_number: Set(None),
        serial_number: Set(None),
        box_id: Set(None),
        production_date: Set(None),
        expiry_date: Set(None),
        quantity: Set(None),
        unit: Set(None),
        notes: Set(None),
        recognition_id: Set(None),
        // Filled by `before_save` from the searched fields.
        search_text: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A drug is never produced after it expires.
pub(super) fn check_dates(m: &drug::Model) -> Result<(), CabinetError> {
    if let (Some(p), Some(e)) = (m.production_date, m.expiry_date)
        && p > e
    {
        return Err(CabinetError::invalid(
            "production_date must not be after expiry_date",
        ));
    }
    Ok(())
}
