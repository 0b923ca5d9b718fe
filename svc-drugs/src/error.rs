//! Every error of svc-drugs becomes the API's envelope here, and only here: one match per
//! feature error, each variant with its code and message. Causes of 5xx answers are logged
//! once, by `ApiError::internal` and its kin, never shown to the client.

use shared::llm::LlmError;
use shared::{ApiError, ErrorCode};

use crate::cabinet::CabinetError;
use crate::legacy::LegacyError;
use crate::pipeline::normalize::NormalizeError;
use crate::plans::PlanError;
use crate::recognition::RecognitionError;
use crate::upload::UploadError;

impl From<UploadError> for ApiError {
    fn from(err: UploadError) -> Self {
        let code = match err {
            UploadError::NotMultipart(_)
            | UploadError::BrokeOff(_)
            | UploadError::OtherField(_) => ErrorCode::BadMultipart,
            UploadError::TooManyFiles(_) => ErrorCode::TooManyFiles,
            UploadError::TooLarge(_) => ErrorCode::FileTooLarge,
            UploadError::Empty => ErrorCode::EmptyFile,
            UploadError::NoFiles => ErrorCode::NoFiles,
        };
        ApiError::new(code, err.to_string())
    }
}

fn image_error(err: NormalizeError) -> ApiError {
    match err {
        NormalizeError::Unsupported => {
            ApiError::new(ErrorCode::UnsupportedMediaType, err.to_string())
        }
        NormalizeError::TooManyPixels { .. } | NormalizeError::Undecodable(_) => {
            ApiError::new(ErrorCode::UnprocessableImage, err.to_string())
        }
        NormalizeError::Encode(e) => ApiError::internal(e),
    }
}

/// 503 without a key, 504 on a timeout, 502 otherwise; a failure that kept the photos says
/// how to retry.
fn model_error(error: &LlmError, kept: Option<uuid::Uuid>) -> ApiError {
    let mut api = error.to_api_error();
    if let Some(id) = kept
        && !matches!(error, LlmError::NotConfigured)
    {
        api.message = format!(
            "the model could not read the photos; they are kept: retry with POST /api/v1/drugs/recognitions/{id}/retry"
        );
    }
    api
}

impl From<RecognitionError> for ApiError {
    fn from(err: RecognitionError) -> Self {
        match err {
            RecognitionError::Db(e) => e.into(),
            RecognitionError::Image(e) => image_error(e),
            RecognitionError::Model { error, kept } => model_error(&error, kept),
            RecognitionError::ImageNotFound(_) => {
                ApiError::new(ErrorCode::ImageNotFound, err.to_string())
            }
            RecognitionError::NotFound => {
                ApiError::new(ErrorCode::RecognitionNotFound, err.to_string())
            }
            RecognitionError::AlreadySucceeded => {
                ApiError::new(ErrorCode::RecognitionSucceeded, err.to_string())
            }
            RecognitionError::QuotaExceeded { .. } => {
                let mut api = ApiError::too_many_requests(shared::time::seconds_to_utc_midnight());
                api.code = ErrorCode::QuotaExceeded;
                api.message = err.to_string();
                api
            }
            RecognitionError::Cabinet(e) => e.into(),
            RecognitionError::Storage(e) => ApiError::internal(e),
            RecognitionError::Worker(e) => ApiError::internal(e),
            RecognitionError::Encode(e) => ApiError::internal(e),
            RecognitionError::Check(e) => e.into(),
        }
    }
}

impl From<CabinetError> for ApiError {
    fn from(err: CabinetError) -> Self {
        match err {
            CabinetError::Db(e) => e.into(),
            CabinetError::Invalid(message) => ApiError::validation(message),
            CabinetError::DrugNotFound => ApiError::new(ErrorCode::DrugNotFound, err.to_string()),
            CabinetError::Full(_) => ApiError::new(ErrorCode::LimitReached, err.to_string()),
            CabinetError::ImageNotFound | CabinetError::FileNotFound | CabinetError::ImageGone => {
                ApiError::new(ErrorCode::ImageNotFound, err.to_string())
            }
            CabinetError::Code(_) => ApiError::new(ErrorCode::InvalidCode, err.to_string()),
            CabinetError::UnknownProduct => {
                ApiError::new(ErrorCode::UnknownProduct, err.to_string())
            }
            CabinetError::Storage(e) => ApiError::internal(e),
            CabinetError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<crate::safety::CheckError> for ApiError {
    fn from(err: crate::safety::CheckError) -> Self {
        match err {
            crate::safety::CheckError::Db(e) => e.into(),
            crate::safety::CheckError::Table(cause) => ApiError::internal(cause),
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(err: PlanError) -> Self {
        match err {
            PlanError::Db(e) => e.into(),
            PlanError::Invalid(message) => ApiError::validation(message),
            PlanError::Drug(e) => e.into(),
            PlanError::PlanNotFound => {
                ApiError::new(ErrorCode::MedicationNotFound, err.to_string())
            }
            PlanError::DoseNotFound => ApiError::new(ErrorCode::DoseNotFound, err.to_string()),
            PlanError::TooMany(_) => ApiError::new(ErrorCode::LimitReached, err.to_string()),
            PlanError::NoSuchAction => ApiError::new(ErrorCode::NotFound, err.to_string()),
            PlanError::PrnLimit(_) => ApiError::new(ErrorCode::PrnLimitReached, err.to_string()),
            PlanError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<LegacyError> for ApiError {
    fn from(err: LegacyError) -> Self {
        match err {
            LegacyError::Cabinet(e) => e.into(),
            LegacyError::Recognition(e) => e.into(),
            LegacyError::Db(e) => e.into(),
            LegacyError::Invalid(message) => ApiError::validation(message),
            LegacyError::NoImage(_) => ApiError::new(ErrorCode::ImageNotFound, err.to_string()),
            LegacyError::NoDrug => ApiError::internal(err),
        }
    }
}
