//! A drug in the original list shape: `image_urls` is a JSON-encoded string, as it was, and
//! `analysis_result` the recognised fields as JSON text.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::{drug, recognition};
use uuid::Uuid;

use super::LegacyError;
use crate::cabinet;
use crate::state::AppState;

pub fn image_url(id: Uuid) -> String {
    format!("/uploads/{id}.jpg")
}

pub(super) async fn items(
    state: &AppState,
    drugs: Vec<drug::Model>,
) -> Result<Vec<Value>, LegacyError> {
    let images = cabinet::repo::images_of(&state.db, drugs.iter().map(|d| d.id).collect()).await?;
    let rec_ids: Vec<Uuid> = drugs.iter().filter_map(|d| d.recognition_id).collect();
    let recs = if rec_ids.is_empty() {
        Vec::new()
    } else {
        recognition::Entity::find()
            .filter(recognition::Column::Id.is_in(rec_ids))
            .all(&state.db)
            .await?
    };
    Ok(drugs
        .into_iter()
        .map(|d| {
            let urls: Vec<String> = images
                .iter()
                .filter(|i| i.drug_id == Some(d.id))
                .map(|i| image_url(i.id))
                .collect();
            let analysis = d
                .recognition_id
                .and_then(|r| recs.iter().find(|x| x.id == r))
                .and_then(|r| r.fields.as_ref())
                .map(Value::to_string);
            json!({
                "id": d.id,
                "name": d.name,
                "production_date": d.production_date,
                "expiry_date": d.expiry_date,
                "image_url": urls.first(),
                "image_urls": serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into()),
                "created_at": d.created_at,
                "analysis_result": analysis,
            })
        })
        .collect())
}
