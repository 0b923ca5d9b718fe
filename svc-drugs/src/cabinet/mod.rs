//! The cabinet: a user's drugs, added by hand or by recognition, listed and searched with
//! their expiry status, and their photos. Another user's drug is not found, never forbidden
//! (no existence leak).

mod drugs;
mod input;
pub mod repo;
mod scan;
mod search;
mod views;

use sea_orm::DbErr;

use crate::storage::StorageError;

pub use drugs::{
    Page, create, delete, ensure_room, expiring_for, for_assistant, get, image, image_bytes, list,
    owned, update,
};
pub use input::{DrugInput, blank_drug, set_text};
pub use scan::{ScanInput, Scanned, catalogue_text, scan};
pub use search::{ListQuery, search_condition};
pub use views::{drug_view, views};

#[derive(Debug, thiserror::Error)]
pub enum CabinetError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// Input that breaks a rule; the text says which.
    #[error("{0}")]
    Invalid(String),
    #[error("no such drug")]
    DrugNotFound,
    #[error(
        "药箱最多放 {0} 种药品，请先删除不用的再添加。A cabinet holds at most {0} drugs; delete some first."
    )]
    Full(u64),
    #[error("no such image")]
    ImageNotFound,
    /// An image asked for by file name (the legacy `/uploads/{file}`).
    #[error("no such file")]
    FileNotFound,
    #[error("the image is gone from the store")]
    ImageGone,
    #[error(transparent)]
    Storage(StorageError),
    #[error(transparent)]
    Code(crate::domain::codes::CodeError),
    #[error(
        "目录里还没有这个产品，请拍一张药盒照片识别。This product is not in the catalogue yet: photograph the box to recognise it."
    )]
    UnknownProduct,
    #[error("{0}")]
    Internal(String),
}

impl CabinetError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

impl From<crate::safety::CheckError> for CabinetError {
    fn from(err: crate::safety::CheckError) -> Self {
        match err {
            crate::safety::CheckError::Db(e) => Self::Db(e),
            crate::safety::CheckError::Table(cause) => Self::Internal(cause),
        }
    }
}

impl From<StorageError> for CabinetError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::NotFound => Self::ImageGone,
            other => Self::Storage(other),
        }
    }
}
