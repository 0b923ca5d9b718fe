use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use shared::entities::{drug, drug_image, product, recognition};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// The images the fake model received, decoded from their data URLs.
fn images_sent(call: &Value) -> Vec<Vec<u8>> {
    call["messages"][0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|part| part["type"] == "image_url")
        .map(|part| {
            let url = part["image_url"]["url"].as_str().unwrap();
            let data = url
                .strip_prefix("data:image/jpeg;base64,")
                .expect("a JPEG data URL");
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap()
        })
        .collect()
}

fn long_edge(jpeg: &[u8]) -> u32 {
    let img = image::load_from_memory(jpeg).unwrap();
    img.width().max(img.height())
}

#[tokio::test]
async fn two_sides_of_a_box_become_one_drug_with_the_barcode_decoded_and_dates_normalised() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(&format!(
        "Sure! Here is what I read:\n```json\n{}\n```",
        cotton_swab_answer()
    ))
    .await;
    let res = app
        .recognize(
            user,
            &[
                ("front.jpg", photo("cotton-swab-front.jpg")),
                ("side.jpg", photo("cotton-swab-side-barcode.jpg")),
            ],
            "",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let d = &body["drug"];
    assert_eq!(d["name"], "医用棉签");
    assert_eq!(d["brand"], "可孚");
    assert_eq!(d["batch_number"], "P472410001");
    assert_eq!(d["production_date"], "2024-10-06");
    // Given to the month: the last day of it, and the answer says so.
    assert_eq!(d["expiry_date"], "2027-10-31");
    assert_eq!(d["barcode"], "6950715599358");
    assert_eq!(d["images"].as_array().unwrap().len(), 2);
    let rec = &body["recognition"];
    assert_eq!(rec["barcode"]["text"], "6950715599358");
    assert_eq!(rec["barcode"]["format"], "ean_13");
    assert_eq!(rec["sources"]["barcode"], "barcode");
    assert_eq!(rec["sources"]["name"], "model");
    assert_eq!(rec["model"], "vision-test");
    assert!(rec["duration_ms"].as_i64().is_some());
    assert_eq!(rec["tokens"]["prompt"], 1200);
    assert!(
        rec["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("last day of that month")),
        "{rec}"
    );

    // One model call carrying both photos, normalised.
    let calls = app.model_calls().await;
    assert_eq!(calls.len(), 1);
    let sent = images_sent(&calls[0]);
    assert_eq!(sent.len(), 2);
    for jpeg in &sent {
        assert!(long_edge(jpeg) <= 1536);
        assert!(!contains(jpeg, b"Exif"));
    }

    // The drug and its images are in the database, and the images in the store.
    let id: uuid::Uuid = d["id"].as_str().unwrap().parse().unwrap();
    let row = drug::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, user);
    assert_eq!(row.expiry_date.unwrap().to_string(), "2027-10-31");
    let images = drug_image::Entity::find()
        .filter(drug_image::Column::DrugId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(images, 2);
    assert_eq!(app.stored_files().len(), 2);

    // The image route serves the stored JPEG to its owner only.
    let url = d["images"][0]["url"].as_str().unwrap();
    let res = app.get(user, url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let stranger = app.user("Asia/Shanghai").await;
    let res = app.get(stranger, url).send().await.unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::NOT_FOUND).await,
        "image_not_found"
    );

    // The same photos again: the earlier result, no second model call, no second drug.
    let res = app
        .recognize(
            user,
            &[
                ("a.jpg", photo("cotton-swab-front.jpg")),
                ("b.jpg", photo("cotton-swab-side-barcode.jpg")),
            ],
            "",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["drug"]["id"], d["id"]);
    assert_eq!(again["recognition"]["reused"], true);
    assert_eq!(app.model_calls().await.len(), 1);
    assert_eq!(app.stored_files().len(), 2, "no photo stored twice");
    assert_eq!(
        drug::Entity::find()
            .filter(drug::Column::UserId.eq(user))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    // The barcode is now in the catalogue: another box of the same product takes its name,
    // brand and maker from there, and its dates from the model.
    assert!(
        product::Entity::find_by_id("6950715599358".to_owned())
            .one(&app.db)
            .await
            .unwrap()
            .is_some()
    );
    app.model_answers(
        &serde_json::json!({
            "name": "棉签(误读)", "brand": null, "manufacturer": null,
            "batch_number": "P999", "production_date": "2025-01-02", "expiry_date": "2028-01-01"
        })
        .to_string(),
    )
    .await;
    let res = app
        .recognize(
            user,
            &[("side.jpg", photo("cotton-swab-side-barcode.jpg"))],
            "",
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["drug"]["name"], "医用棉签");
    assert_eq!(body["drug"]["brand"], "可孚");
    assert_eq!(body["drug"]["batch_number"], "P999");
    assert_eq!(body["drug"]["expiry_date"], "2028-01-01");
    assert_eq!(body["recognition"]["sources"]["name"], "catalogue");
    assert_eq!(body["recognition"]["sources"]["expiry_date"], "model");
}

#[tokio::test]
async fn the_calcium_photo_is_stored_and_sent_without_its_gps_block() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(
        r#"{"name":"碳酸钙D3颗粒(Ⅱ)","brand":"钙诺","approval_number":"国药准字H10950029"}"#,
    )
    .await;
    let original = photo("calcium-d3-front.jpg");
    assert!(contains(&original, b"GPS") || contains(&original, b"Exif"));
    let res = app
        .recognize(user, &[("IMG_0001.JPG", original.clone())], "?save=false")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    // A preview: fields, no saved drug.
    assert_eq!(body["drug"]["id"], Value::Null);
    assert_eq!(body["drug"]["name"], "碳酸钙D3颗粒(Ⅱ)");
    assert_eq!(body["drug"]["status"], "unknown");
    assert_eq!(drug::Entity::find().count(&app.db).await.unwrap(), 0);

    let stored = app.stored_files();
    assert_eq!(stored.len(), 1);
    for bytes in stored
        .iter()
        .chain(images_sent(&app.model_calls().await[0]).iter())
    {
        assert!(!contains(bytes, b"Exif"), "EXIF survived");
        assert!(!contains(bytes, b"GPS"), "GPS survived");
        assert_ne!(bytes.len(), original.len());
        assert_eq!(long_edge(bytes), 1536);
    }
    // The bytes sent to the model are a small fraction of the original's base64.
    let sent: usize = images_sent(&app.model_calls().await[0])
        .iter()
        .map(Vec::len)
        .sum();
    assert!(
        sent * 4 / 3 < original.len() * 4 / 3 / 10,
        "sent {sent} bytes"
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_with_their_status_and_envelope() {
    let app = spawn_app_with(|s| {
        s.storage.max_file_size = 1024 * 1024;
        s.drugs.max_pixels = 3_000_000;
    })
    .await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(&cotton_swab_answer().to_string()).await;

    // Not an image, whatever its name.
    let res = app
        .recognize(user, &[("box.jpg", b"%PDF-1.7\n...".to_vec())], "")
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "unsupported_media_type"
    );
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let res = app.recognize(user, &[("x.png", gif)], "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "unsupported_media_type"
    );
    // Over the per-file limit (3.2 MB against 1 MiB): 413.
    let res = app
        .recognize(user, &[("big.jpg", photo("calcium-d3-front.jpg"))], "")
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::PAYLOAD_TOO_LARGE).await,
        "file_too_large"
    );
    // More pixels than allowed (1534×1279 = 1.96 MP is fine; lower the cap... use a tall PNG).
    let mut png = Vec::new();
    image::DynamicImage::new_luma8(2000, 1600)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let res = app.recognize(user, &[("bomb.png", png)], "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNPROCESSABLE_ENTITY).await,
        "unprocessable_image"
    );
    // A truncated JPEG: recognised by its header, undecodable.
    let mut truncated = photo("cotton-swab-front.jpg")[..600].to_vec();
    truncated.extend(std::iter::repeat_n(0u8, 4000));
    let res = app.recognize(user, &[("t.jpg", truncated)], "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNPROCESSABLE_ENTITY).await,
        "unprocessable_image"
    );
    // Six files: 400.
    let small = photo("cotton-swab-front.jpg");
    let six: Vec<(&str, Vec<u8>)> = (0..6).map(|_| ("f.jpg", small.clone())).collect();
    let res = app.recognize(user, &six, "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "too_many_files"
    );
    // None, or an empty one: 400.
    let res = app.recognize(user, &[], "").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app.recognize(user, &[("e.jpg", Vec::new())], "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "empty_file"
    );
    // Not multipart at all.
    let res = app
        .post(user, "/api/v1/drugs/recognize")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Without an internal token: 401, whatever the route.
    let res = app
        .client
        .post(app.url("/api/v1/drugs/recognize"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        app.model_calls().await.is_empty(),
        "no bad input reached the model"
    );
}

#[tokio::test]
async fn model_failures_keep_the_photos_and_a_retry_finishes_the_job() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    let files = [("front.jpg", photo("cotton-swab-front.jpg"))];

    // 500 from the model (after its retries): 502, photos kept, a failed recognition to retry.
    Mock::given(method("POST"))
        .and(path("/api/v3/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&app.model)
        .await;
    let res = app.recognize(user, &files, "").await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "llm_failed");
    let message = body["message"].as_str().unwrap();
    assert!(
        !message.contains("boom"),
        "the cause is not shown: {message}"
    );
    assert_eq!(app.model_calls().await.len(), 3, "two retries on 5xx");
    let failed = recognition::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, "failed");
    assert!(message.contains(&failed.id.to_string()), "{message}");
    assert_eq!(app.stored_files().len(), 1);
    assert_eq!(drug::Entity::find().count(&app.db).await.unwrap(), 0);

    // An answer that is not JSON: 502 too.
    app.model_answers("I cannot read this box, sorry.").await;
    let res = app.recognize(user, &files, "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_GATEWAY).await,
        "llm_failed"
    );

    // Too slow: 504.
    app.model.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&cotton_swab_answer().to_string()))
                .set_delay(Duration::from_secs(4)),
        )
        .mount(&app.model)
        .await;
    let res = app.recognize(user, &files, "").await;
    assert_eq!(
        assert_envelope(res, StatusCode::GATEWAY_TIMEOUT).await,
        "llm_timeout"
    );

    // The model is back: the retry route finishes the first recognition with its kept photos.
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let res = app
        .post(
            user,
            &format!("/api/v1/drugs/recognitions/{}/retry", failed.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["drug"]["name"], "医用棉签");
    assert_eq!(body["recognition"]["id"], failed.id.to_string());
    let done = recognition::Entity::find_by_id(failed.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, "succeeded");
    assert_eq!(drug::Entity::find().count(&app.db).await.unwrap(), 1);
    // Retrying a finished one is a conflict; someone else's is not found.
    let res = app
        .post(
            user,
            &format!("/api/v1/drugs/recognitions/{}/retry", failed.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::CONFLICT).await,
        "recognition_succeeded"
    );
    let other = app.user("UTC").await;
    let res = app
        .post(
            other,
            &format!("/api/v1/drugs/recognitions/{}/retry", failed.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_an_api_key_recognition_answers_503_and_the_rest_works() {
    let app = spawn_app_with(|s| s.llm_vision.api_key = None).await;
    let user = app.user("Asia/Shanghai").await;
    let res = app
        .recognize(user, &[("f.jpg", photo("cotton-swab-front.jpg"))], "")
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await,
        "llm_not_configured"
    );
    let d = app
        .add_drug(user, serde_json::json!({"name": "布洛芬缓释胶囊"}))
        .await;
    assert_eq!(d["name"], "布洛芬缓释胶囊");
}

/// A multipart body with one part named `field` holding `bytes`.
fn multipart_body(field: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----unilife-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"box.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_photo_in_a_field_not_named_files_gets_the_same_400_however_the_body_is_cut() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    let (content_type, body) = multipart_body("photo", &photo("cotton-swab-front.jpg"));
    // All at once, in 1 KiB pieces and in 100 KiB pieces: the network's cuts, made on purpose.
    for piece in [body.len(), 1024, 100 * 1024] {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            body.chunks(piece).map(|c| Ok(c.to_vec())).collect();
        let res = app
            .post(user, "/api/v1/drugs/recognize")
            .header("content-type", &content_type)
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let answer: Value = res.json().await.unwrap();
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "pieces of {piece}: {answer}"
        );
        assert_eq!(
            answer["code"], "bad_multipart",
            "pieces of {piece}: {answer}"
        );
        assert!(
            answer["message"].as_str().unwrap().contains("`photo`"),
            "{answer}"
        );
    }
    // A small extra field (a form's name or note) is dropped, the photos are read.
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let form = reqwest::multipart::Form::new()
        .text("note", "厨房抽屉")
        .part(
            "files",
            reqwest::multipart::Part::bytes(photo("cotton-swab-front.jpg")).file_name("a.jpg"),
        );
    let res = app
        .post(user, "/api/v1/drugs/recognize?save=false")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(app.model_calls().await.len() == 1);
}
