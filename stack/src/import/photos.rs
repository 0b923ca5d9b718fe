//! A drug-serve photo stored as a new upload is: normalised by svc-drugs' own pipeline
//! (orientation applied, every piece of metadata dropped, long edge bounded, re-encoded as
//! JPEG), put in the configured store under the same key scheme, and recorded with the
//! SHA-256 of the bytes as uploaded.

use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, IntoActiveModel};
use sha2::{Digest, Sha256};
use shared::entities::{drug, drug_image};
use svc_drugs::pipeline::normalize::{self, NormalizeLimits};
use svc_drugs::pipeline::phash;
use svc_drugs::storage::Store;

use super::ids;
use super::summary::TableSummary;

pub struct Rules {
    pub limits: NormalizeLimits,
    /// The upload limit per file (`storage.max_file_size`): what a new upload may be.
    pub max_file_size: usize,
    /// Where photos go; `None` in a dry run, which stores nothing.
    pub store: Option<Store>,
}

pub async fn import(
    uploads: &Path,
    file: &str,
    drug: &drug::Model,
    created_at: DateTime<Utc>,
    txn: &DatabaseTransaction,
    rules: &Rules,
    table: &mut TableSummary,
) -> anyhow::Result<()> {
    table.read += 1;
    let id = ids::derived("drug-serve photo", &format!("{}/{file}", drug.id));
    if drug_image::Entity::find_by_id(id).one(txn).await?.is_some() {
        table.existing += 1;
        return Ok(());
    }
    let bytes = match tokio::fs::read(uploads.join(file)).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            table.skip(file, "no such file in the uploads directory");
            return Ok(());
        }
        Err(e) => {
            table.skip(file, format!("cannot be read: {e}"));
            return Ok(());
        }
    };
    if bytes.is_empty() {
        table.skip(file, "empty file");
        return Ok(());
    }
    if bytes.len() > rules.max_file_size {
        table.skip(
            file,
            format!(
                "over the upload limit of {} bytes (storage.max_file_size)",
                rules.max_file_size
            ),
        );
        return Ok(());
    }
    let content_hash = hex::encode(Sha256::digest(&bytes));
    let limits = rules.limits;
    // Normalised as an upload is, with the picture's hash, so a photo of the import sent
    // again through the app is a repeat.
    let normalized = tokio::task::spawn_blocking(move || {
        normalize::normalize_with_grey(&bytes, limits).map(|mut n| {
            let picture = n.grey.take().map(|grey| phash::of_grey(&grey));
            (n, picture)
        })
    })
    .await?;
    let (normalized, perceptual_hash) = match normalized {
        Ok(n) => n,
        Err(e) => {
            table.skip(file, e.to_string());
            return Ok(());
        }
    };
    let storage_key = Store::image_key(drug.user_id, id);
    if let Some(store) = &rules.store {
        store.put(&storage_key, normalized.jpeg.clone()).await?;
    }
    drug_image::Model {
        id,
        user_id: drug.user_id,
        drug_id: Some(drug.id),
        storage_key,
        content_hash,
        perceptual_hash,
        size_bytes: i64::try_from(normalized.jpeg.len()).unwrap_or(i64::MAX),
        width: i32::try_from(normalized.width).unwrap_or(i32::MAX),
        height: i32::try_from(normalized.height).unwrap_or(i32::MAX),
        created_at,
    }
    .into_active_model()
    .insert(txn)
    .await?;
    table.created += 1;
    Ok(())
}
