//! The public answer of a recognition:
//! `{drug, recognition:{id, fields, sources, barcode, model, duration_ms, tokens, notes, ...}}`.

use chrono::NaiveDate;
use serde_json::json;
use uuid::Uuid;

use super::record::fields_to_json;
use super::{Outcome, RecognitionError, UNKNOWN_NAME};
use crate::cabinet::drug_view;
use crate::domain::product::ProductField;
use crate::state::AppState;

pub async fn answer(
    state: &AppState,
    user: Uuid,
    outcome: Outcome,
) -> Result<serde_json::Value, RecognitionError> {
    let prefs = state.user_prefs(user).await?;
    let today = prefs.today();
    let (drug, checks) = match outcome.drug {
        Some(d) => {
            let checks = crate::safety::about_after_write(state, user, d.id).await;
            let view = drug_view(d, &outcome.images, today, prefs.expiry_warning_days);
            (serde_json::to_value(view)?, checks)
        }
        None => {
            let read = &outcome.preview;
            let checks = crate::safety::about_new(
                state,
                user,
                read.name.as_deref().unwrap_or(UNKNOWN_NAME),
                read.generic_name.as_deref(),
                read.brand.as_deref(),
                read.dosage_form.as_deref(),
            )
            .await?;
            (
                preview(&outcome, today, prefs.expiry_warning_days),
                Some(checks),
            )
        }
    };
    let rec = &outcome.recognition;
    Ok(json!({
        "drug": drug,
        "checks": checks,
        "recognition": {
            "id": rec.id,
            "fields": fields_to_json(&outcome.preview),
            "sources": rec.sources.clone().unwrap_or_else(|| json!({})),
            "barcode": rec.barcode.as_ref().map(|text| json!({"text": text, "format": rec.barcode_format})),
            "model": rec.model,
            "duration_ms": rec.duration_ms,
            "tokens": {"prompt": rec.prompt_tokens, "completion": rec.completion_tokens},
            "notes": outcome.notes,
            "reused": outcome.reused,
            "code": outcome.code,
            "same_box": outcome.same_box,
            "image_ids": rec.image_ids,
        }
    }))
}

/// A drug that was not saved, shaped like a saved one: no id, no images.
fn preview(outcome: &Outcome, today: NaiveDate, warning_days: i64) -> serde_json::Value {
    let mut preview = fields_to_json(&outcome.preview);
    if let Some(obj) = preview.as_object_mut() {
        obj.insert("id".into(), serde_json::Value::Null);
        let name = ProductField::Name.name();
        if obj.get(name).is_none_or(serde_json::Value::is_null) {
            obj.insert(name.into(), UNKNOWN_NAME.into());
        }
        let (status, days) =
            crate::domain::drug::status(outcome.preview.expiry_date, today, warning_days);
        obj.insert("status".into(), json!(status));
        obj.insert("days_to_expiry".into(), json!(days));
        obj.insert("images".into(), json!([]));
    }
    preview
}
