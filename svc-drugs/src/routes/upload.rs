//! Reading photos from a multipart body: field `files`, at most `max_files`, each at most
//! `max_size` bytes, counted while the body streams (the rest is never read).

use actix_multipart::Multipart;
use futures_util::StreamExt;
use shared::ApiError;
use shared::ErrorCode;

pub async fn read_files(
    mut payload: Multipart,
    max_files: usize,
    max_size: usize,
) -> Result<Vec<Vec<u8>>, ApiError> {
    let mut files: Vec<Vec<u8>> = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| {
            ApiError::new(
                ErrorCode::BadMultipart,
                format!("the upload is not valid multipart: {e}"),
            )
        })?;
        let is_file = field.name() == Some("files");
        if is_file && files.len() == max_files {
            return Err(ApiError::new(
                ErrorCode::TooManyFiles,
                format!("at most {max_files} photos per request"),
            ));
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(
                    ErrorCode::BadMultipart,
                    format!("the upload broke off: {e}"),
                )
            })?;
            let limit = if is_file { max_size } else { 64 * 1024 };
            if buf.len() + chunk.len() > limit {
                return Err(ApiError::new(
                    ErrorCode::FileTooLarge,
                    format!("each photo may be at most {max_size} bytes"),
                ));
            }
            if is_file {
                buf.extend_from_slice(&chunk);
            }
        }
        if is_file {
            if buf.is_empty() {
                return Err(ApiError::new(ErrorCode::EmptyFile, "a photo is empty"));
            }
            files.push(buf);
        }
    }
    if files.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NoFiles,
            "send one to five photos in the multipart field `files`",
        ));
    }
    Ok(files)
}
