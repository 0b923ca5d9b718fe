//! The object store for normalised photos: a directory by default, any S3-compatible store
//! (Alibaba OSS, Tencent COS, MinIO) by configuration. Keys are `drugs/<user>/<image>.jpg`.

use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use secrecy::ExposeSecret;
use shared::config::StorageSettings;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    #[error("object store: {0}")]
    Backend(#[from] object_store::Error),
    #[error("object store configuration: {0}")]
    Config(String),
}

#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
}

impl Store {
    pub fn from_settings(settings: &StorageSettings) -> Result<Self, StorageError> {
        let inner: Arc<dyn ObjectStore> = match settings.backend.as_str() {
            "s3" => {
                let mut builder = AmazonS3Builder::new()
                    .with_region(&settings.s3_region)
                    .with_virtual_hosted_style_request(!settings.s3_path_style);
                if let Some(bucket) = &settings.s3_bucket {
                    builder = builder.with_bucket_name(bucket);
                }
                if let Some(endpoint) = &settings.s3_endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(id) = &settings.s3_access_key_id {
                    builder = builder.with_access_key_id(id.expose_secret());
                }
                if let Some(secret) = &settings.s3_secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                Arc::new(builder.build()?)
            }
            _ => {
                std::fs::create_dir_all(&settings.upload_dir).map_err(|e| {
                    StorageError::Config(format!(
                        "cannot create {}: {e}",
                        settings.upload_dir.display()
                    ))
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(&settings.upload_dir)?)
            }
        };
        Ok(Self { inner })
    }

    pub fn image_key(user: Uuid, image: Uuid) -> String {
        format!("drugs/{user}/{image}.jpg")
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.inner
            .put(&Path::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        match self.inner.get(&Path::from(key)).await {
            Ok(result) => Ok(result.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(StorageError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
