//! The `s3` storage backend against a local S3-compatible server (moto, from PyPI: `pip
//! install 'moto[server]'`; `.ci/run` installs it). The same calls reach Alibaba OSS, Tencent
//! COS and MinIO.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;
use svc_drugs::storage::{StorageError, Store};

use crate::helpers::*;

struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(
    clippy::zombie_processes,
    reason = "the S3Server guard kills and waits for the child in Drop"
)]
async fn s3_server() -> S3Server {
    shared::install_crypto_provider();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server (pip install 'moto[server]') runs the local S3 server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(&endpoint).send().await.is_ok() {
            // A bucket to write to (moto accepts the unsigned call).
            let res = client
                .put(format!("{endpoint}/cabinet"))
                .send()
                .await
                .unwrap();
            assert!(
                res.status().is_success(),
                "bucket creation: {}",
                res.status()
            );
            return S3Server { child, endpoint };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the local S3 server did not start");
}

fn s3_settings(s: &mut shared::config::Settings, endpoint: &str) {
    s.storage.backend = "s3".into();
    s.storage.s3_endpoint = Some(endpoint.to_owned());
    s.storage.s3_bucket = Some("cabinet".into());
    s.storage.s3_region = "us-east-1".into();
    s.storage.s3_path_style = true;
    s.storage.s3_access_key_id = Some(SecretString::from("test".to_owned()));
    s.storage.s3_secret_access_key = Some(SecretString::from("test".to_owned()));
}

#[tokio::test]
async fn photos_go_to_s3_and_come_back_to_their_owner() {
    let server = s3_server().await;
    let app = spawn_app_with(|s| s3_settings(s, &server.endpoint)).await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let res = app
        .recognize(user, &[("front.jpg", photo("calcium-d3-front.jpg"))], "")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    // Nothing on the instance's disk.
    assert!(app.stored_files().is_empty());

    // The object is in the bucket, under the user's prefix, without EXIF or GPS.
    let mut settings = shared::config::Settings::load_from(None, &Default::default()).unwrap();
    s3_settings(&mut settings, &server.endpoint);
    let store = Store::from_settings(&settings.storage).unwrap();
    let image_id: uuid::Uuid = body["drug"]["images"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = store.get(&Store::image_key(user, image_id)).await.unwrap();
    assert!(!contains(&stored, b"Exif") && !contains(&stored, b"GPS"));
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 1536);

    // Served back through the image route, from S3.
    let url = body["drug"]["images"][0]["url"].as_str().unwrap();
    let res = app.get(user, url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap(), stored);

    // Deleting the drug deletes the object.
    let id = body["drug"]["id"].as_str().unwrap();
    let res = app
        .delete(user, &format!("/api/v1/drugs/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(matches!(
        store.get(&Store::image_key(user, image_id)).await,
        Err(StorageError::NotFound)
    ));
}
