use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn upload(
    app: &TestApp,
    legacy: uuid::Uuid,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    app.post(legacy, "/api/drugs/upload")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_drug_serve_routes_keep_their_shapes() {
    let app = spawn_app().await;
    let legacy = app.user("Asia/Shanghai").await;
    app.model_answers(&cotton_swab_answer().to_string()).await;

    // Upload: one answer per file.
    let form = reqwest::multipart::Form::new()
        .part(
            "files",
            reqwest::multipart::Part::bytes(photo("cotton-swab-front.jpg")).file_name("a.jpg"),
        )
        .part(
            "files",
            reqwest::multipart::Part::bytes(photo("cotton-swab-side-barcode.jpg"))
                .file_name("b.jpg"),
        );
    let res = upload(&app, legacy, form).await;
    assert_eq!(res.status(), StatusCode::OK);
    let uploaded: Value = res.json().await.unwrap();
    let uploaded = uploaded.as_array().unwrap();
    assert_eq!(uploaded.len(), 2);
    assert_eq!(uploaded[0]["message"], "上传成功");
    let ids: Vec<&str> = uploaded
        .iter()
        .map(|u| u["image_id"].as_str().unwrap())
        .collect();

    // Analyse the batch: name, dates, image URLs.
    let res = app
        .post(legacy, "/api/drugs/analyze-batch")
        .json(&ids)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let analysed: Value = res.json().await.unwrap();
    assert_eq!(analysed["name"], "医用棉签");
    assert_eq!(analysed["production_date"], "2024-10-06");
    assert_eq!(analysed["expiry_date"], "2027-10-31");
    assert_eq!(analysed["image_urls"].as_array().unwrap().len(), 2);

    // The list: image_urls is a JSON-encoded string.
    let list: Value = app
        .get(legacy, "/api/drugs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = &list[0];
    let urls: Vec<String> = serde_json::from_str(item["image_urls"].as_str().unwrap()).unwrap();
    assert_eq!(urls.len(), 2);
    assert_eq!(item["image_url"], urls[0].as_str());
    assert!(item["analysis_result"].is_string());
    let file = app.get(legacy, &urls[0]).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert!(!contains(&file.bytes().await.unwrap(), b"Exif"));

    // PUT: "" clears a date.
    let id = item["id"].as_str().unwrap();
    let res = app
        .put(legacy, &format!("/api/drugs/{id}"))
        .json(&json!({"production_date": "", "name": "棉签"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["production_date"], Value::Null);
    assert_eq!(updated["expiry_date"], "2027-10-31");
    assert_eq!(updated["name"], "棉签");
    let res = app
        .put(legacy, &format!("/api/drugs/{id}"))
        .json(&json!({"expiry_date": "soon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Search: name contains q; blank q gives [].
    let found: Value = app
        .get(legacy, "/api/drugs/search?q=棉")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let blank: Value = app
        .get(legacy, "/api/drugs/search?q=")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(blank, json!([]));
    // Expiring (≤ today + 30 days): 2027 is far off.
    let soon: Value = app
        .get(legacy, "/api/drugs/expiring")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(soon, json!([]));

    // Single-image analyse.
    let res = app
        .post(legacy, &format!("/api/drugs/{}/analyze", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let one: Value = res.json().await.unwrap();
    assert_eq!(one.as_object().unwrap().len(), 3);

    // Delete.
    let res = app
        .delete(legacy, &format!("/api/drugs/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"message": "删除成功"})
    );
}

#[tokio::test]
async fn a_photo_sent_in_the_wrong_field_to_the_legacy_upload_is_told_so_in_chinese() {
    let app = spawn_app().await;
    let legacy = app.user("Asia/Shanghai").await;
    let form = reqwest::multipart::Form::new().part(
        "photo",
        reqwest::multipart::Part::bytes(photo("cotton-swab-front.jpg")).file_name("a.jpg"),
    );
    let res = upload(&app, legacy, form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "bad_multipart");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("表单字段 `photo` 不会被读取"),
        "{body}"
    );
}
