//! What a recognition read and where each field came from: the model's reading first, the
//! decoded barcode over it, then the catalogue's product fields over both. A barcode the
//! catalogue does not know yet teaches it.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, Set};
use serde::Serialize;
use shared::entities::product;
use shared::llm::Completion;

use super::repo;
use crate::cabinet::catalogue_text;
use crate::domain::codes::{CodeKind, ParsedCode};
use crate::domain::product::ProductField;
use crate::pipeline::barcode::Barcode;
use crate::pipeline::fields::Fields;

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
    /// Per field, by name.
    pub sources: BTreeMap<&'static str, Source>,
    pub notes: Vec<String>,
    pub usage: Option<Usage>,
}

/// Where a field's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Model,
    Barcode,
    Catalogue,
}

impl Reading {
    /// The model's answer, validated; every field it gave is marked as the model's.
    pub fn read_model(&mut self, answer: &serde_json::Value, completion: &Completion) {
        self.fields = Fields::from_model(answer, &mut self.notes);
        for field in ProductField::ALL {
            if self.fields.text(field).is_some() {
                self.sources.insert(field.name(), Source::Model);
            }
        }
        for (name, date) in self.fields.dates() {
            if date.is_some() {
                self.sources.insert(name, Source::Model);
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
    reading
        .sources
        .insert(ProductField::Barcode.name(), Source::Barcode);
}

/// What a GS1 code says wins over the model: the GTIN as the barcode, batch and dates
/// (a traceability code carries none of these; it names the box only).
pub fn code(reading: &mut Reading, code: Option<&ParsedCode>) {
    let Some(code) = code.filter(|c| c.kind == CodeKind::Gs1) else {
        return;
    };
    let f = &mut reading.fields;
    let mut take = |name: &'static str, read: Option<String>, coded: Option<String>| {
        let coded = coded?;
        if let Some(read) = read.filter(|r| *r != coded) {
            reading.notes.push(format!(
                "{name}: the model read {read:?}, the code says {coded}; the code's is kept"
            ));
        }
        reading.sources.insert(name, Source::Barcode);
        Some(coded)
    };
    if let Some(v) = take("barcode", f.barcode.clone(), Some(code.product_id.clone())) {
        f.barcode = Some(v);
    }
    if let Some(v) = take(
        "batch_number",
        f.batch_number.clone(),
        code.batch_number.clone(),
    ) {
        f.batch_number = Some(v);
    }
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    if take("expiry_date", date(f.expiry_date), date(code.expiry_date)).is_some() {
        f.expiry_date = code.expiry_date;
    }
    if take(
        "production_date",
        date(f.production_date),
        date(code.production_date),
    )
    .is_some()
    {
        f.production_date = code.production_date;
    }
}

/// The catalogue's key for a decoded code: the product identifier of a parsed code, else
/// the text as decoded.
pub fn product_key(found: Option<&Barcode>, code: Option<&ParsedCode>) -> Option<String> {
    code.map(|c| c.product_id.clone())
        .or_else(|| found.map(|b| b.text.clone()))
}

/// Set a field of a new catalogue entry; the barcode is its key, set on its own.
fn set_catalogue_text(row: &mut product::ActiveModel, field: ProductField, value: Option<String>) {
    match field {
        ProductField::Name => row.name = Set(value.unwrap_or_default()),
        ProductField::Brand => row.brand = Set(value),
        ProductField::GenericName => row.generic_name = Set(value),
        ProductField::Manufacturer => row.manufacturer = Set(value),
        ProductField::Strength => row.strength = Set(value),
        ProductField::DosageForm => row.dosage_form = Set(value),
        ProductField::Package => row.package = Set(value),
        ProductField::ApprovalNumber => row.approval_number = Set(value),
        ProductField::Barcode | ProductField::BatchNumber => {}
    }
}

/// The catalogue's product fields win over what the model read (never batch or dates).
pub fn catalogue(reading: &mut Reading, known: &product::Model) {
    for &field in ProductField::CATALOGUE {
        let value = catalogue_text(known, field);
        if value.is_some() {
            *reading.fields.text_mut(field) = value;
            reading.sources.insert(field.name(), Source::Catalogue);
        }
    }
}

/// Remember what is the same for every box of this product; never dates or batch.
pub async fn learn<C: ConnectionTrait>(
    db: &C,
    key: Option<&str>,
    fields: &Fields,
) -> Result<(), DbErr> {
    let (Some(key), Some(_)) = (key, &fields.name) else {
        return Ok(());
    };
    let now = Utc::now();
    let mut row = product::ActiveModel {
        barcode: Set(key.to_owned()),
        times_seen: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    for &field in ProductField::CATALOGUE {
        set_catalogue_text(&mut row, field, fields.text(field).cloned());
    }
    repo::insert_product_if_new(db, row).await
}
