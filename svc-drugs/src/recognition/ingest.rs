//! Photos in: normalised on blocking threads (a bounded number at once), stored once per user
//! and picture (the same bytes, or the same picture in other bytes by its perceptual hash),
//! scanned for a barcode, and loaded back from the store when needed.

use sha2::{Digest, Sha256};
use shared::entities::drug_image;
use uuid::Uuid;

use super::{RecognitionError, repo};
use crate::pipeline::barcode::{self, Barcode};
use crate::pipeline::normalize::{self, NormalizeError, Normalized};
use crate::pipeline::phash;
use crate::state::AppState;
use crate::storage::Store;

/// A photo of this recognition: stored, with its normalised JPEG when at hand.
pub struct Photo {
    pub image: drug_image::Model,
    pub jpeg: Option<Vec<u8>>,
    pub barcode: Option<Barcode>,
    pub scanned: bool,
}

impl Photo {
    /// A photo stored earlier: its bytes are in the store, its barcode not read yet.
    fn stored(image: drug_image::Model) -> Self {
        Self {
            image,
            jpeg: None,
            barcode: None,
            scanned: false,
        }
    }
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn worker_error(err: impl std::fmt::Display) -> RecognitionError {
    RecognitionError::Worker(err.to_string())
}

/// Normalise each upload and store it; a photo this user sent before (same bytes, or the
/// same picture: re-encoded, resized, a byte appended) is not stored again, so the photos'
/// set is the same and its earlier recognition is reused without a model call.
#[tracing::instrument(name = "recognition.ingest", skip_all, fields(user.id = %user, photos = files.len()))]
pub async fn ingest(
    state: &AppState,
    user: Uuid,
    files: Vec<Vec<u8>>,
) -> Result<Vec<Photo>, RecognitionError> {
    let mut photos = Vec::with_capacity(files.len());
    for bytes in files {
        let hash = sha256_hex(&bytes);
        if let Some(image) = repo::image_by_hash(&state.db, user, &hash).await? {
            photos.push(Photo::stored(image));
            continue;
        }
        let (normalized, code, picture) = normalize_and_scan(state, bytes).await?;
        if let Some(image) = same_picture(state, user, &picture).await? {
            photos.push(Photo::stored(image));
            continue;
        }
        let image = store(state, user, hash, picture, &normalized).await?;
        photos.push(Photo {
            image,
            jpeg: Some(normalized.jpeg),
            barcode: code,
            scanned: true,
        });
    }
    Ok(photos)
}

/// How many of a user's latest photos a new one is compared with by its picture.
const PICTURES_COMPARED: u64 = 500;

/// The user's photo of the same picture as `picture` (a perceptual hash), among their latest.
async fn same_picture(
    state: &AppState,
    user: Uuid,
    picture: &str,
) -> Result<Option<drug_image::Model>, RecognitionError> {
    let recent = repo::recent_pictures(&state.db, user, PICTURES_COMPARED).await?;
    let Some((id, _)) = recent
        .into_iter()
        .find(|(_, hash)| phash::same_picture(hash, picture))
    else {
        return Ok(None);
    };
    Ok(repo::images_by_ids(&state.db, user, &[id]).await?.pop())
}

/// Decode, orient, strip and resize one upload; read a barcode and the perceptual hash from
/// its grey pixels.
async fn normalize_and_scan(
    state: &AppState,
    bytes: Vec<u8>,
) -> Result<(Normalized, Option<Barcode>, String), RecognitionError> {
    let limits = state.normalize_limits();
    let permit = state
        .image_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(worker_error)?;
    let done = shared::request_id::spawn_blocking(move || {
        let _permit = permit;
        let mut n = normalize::normalize_with_grey(&bytes, limits)?;
        let grey = n
            .grey
            .take()
            .ok_or_else(|| NormalizeError::Undecodable("no grey image".into()))?;
        let picture = phash::of_grey(&grey);
        Ok::<_, NormalizeError>((n, barcode::detect(&grey), picture))
    })
    .await
    .map_err(worker_error)?;
    Ok(done?)
}

/// Put the normalised JPEG in the store and record it.
async fn store(
    state: &AppState,
    user: Uuid,
    hash: String,
    picture: String,
    normalized: &Normalized,
) -> Result<drug_image::Model, RecognitionError> {
    let id = Uuid::now_v7();
    let key = Store::image_key(user, id);
    state.store.put(&key, normalized.jpeg.clone()).await?;
    let image = drug_image::Model {
        id,
        user_id: user,
        drug_id: None,
        storage_key: key,
        content_hash: hash,
        perceptual_hash: Some(picture),
        size_bytes: i64::try_from(normalized.jpeg.len()).unwrap_or(i64::MAX),
        width: i32::try_from(normalized.width).unwrap_or(i32::MAX),
        height: i32::try_from(normalized.height).unwrap_or(i32::MAX),
        created_at: chrono::Utc::now(),
    };
    Ok(repo::insert_image(&state.db, image).await?)
}

/// The key of a set of photos: their content hashes, in order.
pub(super) fn images_key(photos: &[Photo]) -> String {
    let joined: Vec<&str> = photos
        .iter()
        .map(|p| p.image.content_hash.as_str())
        .collect();
    sha256_hex(joined.join(",").as_bytes())
}

/// The photo's JPEG from the store, unless it is at hand already.
pub(super) async fn load_jpeg(state: &AppState, photo: &mut Photo) -> Result<(), RecognitionError> {
    if photo.jpeg.is_none() {
        let bytes = state.store.get(&photo.image.storage_key).await?;
        photo.jpeg = Some(bytes.to_vec());
    }
    Ok(())
}

/// Read the barcode of a photo stored earlier (a new one was scanned while normalised).
pub(super) async fn scan(state: &AppState, photo: &mut Photo) -> Result<(), RecognitionError> {
    if photo.scanned {
        return Ok(());
    }
    load_jpeg(state, photo).await?;
    let jpeg = photo.jpeg.clone().unwrap_or_default();
    photo.barcode = shared::request_id::spawn_blocking(move || {
        image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .ok()
            .and_then(|img| barcode::detect(&img.into_luma8()))
    })
    .await
    .map_err(worker_error)?;
    photo.scanned = true;
    Ok(())
}

/// Load a user's stored photos by id, in the order given; any not theirs is not found.
pub async fn photos_by_ids(
    state: &AppState,
    user: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Photo>, RecognitionError> {
    let rows = repo::images_by_ids(&state.db, user, ids).await?;
    ids.iter()
        .map(|id| {
            rows.iter()
                .find(|r| r.id == *id)
                .cloned()
                .map(Photo::stored)
                .ok_or(RecognitionError::ImageNotFound(*id))
        })
        .collect()
}
