//! One recognition, stage by stage: reuse an earlier result for the same photos, scan for a
//! barcode, ask the model, merge the barcode and the catalogue in, record, save the drug.

use shared::entities::{drug, drug_image, recognition};
use shared::llm::LlmError;
use uuid::Uuid;

use super::ingest::{images_key, load_jpeg, scan};
use super::merge::{self, Reading};
use super::{Photo, RecognitionError, Requester, model, photos_by_ids, quota, record, repo, save};
use crate::domain::codes::{self, ParsedCode};
use crate::domain::recognition::RecognitionStatus;
use crate::pipeline::barcode::Barcode;
use crate::pipeline::fields::Fields;
use crate::state::AppState;

pub struct Outcome {
    pub drug: Option<drug::Model>,
    pub images: Vec<drug_image::Model>,
    pub recognition: recognition::Model,
    pub preview: Fields,
    pub notes: Vec<String>,
    pub reused: bool,
    /// What a GS1 DataMatrix or traceability code on the photos said, parsed.
    pub code: Option<ParsedCode>,
    /// The box was in the cabinet already (same product and serial): that drug is answered,
    /// no second one made.
    pub same_box: bool,
}

/// A decoded barcode parsed as a code we read (GS1, traceability code, product barcode);
/// `None` for anything else (a QR code with a web address, say).
pub(super) fn parse_code(text: Option<&str>) -> Option<ParsedCode> {
    codes::parse(text?, chrono::Utc::now().date_naive()).ok()
}

/// What one run works on: whose photos, which set, the failed recognition being retried.
pub(super) struct Job<'a> {
    pub state: &'a AppState,
    pub who: Requester,
    pub key: String,
    pub image_ids: Vec<Uuid>,
    pub existing: Option<recognition::Model>,
    pub save: bool,
}

/// Run recognition over stored photos. `existing` is a failed recognition being retried.
#[tracing::instrument(name = "recognition.run", skip_all, fields(user.id = %who.user, photos = photos.len(), retry = existing.is_some()))]
pub async fn run(
    state: &AppState,
    who: Requester,
    mut photos: Vec<Photo>,
    existing: Option<recognition::Model>,
    save: bool,
) -> Result<Outcome, RecognitionError> {
    let job = Job {
        state,
        who,
        key: images_key(&photos),
        image_ids: photos.iter().map(|p| p.image.id).collect(),
        existing,
        save,
    };
    if let Some(done) = reusable(&job).await? {
        return reuse(&job, &photos, done).await;
    }
    if save {
        crate::cabinet::ensure_room(state, who.user)
            .await
            .map_err(RecognitionError::Cabinet)?;
    }
    let found = scan_all(state, &mut photos).await?;
    let code = parse_code(found.as_ref().map(|b| b.text.as_str()));
    let key = merge::product_key(found.as_ref(), code.as_ref());
    let known = match &key {
        Some(key) => crate::cabinet::repo::catalogue_entry(&state.db, key).await?,
        None => None,
    };
    let mut reading = ask_model(&job, &mut photos, known.is_some()).await?;
    merge::barcode(&mut reading, found.as_ref());
    merge::code(&mut reading, code.as_ref());
    match &known {
        Some(product) => merge::catalogue(&mut reading, product),
        None => merge::learn(&state.db, key.as_deref(), &reading.fields).await?,
    }
    let recognition = record::succeeded(&job, &reading, found.as_ref()).await?;
    let (saved, recognition) =
        save_if_asked(&job, recognition, &reading.fields, code.as_ref()).await?;
    let same_box = saved.as_ref().is_some_and(|s| s.same_box);
    let drug = saved.map(|s| s.drug);
    Ok(Outcome {
        images: save::attached_images(state, drug.as_ref(), &photos).await?,
        drug,
        recognition,
        preview: reading.fields,
        notes: reading.notes,
        reused: false,
        code,
        same_box,
    })
}

/// Retry a failed recognition of this user with the photos it kept.
pub async fn retry(
    state: &AppState,
    who: Requester,
    id: Uuid,
    save: bool,
) -> Result<Outcome, RecognitionError> {
    let rec = repo::recognition_of_user(&state.db, who.user, id)
        .await?
        .ok_or(RecognitionError::NotFound)?;
    if RecognitionStatus::parse(&rec.status) != Some(RecognitionStatus::Failed) {
        return Err(RecognitionError::AlreadySucceeded);
    }
    let ids: Vec<Uuid> = serde_json::from_value(rec.image_ids.clone()).unwrap_or_default();
    let photos = photos_by_ids(state, who.user, &ids).await?;
    run(state, who, photos, Some(rec), save).await
}

/// Stage 1: the same photos recognised before (never for a retry).
async fn reusable(job: &Job<'_>) -> Result<Option<recognition::Model>, RecognitionError> {
    if job.existing.is_some() {
        return Ok(None);
    }
    Ok(repo::latest_with_key(
        &job.state.db,
        job.who.user,
        &job.key,
        RecognitionStatus::Succeeded,
    )
    .await?)
}

/// The earlier answer, without a model call; saved now if it was only previewed.
async fn reuse(
    job: &Job<'_>,
    photos: &[Photo],
    done: recognition::Model,
) -> Result<Outcome, RecognitionError> {
    let fields: Fields = done
        .fields
        .clone()
        .and_then(|f| serde_json::from_value(f).ok())
        .unwrap_or_default();
    let code = parse_code(done.barcode.as_deref());
    let mut saved = match done.drug_id {
        Some(id) => repo::drug(&job.state.db, id).await?,
        None => None,
    };
    let mut same_box = false;
    if saved.is_none() && job.save {
        let s = save::save_drug(
            job.state,
            job.who.user,
            &fields,
            done.id,
            &job.image_ids,
            code.as_ref(),
        )
        .await?;
        same_box = s.same_box;
        saved = Some(s.drug);
    }
    Ok(Outcome {
        images: save::attached_images(job.state, saved.as_ref(), photos).await?,
        drug: saved,
        recognition: done,
        preview: fields,
        notes: vec!["the same photos were recognised before; that result was reused".into()],
        reused: true,
        code,
        same_box,
    })
}

/// Stage 2: the first barcode found on any photo.
async fn scan_all(
    state: &AppState,
    photos: &mut [Photo],
) -> Result<Option<Barcode>, RecognitionError> {
    let mut found: Option<Barcode> = None;
    for photo in photos {
        scan(state, photo).await?;
        if found.is_none() {
            found.clone_from(&photo.barcode);
        }
    }
    Ok(found)
}

/// Stage 3: what the model reads on the photos, counted against the daily quotas. Without a
/// model only a barcode the catalogue knows can stand in; a model failure is recorded so the
/// photos can be retried (the call still counts: it was made).
async fn ask_model(
    job: &Job<'_>,
    photos: &mut [Photo],
    catalogue_knows: bool,
) -> Result<Reading, RecognitionError> {
    let mut reading = Reading::default();
    if !job.state.vision.is_configured() {
        if !catalogue_knows {
            return Err(RecognitionError::Model {
                error: LlmError::NotConfigured,
                kept: None,
            });
        }
        reading.notes.push(
            "no model is configured: product fields come from the catalogue, dates were not read"
                .into(),
        );
        return Ok(reading);
    }
    for photo in photos.iter_mut() {
        load_jpeg(job.state, photo).await?;
    }
    quota::take(job.state, job.who).await?;
    match model::ask(job.state, photos).await {
        Ok((answer, completion)) => {
            reading.read_model(&answer, &completion);
            Ok(reading)
        }
        Err(error) => {
            let failed = record::failed(job, &error).await?;
            Err(RecognitionError::Model {
                error,
                kept: Some(failed.id),
            })
        }
    }
}

/// Stage 5: the drug, when asked for, and the recognition as it then is (linked to it).
async fn save_if_asked(
    job: &Job<'_>,
    recognition: recognition::Model,
    fields: &Fields,
    code: Option<&ParsedCode>,
) -> Result<(Option<save::Saved>, recognition::Model), RecognitionError> {
    if !job.save {
        return Ok((None, recognition));
    }
    let drug = save::save_drug(
        job.state,
        job.who.user,
        fields,
        recognition.id,
        &job.image_ids,
        code,
    )
    .await?;
    let recognition = repo::recognition(&job.state.db, recognition.id)
        .await?
        .unwrap_or(recognition);
    Ok((Some(drug), recognition))
}
