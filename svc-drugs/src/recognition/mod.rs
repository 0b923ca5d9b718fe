//! Recognition: photos of a medicine box in, a drug record out. Each photo is normalised and
//! stored once per user; the same set of photos reuses the earlier result; a barcode is read
//! and looked up in the product catalogue; the vision model is asked once with every photo;
//! what it read is merged with the barcode and the catalogue, recorded, and saved as a drug.

mod answer;
mod ingest;
mod merge;
mod model;
mod quota;
mod record;
mod repo;
mod run;
mod save;

use sea_orm::DbErr;
use shared::llm::LlmError;
use uuid::Uuid;

use crate::pipeline::normalize::NormalizeError;
use crate::storage::StorageError;

pub use answer::answer;
pub use ingest::{Photo, ingest, photos_by_ids};
pub use quota::{QuotaScope, Requester, address_key};
pub use run::{Outcome, retry, run};

/// The unknown-name placeholder of the original product.
pub const UNKNOWN_NAME: &str = "未知药品";

#[derive(Debug, thiserror::Error)]
pub enum RecognitionError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The cabinet is full (checked before the model is asked, when the drug is to be saved).
    #[error(transparent)]
    Cabinet(#[from] crate::cabinet::CabinetError),
    #[error(transparent)]
    Image(#[from] NormalizeError),
    /// A blocking image task that could not run or finish.
    #[error("image worker: {0}")]
    Worker(String),
    #[error("no image {0}")]
    ImageNotFound(Uuid),
    #[error("no such recognition")]
    NotFound,
    #[error("this recognition already succeeded")]
    AlreadySucceeded,
    /// The model failed; `kept` is the failed recognition that keeps the photos for a retry.
    #[error("{error}")]
    Model { error: LlmError, kept: Option<Uuid> },
    /// A daily quota of model calls is used up (nothing was counted for this request).
    #[error("{}", quota_message(*scope, *limit))]
    QuotaExceeded { scope: QuotaScope, limit: u32 },
    #[error("encoding the answer: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Check(#[from] crate::safety::CheckError),
}

fn quota_message(scope: QuotaScope, limit: u32) -> String {
    match scope {
        QuotaScope::Account => format!(
            "今天的识别次数（每个账号每天 {limit} 次）已用完，请明天再试；重复识别同一张照片不计次数。\
             The daily limit of {limit} recognitions for this account is used up; try again tomorrow (the same photos again are free)."
        ),
        QuotaScope::Network => format!(
            "来自你所在网络的识别次数（每天 {limit} 次）已用完，请明天再试。\
             The daily limit of {limit} recognitions from your network is used up; try again tomorrow."
        ),
    }
}
