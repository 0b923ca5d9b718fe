//! What can be done with the cabinet: add, read, change, delete, list, find what expires, and
//! read a photo.

use bytes::Bytes;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, PaginatorTrait, QueryFilter, QuerySelect, Select, Set, TryIntoModel,
};
use shared::contracts::CabinetDrug;
use shared::entities::drug;
use uuid::Uuid;

use super::input::{DrugInput, blank_drug, check_dates};
use super::search::{ListQuery, search_condition, sorted, status_condition};
use super::{CabinetError, repo, views};
use crate::state::AppState;

/// One page of a list, as it is answered (keys in the order they always were).
#[derive(serde::Serialize)]
pub struct Page {
    pub items: Vec<CabinetDrug>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

pub async fn owned(state: &AppState, user: Uuid, id: Uuid) -> Result<drug::Model, CabinetError> {
    repo::owned(&state.db, user, id)
        .await?
        .ok_or(CabinetError::DrugNotFound)
}

pub(super) async fn one_view(
    state: &AppState,
    user: Uuid,
    d: drug::Model,
) -> Result<CabinetDrug, CabinetError> {
    let prefs = state.user_prefs(user).await?;
    let mut v = views(state, &prefs, vec![d]).await?;
    v.pop()
        .ok_or_else(|| CabinetError::Internal("drug view vanished".into()))
}

/// The row as it will be stored, checked across fields.
pub(super) fn checked(m: &drug::ActiveModel) -> Result<(), CabinetError> {
    let model: drug::Model = m
        .clone()
        .try_into_model()
        .map_err(|e| CabinetError::Internal(e.to_string()))?;
    check_dates(&model)
}

/// Room for one more drug in the user's cabinet (`drugs.max_drugs_per_user`).
pub async fn ensure_room(state: &AppState, user: Uuid) -> Result<(), CabinetError> {
    let held = repo::of_user(user).count(&state.db).await?;
    let limit = state.drugs.max_drugs_per_user;
    if held >= limit {
        return Err(CabinetError::Full(limit));
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    user: Uuid,
    input: DrugInput,
) -> Result<CabinetDrug, CabinetError> {
    if input.name.is_none() {
        return Err(CabinetError::invalid("name is required"));
    }
    input.validate()?;
    ensure_room(state, user).await?;
    let mut m = blank_drug(user);
    input.apply(&mut m);
    checked(&m)?;
    let saved = m.insert(&state.db).await?;
    one_view(state, user, saved).await
}

pub async fn get(state: &AppState, user: Uuid, id: Uuid) -> Result<CabinetDrug, CabinetError> {
    let d = owned(state, user, id).await?;
    one_view(state, user, d).await
}

pub async fn update(
    state: &AppState,
    user: Uuid,
    id: Uuid,
    input: DrugInput,
) -> Result<CabinetDrug, CabinetError> {
    input.validate()?;
    let d = owned(state, user, id).await?;
    let mut m: drug::ActiveModel = d.into();
    input.apply(&mut m);
    m.updated_at = Set(Utc::now());
    checked(&m)?;
    let saved = m.update(&state.db).await?;
    one_view(state, user, saved).await
}

/// Delete a drug, its photos (rows and stored files) and its medication plans.
pub async fn delete(state: &AppState, user: Uuid, id: Uuid) -> Result<(), CabinetError> {
    let d = owned(state, user, id).await?;
    let images = repo::images_of(&state.db, vec![d.id]).await?;
    repo::delete_with_dependents(&state.db, d.id).await?;
    for image in images {
        if let Err(e) = state.store.delete(&image.storage_key).await {
            tracing::warn!(error = %e, image = %image.id, "stored photo not deleted");
        }
    }
    Ok(())
}

pub async fn list(state: &AppState, user: Uuid, query: &ListQuery) -> Result<Page, CabinetError> {
    let params = query.params()?;
    let mut select = repo::of_user(user);
    if let Some(text) = params.text {
        select = select.filter(search_condition(text));
    }
    let (limit, offset) = (params.limit, params.offset);
    // Without a status filter the page does not depend on the user's settings: both reads go
    // at once (the views need the settings for the expiry colours).
    let (prefs, rows, select) = match params.status {
        Some(status) => {
            let prefs = state.user_prefs(user).await?;
            let select = sorted(
                select.filter(status_condition(
                    status,
                    prefs.today(),
                    prefs.expiry_warning_days,
                )),
                params.sort,
            )?;
            let rows = page_of(&select, offset, limit).all(&state.db).await?;
            (prefs, rows, select)
        }
        None => {
            let select = sorted(select, params.sort)?;
            let (prefs, rows) = tokio::try_join!(
                state.user_prefs(user),
                page_of(&select, offset, limit).all(&state.db)
            )?;
            (prefs, rows, select)
        }
    };
    let has_more = rows.len() as u64 > limit;
    // The last page (some rows, or the first page) tells the total without counting.
    let total = if !has_more && (offset == 0 || !rows.is_empty()) {
        offset + rows.len() as u64
    } else {
        select.count(&state.db).await?
    };
    let rows: Vec<drug::Model> = rows.into_iter().take(limit as usize).collect();
    Ok(Page {
        items: views(state, &prefs, rows).await?,
        next_cursor: has_more.then(|| (offset + limit).to_string()),
        total,
    })
}

/// The rows of one page and one more, which tells whether another page follows.
fn page_of(select: &Select<drug::Entity>, offset: u64, limit: u64) -> Select<drug::Entity> {
    select.clone().offset(offset).limit(limit + 1)
}

/// Drugs that expire within `days` (default: the user's warning window), expired included,
/// soonest first.
pub async fn expiring_for(
    state: &AppState,
    user: Uuid,
    days: Option<i64>,
) -> Result<Vec<CabinetDrug>, CabinetError> {
    let prefs = state.user_prefs(user).await?;
    let days = days.unwrap_or(prefs.expiry_warning_days);
    if !(0..=3650).contains(&days) {
        return Err(CabinetError::invalid("days must be between 0 and 3650"));
    }
    let horizon = prefs.today() + Duration::days(days);
    let rows = repo::expiring_by(&state.db, user, horizon).await?;
    views(state, &prefs, rows).await
}

/// The whole cabinet (up to 500 drugs, by name), for the assistant's tools.
pub async fn for_assistant(state: &AppState, user: Uuid) -> Result<Vec<CabinetDrug>, CabinetError> {
    let prefs = state.user_prefs(user).await?;
    let rows = repo::by_name(&state.db, user, 500).await?;
    views(state, &prefs, rows).await
}

/// The bytes of one of the user's photos of one of their drugs.
pub async fn image(
    state: &AppState,
    user: Uuid,
    drug: Uuid,
    image: Uuid,
) -> Result<Bytes, CabinetError> {
    let image = repo::user_image(&state.db, user, image, Some(drug))
        .await?
        .ok_or(CabinetError::ImageNotFound)?;
    image_bytes(state, &image).await
}

/// A stored photo's bytes; one missing from the store is not found.
pub async fn image_bytes(
    state: &AppState,
    image: &shared::entities::drug_image::Model,
) -> Result<Bytes, CabinetError> {
    Ok(state.store.get(&image.storage_key).await?)
}
