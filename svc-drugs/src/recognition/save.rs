//! Saving a recognised drug: the row, its photos attached, the recognition linked, in one
//! transaction.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use shared::entities::{drug, drug_image, recognition};
use uuid::Uuid;

use super::{Photo, RecognitionError, UNKNOWN_NAME, repo};
use crate::cabinet;
use crate::domain::codes::ParsedCode;
use crate::domain::product::ProductField;
use crate::pipeline::fields::Fields;
use crate::state::AppState;
use crate::storage::Store;

/// A drug saved from a recognition, or the one already made from this very box.
pub struct Saved {
    pub drug: drug::Model,
    pub same_box: bool,
}

/// Create the drug and attach the photos to it, in one transaction; a box scanned before
/// (same product and serial) is answered with its drug, and the recognition linked to it.
pub async fn save_drug(
    state: &AppState,
    user: Uuid,
    fields: &Fields,
    recognition_id: Uuid,
    image_ids: &[Uuid],
    code: Option<&ParsedCode>,
) -> Result<Saved, RecognitionError> {
    let box_id = code.and_then(|c| c.box_id.as_deref());
    if let Some(existing) = cabinet::repo::by_box(&state.db, user, box_id).await? {
        link(&state.db, recognition_id, existing.id).await?;
        return Ok(Saved {
            drug: existing,
            same_box: true,
        });
    }
    match insert_drug(state, user, fields, recognition_id, image_ids, code).await {
        // Two scans of one box at once: the other one made it.
        Err(RecognitionError::Db(e)) if box_id.is_some() && shared::db::is_unique_violation(&e) => {
            let existing = cabinet::repo::by_box(&state.db, user, box_id)
                .await?
                .ok_or(RecognitionError::Db(e))?;
            link(&state.db, recognition_id, existing.id).await?;
            Ok(Saved {
                drug: existing,
                same_box: true,
            })
        }
        other => other.map(|drug| Saved {
            drug,
            same_box: false,
        }),
    }
}

async fn link<C: sea_orm::ConnectionTrait>(
    db: &C,
    recognition_id: Uuid,
    drug: Uuid,
) -> Result<(), RecognitionError> {
    recognition::Entity::update_many()
        .col_expr(recognition::Column::DrugId, Expr::value(drug))
        .filter(recognition::Column::Id.eq(recognition_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn insert_drug(
    state: &AppState,
    user: Uuid,
    fields: &Fields,
    recognition_id: Uuid,
    image_ids: &[Uuid],
    code: Option<&ParsedCode>,
) -> Result<drug::Model, RecognitionError> {
    let txn = state.db.begin().await?;
    let mut row = cabinet::blank_drug(user);
    for field in ProductField::ALL {
        cabinet::set_text(&mut row, field, fields.text(field).cloned());
    }
    row.name = Set(fields
        .name
        .clone()
        .unwrap_or_else(|| UNKNOWN_NAME.to_owned()));
    row.production_date = Set(fields.production_date);
    row.expiry_date = Set(fields.expiry_date);
    row.recognition_id = Set(Some(recognition_id));
    if let Some(code) = code {
        row.serial_number = Set(code.serial.clone());
        row.box_id = Set(code.box_id.clone());
    }
    let saved = row.insert(&txn).await?;
    attach_images(state, &txn, user, image_ids, saved.id).await?;
    link(&txn, recognition_id, saved.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Attach the free photos to `drug`. A photo already attached to another drug (the same box
/// photographed again, or a photo of an earlier set) stays there, and the new drug gets its
/// own copy: a drug made from photos always has them.
async fn attach_images(
    state: &AppState,
    txn: &DatabaseTransaction,
    user: Uuid,
    image_ids: &[Uuid],
    drug: Uuid,
) -> Result<(), RecognitionError> {
    // Attach first, then look for what is another drug's: read before the update, a photo a
    // concurrent analysis attached in between would be neither attached here nor copied.
    drug_image::Entity::update_many()
        .col_expr(drug_image::Column::DrugId, Expr::value(drug))
        .filter(drug_image::Column::Id.is_in(image_ids.to_vec()))
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::DrugId.is_null())
        .exec(txn)
        .await?;
    let attached: Vec<drug_image::Model> = drug_image::Entity::find()
        .filter(drug_image::Column::Id.is_in(image_ids.to_vec()))
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::DrugId.ne(drug))
        .all(txn)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let mut ids = image_ids.to_vec();
    ids.retain(|id| seen.insert(*id));
    for original in ids
        .iter()
        .filter_map(|id| attached.iter().find(|a| a.id == *id))
    {
        copy_image(state, txn, original, drug).await?;
    }
    Ok(())
}

/// A copy of a stored photo (its own object in the store) attached to `drug`.
async fn copy_image(
    state: &AppState,
    txn: &DatabaseTransaction,
    original: &drug_image::Model,
    drug: Uuid,
) -> Result<(), RecognitionError> {
    let bytes = state.store.get(&original.storage_key).await?;
    let id = Uuid::now_v7();
    let key = Store::image_key(original.user_id, id);
    state.store.put(&key, bytes.to_vec()).await?;
    let copy = drug_image::Model {
        id,
        drug_id: Some(drug),
        storage_key: key,
        created_at: Utc::now(),
        ..original.clone()
    };
    repo::insert_image(txn, copy).await?;
    Ok(())
}

/// The photos to show: the saved drug's (copies included), else the ones sent.
pub async fn attached_images(
    state: &AppState,
    saved: Option<&drug::Model>,
    photos: &[Photo],
) -> Result<Vec<drug_image::Model>, RecognitionError> {
    Ok(match saved {
        Some(d) => repo::images_of_drug(&state.db, d.id).await?,
        None => photos.iter().map(|p| p.image.clone()).collect(),
    })
}
