//! Reading photos from a multipart body: field `files`, at most `max_files`, each at most
//! `max_size` bytes, counted while the body streams (the rest is never read).

use actix_multipart::Multipart;
use futures_util::StreamExt;

/// Why an upload was refused; the text is the message the client sees.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the upload is not valid multipart: {0}")]
    NotMultipart(String),
    #[error("the upload broke off: {0}")]
    BrokeOff(String),
    #[error("at most {0} photos per request")]
    TooManyFiles(usize),
    #[error("each photo may be at most {0} bytes")]
    TooLarge(usize),
    #[error("a photo is empty")]
    Empty,
    #[error("send one to five photos in the multipart field `files`")]
    NoFiles,
    /// A large field of another name: most likely the photos sent under the wrong name.
    #[error(
        "表单字段 `{0}` 不会被读取，请把图片放在字段 `files` 中上传。The multipart field `{0}` is not read: send the photos in the field `files`"
    )]
    OtherField(String),
}

/// Form fields other than `files` are read and dropped, up to this size each.
const MAX_OTHER_FIELD: usize = 64 * 1024;

pub async fn read_files(
    mut payload: Multipart,
    max_files: usize,
    max_size: usize,
) -> Result<Vec<Vec<u8>>, UploadError> {
    let mut files: Vec<Vec<u8>> = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| UploadError::NotMultipart(e.to_string()))?;
        let is_file = field.name() == Some("files");
        if is_file && files.len() == max_files {
            return Err(UploadError::TooManyFiles(max_files));
        }
        let mut buf = Vec::new();
        // Bytes of the field so far, whatever its name: the verdict depends on the sizes
        // sent, never on how the network cut them into chunks.
        let mut seen = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| UploadError::BrokeOff(e.to_string()))?;
            seen += chunk.len();
            if is_file && seen > max_size {
                return Err(UploadError::TooLarge(max_size));
            }
            if !is_file && seen > MAX_OTHER_FIELD {
                let name = field.name().unwrap_or_default().chars().take(40).collect();
                return Err(UploadError::OtherField(name));
            }
            if is_file {
                buf.extend_from_slice(&chunk);
            }
        }
        if is_file {
            if buf.is_empty() {
                return Err(UploadError::Empty);
            }
            files.push(buf);
        }
    }
    if files.is_empty() {
        return Err(UploadError::NoFiles);
    }
    Ok(files)
}
