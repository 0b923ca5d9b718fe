//! What a recognition read and where each field came from: the model's reading first, the
//! decoded barcode over it, then the catalogue's product fields over both. A barcode the
//! catalogue does not know yet teaches it.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, Set};
use shared::entities::product;
use shared::llm::Completion;

use super::repo;
use crate::pipeline::barcode::Barcode;
use crate::pipeline::fields::{Fields, PRODUCT_FIELDS};

/// The model call behind a reading.
pub struct Usage {
    pub model: String,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub duration_ms: i64,
}

#[derive(Default)]
pub struct Reading {
    pub fields: Fields,
    /// Per field: `model`, `barcode` or `catalogue`.
    pub sources: BTreeMap<String, &'static str>,
    pub notes: Vec<String>,
    pub usage: Option<Usage>,
}

impl Reading {
    /// The model's answer, validated; every field it gave is marked as the model's.
    pub fn read_model(&mut self, answer: &serde_json::Value, completion: &Completion) {
        self.fields = Fields::from_model(answer, &mut self.notes);
        for name in [
            "name",
            "brand",
            "generic_name",
            "manufacturer",
            "strength",
            "dosage_form",
            "package",
            "approval_number",
            "barcode",
            "batch_number",
        ] {
            if self.fields.get(name).is_some() {
                self.sources.insert(name.into(), "model");
            }
        }
        for (name, present) in [
            ("production_date", self.fields.production_date.is_some()),
            ("expiry_date", self.fields.expiry_date.is_some()),
        ] {
            if present {
                self.sources.insert(name.into(), "model");
            }
        }
        self.usage = Some(Usage {
            model: completion.model.clone(),
            prompt_tokens: completion.prompt_tokens,
            completion_tokens: completion.completion_tokens,
            duration_ms: i64::try_from(completion.duration.as_millis()).unwrap_or(i64::MAX),
        });
    }
}

/// A decoded barcode wins over the digits the model read.
pub fn barcode(reading: &mut Reading, found: Option<&Barcode>) {
    let Some(code) = found else {
        return;
    };
    if let Some(read) = reading.fields.barcode.as_ref().filter(|b| **b != code.text) {
        reading.notes.push(format!(
            "barcode: the model read {read:?}, the barcode decodes as {}; the decoded one is kept",
            code.text
        ));
    }
    reading.fields.barcode = Some(code.text.clone());
    reading.sources.insert("barcode".into(), "barcode");
}

/// The catalogue's product fields win over what the model read (never batch or dates).
pub fn catalogue(reading: &mut Reading, known: &product::Model) {
    let from_catalogue = [
        ("name", Some(known.name.clone())),
        ("brand", known.brand.clone()),
        ("generic_name", known.generic_name.clone()),
        ("manufacturer", known.manufacturer.clone()),
        ("strength", known.strength.clone()),
        ("dosage_form", known.dosage_form.clone()),
        ("package", known.package.clone()),
        ("approval_number", known.approval_number.clone()),
    ];
    for (name, value) in from_catalogue {
        if value.is_some() {
            reading.fields.set(name, value);
            reading.sources.insert(name.into(), "catalogue");
        }
    }
}

/// Remember what is the same for every box with this barcode; never dates or batch.
pub async fn learn<C: ConnectionTrait>(
    db: &C,
    found: Option<&Barcode>,
    fields: &Fields,
) -> Result<(), DbErr> {
    let (Some(code), Some(name)) = (found, &fields.name) else {
        return Ok(());
    };
    let now = Utc::now();
    let row = product::ActiveModel {
        barcode: Set(code.text.clone()),
        name: Set(name.clone()),
        brand: Set(fields.brand.clone()),
        generic_name: Set(fields.generic_name.clone()),
        manufacturer: Set(fields.manufacturer.clone()),
        strength: Set(fields.strength.clone()),
        dosage_form: Set(fields.dosage_form.clone()),
        package: Set(fields.package.clone()),
        approval_number: Set(fields.approval_number.clone()),
        times_seen: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    debug_assert!(PRODUCT_FIELDS.contains(&"name"));
    repo::insert_product_if_new(db, row).await
}
