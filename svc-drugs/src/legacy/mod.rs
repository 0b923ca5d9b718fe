//! The drug-serve product's operations in their original shapes, over the same cabinet and
//! recognition: the original web frontend works unchanged. Its messages are in Chinese, as the
//! frontend shows them to the user as they are.

mod items;
mod update;

use bytes::Bytes;
use chrono::Duration;
use sea_orm::{ColumnTrait, DbErr, QueryFilter, QueryOrder};
use serde_json::Value;
use shared::entities::drug;
use uuid::Uuid;

use crate::cabinet::{self, CabinetError, search_condition};
use crate::recognition::{self, RecognitionError, Requester};
use crate::state::AppState;

pub use items::image_url;
pub use update::update;

#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error(transparent)]
    Cabinet(#[from] CabinetError),
    #[error(transparent)]
    Recognition(#[from] RecognitionError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// Input that breaks a rule; the text (in Chinese) says which.
    #[error("{0}")]
    Invalid(String),
    #[error("图片 {0} 不存在")]
    NoImage(String),
    #[error("a saved recognition has no drug")]
    NoDrug,
}

/// Image ids as the frontend sends them; one that is no id is an image that does not exist.
pub fn image_ids(raw: &[String]) -> Result<Vec<Uuid>, LegacyError> {
    raw.iter()
        .map(|s| {
            s.parse::<Uuid>()
                .map_err(|_| LegacyError::NoImage(s.clone()))
        })
        .collect()
}

/// Recognise and save the drug on these stored photos; the drug and its photos' ids.
pub async fn analyze(
    state: &AppState,
    who: Requester,
    ids: Vec<Uuid>,
) -> Result<(drug::Model, Vec<Uuid>), LegacyError> {
    if ids.is_empty() || ids.len() > state.drugs.max_files {
        return Err(LegacyError::Invalid(format!(
            "请提供 1 到 {} 张图片的 ID",
            state.drugs.max_files
        )));
    }
    let photos = recognition::photos_by_ids(state, who.user, &ids).await?;
    let outcome = recognition::run(state, who, photos, None, true).await?;
    let saved = outcome.drug.ok_or(LegacyError::NoDrug)?;
    Ok((saved, outcome.images.iter().map(|i| i.id).collect()))
}

/// Every drug, newest first.
pub async fn list(state: &AppState, user: Uuid) -> Result<Vec<Value>, LegacyError> {
    let rows = cabinet::repo::newest_first(&state.db, user, None).await?;
    items::items(state, rows).await
}

/// Drugs that expire within 30 days (expired included), soonest first.
pub async fn expiring(state: &AppState, user: Uuid) -> Result<Vec<Value>, LegacyError> {
    let prefs = state.user_prefs(user).await?;
    let rows = cabinet::repo::of_user(user)
        .filter(drug::Column::ExpiryDate.lte(prefs.today() + Duration::days(30)))
        .order_by_asc(drug::Column::ExpiryDate)
        .all(&state.db)
        .await?;
    items::items(state, rows).await
}

/// Drugs whose name, brand, generic name or maker contains `q`; nothing for a blank `q`.
pub async fn search(
    state: &AppState,
    user: Uuid,
    q: Option<&str>,
) -> Result<Vec<Value>, LegacyError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(Vec::new());
    };
    if q.chars().count() > 100 {
        return Err(LegacyError::Invalid("搜索词太长，最多 100 个字".into()));
    }
    let rows = cabinet::repo::newest_first(&state.db, user, Some(search_condition(q))).await?;
    items::items(state, rows).await
}

/// A photo by its file name, `<image id>.jpg`.
pub async fn file(state: &AppState, user: Uuid, name: &str) -> Result<Bytes, LegacyError> {
    let id: Uuid = name
        .strip_suffix(".jpg")
        .unwrap_or(name)
        .parse()
        .map_err(|_| CabinetError::FileNotFound)?;
    let image = cabinet::repo::user_image(&state.db, user, id, None)
        .await?
        .ok_or(CabinetError::FileNotFound)?;
    Ok(cabinet::image_bytes(state, &image).await?)
}
