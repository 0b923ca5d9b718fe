//! The `recognitions` row of a run: a success with what was read, or a failure that keeps
//! the photos and the error for a retry. A retry updates the failed row in place.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;
use shared::entities::recognition;
use shared::llm::LlmError;
use uuid::Uuid;

use super::RecognitionError;
use super::merge::Reading;
use super::run::Job;
use crate::domain::recognition::RecognitionStatus;
use crate::pipeline::barcode::Barcode;
use crate::pipeline::fields::Fields;

pub(super) fn fields_to_json(fields: &Fields) -> serde_json::Value {
    serde_json::to_value(fields).unwrap_or_default()
}

fn clamp_tokens(tokens: Option<u32>) -> Option<i32> {
    tokens.map(|t| i32::try_from(t).unwrap_or(i32::MAX))
}

pub async fn succeeded(
    job: &Job<'_>,
    reading: &Reading,
    found: Option<&Barcode>,
) -> Result<recognition::Model, RecognitionError> {
    let now = Utc::now();
    let usage = reading.usage.as_ref();
    let existing = job.existing.as_ref();
    let record = recognition::ActiveModel {
        id: Set(existing.map_or_else(Uuid::now_v7, |r| r.id)),
        user_id: Set(job.who.user),
        images_key: Set(job.key.clone()),
        image_ids: Set(json!(job.image_ids)),
        status: Set(RecognitionStatus::Succeeded.as_str().into()),
        fields: Set(Some(fields_to_json(&reading.fields))),
        sources: Set(Some(json!(reading.sources))),
        barcode: Set(found.map(|b| b.text.clone())),
        barcode_format: Set(found.map(|b| b.format.clone())),
        model: Set(usage.map(|u| u.model.clone())),
        prompt_tokens: Set(clamp_tokens(usage.and_then(|u| u.prompt_tokens))),
        completion_tokens: Set(clamp_tokens(usage.and_then(|u| u.completion_tokens))),
        duration_ms: Set(usage.map(|u| u.duration_ms)),
        error: Set(None),
        drug_id: Set(None),
        created_at: Set(existing.map_or(now, |r| r.created_at)),
        updated_at: Set(now),
    };
    Ok(if existing.is_some() {
        record.update(&job.state.db).await?
    } else {
        record.insert(&job.state.db).await?
    })
}

/// The failure: a retried recognition keeps its row with the new error.
pub async fn failed(job: &Job<'_>, err: &LlmError) -> Result<recognition::Model, RecognitionError> {
    let now = Utc::now();
    let error = err.to_string().chars().take(1000).collect::<String>();
    if let Some(rec) = job.existing.clone() {
        let mut active: recognition::ActiveModel = rec.into();
        active.error = Set(Some(error));
        active.updated_at = Set(now);
        return Ok(active.update(&job.state.db).await?);
    }
    Ok(recognition::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(job.who.user),
        images_key: Set(job.key.clone()),
        image_ids: Set(json!(job.image_ids)),
        status: Set(RecognitionStatus::Failed.as_str().into()),
        fields: Set(None),
        sources: Set(None),
        barcode: Set(None),
        barcode_format: Set(None),
        model: Set(Some(job.state.vision.model().to_owned())),
        prompt_tokens: Set(None),
        completion_tokens: Set(None),
        duration_ms: Set(None),
        error: Set(Some(error)),
        drug_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&job.state.db)
    .await?)
}
