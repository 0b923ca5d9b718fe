//! The original drug-serve web frontend's walk, request for request as its code sends them
//! (`frontend/src/services/drugService.ts`): upload, analyse (always the batch route), list,
//! edit with every field (a cleared date is `null`), delete, search in Chinese; and the errors
//! it shows its user as they come (`detail` on uploads, `message` elsewhere), in Chinese.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

const CALCIUM: &str = r#"{"name":"碳酸钙D3颗粒(Ⅱ)","brand":"钙诺","manufacturer":"上海诺成药业股份有限公司","expiry_date":"2027-06-30","production_date":"2025-07-01"}"#;

fn form(names: &[&str]) -> reqwest::multipart::Form {
    names.iter().fold(reqwest::multipart::Form::new(), |f, n| {
        f.part(
            "files",
            reqwest::multipart::Part::bytes(photo(n)).file_name(n.to_string()),
        )
    })
}

async fn upload(app: &TestApp, user: uuid::Uuid, names: &[&str]) -> Vec<String> {
    let res = app
        .post(user, "/api/drugs/upload")
        .multipart(form(names))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body.as_array()
        .unwrap()
        .iter()
        .map(|u| u["image_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn analyze(app: &TestApp, user: uuid::Uuid, ids: &[String]) -> reqwest::Response {
    app.post(user, "/api/drugs/analyze-batch")
        .json(&ids)
        .send()
        .await
        .unwrap()
}

async fn get_json(app: &TestApp, user: uuid::Uuid, path: &str) -> Value {
    app.get(user, path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn list(app: &TestApp, user: uuid::Uuid) -> Vec<Value> {
    get_json(app, user, "/api/drugs")
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn urls(item: &Value) -> Vec<String> {
    serde_json::from_str(item["image_urls"].as_str().unwrap()).unwrap()
}

/// The error as the frontend reads it: both `message` and `detail` in Chinese, the same.
async fn chinese_error(res: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.unwrap();
    let message = body["message"].as_str().unwrap().to_owned();
    assert_eq!(body["detail"], message.as_str(), "{body}");
    assert!(
        message
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{body}"
    );
    assert!(
        !message.contains("/api/v1"),
        "a route the client cannot use: {body}"
    );
    message
}

#[tokio::test]
async fn the_original_frontends_walk_works_against_the_legacy_routes() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(CALCIUM).await;

    let ids = upload(&app, user, &["calcium-d3-front.jpg"]).await;
    let res = analyze(&app, user, &ids).await;
    assert_eq!(res.status(), StatusCode::OK);
    let items = list(&app, user).await;
    assert_eq!(items.len(), 1);
    let drug = &items[0];
    assert_eq!(drug["name"], "碳酸钙D3颗粒(Ⅱ)");
    let id = drug["id"].as_str().unwrap();

    // The photo, by GET and by HEAD (same headers, no body).
    let url = &urls(drug)[0];
    let get = app.get(user, url).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    let length = get.bytes().await.unwrap().len();
    let head = app
        .client
        .head(app.url(url))
        .header(
            shared::internal_auth::INTERNAL_TOKEN_HEADER,
            app.token(user),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-type"], "image/jpeg");
    assert_eq!(
        head.headers()["content-length"],
        length.to_string().as_str()
    );
    // On the wire: the head, then nothing (the connection closes after it).
    let raw = raw_exchange(
        &app.address,
        &format!(
            "HEAD {url} HTTP/1.1\r\nhost: x\r\n{}: {}\r\nconnection: close\r\n\r\n",
            shared::internal_auth::INTERNAL_TOKEN_HEADER,
            app.token(user)
        ),
    )
    .await;
    let (head_text, rest) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head_text.starts_with("HTTP/1.1 200"), "{head_text}");
    assert!(
        rest.is_empty(),
        "no body after a HEAD: {} bytes",
        rest.len()
    );

    // Search in Chinese, with the Roman numeral of the drug's own name, in any form.
    for q in ["碳酸钙", "Ⅱ", "ⅱ", "(II)", "d3颗粒", "（Ⅱ）"] {
        let found: Value =
            get_json(&app, user, &format!("/api/drugs/search?q={}", urlencode(q))).await;
        assert_eq!(found.as_array().unwrap().len(), 1, "q={q}");
        let v1: Value = get_json(&app, user, &format!("/api/v1/drugs?q={}", urlencode(q))).await;
        assert_eq!(v1["total"], 1, "v1 q={q}");
    }
    let none: Value = get_json(&app, user, "/api/drugs/search?q=Ⅲ").await;
    assert_eq!(none, json!([]));

    // Edit as DrugCard saves: every field, a cleared date as null (the original ignored null
    // and the date came back; clearing is what its author meant).
    let res = app
        .put(user, &format!("/api/drugs/{id}"))
        .json(&json!({"name": "补钙颗粒(Ⅱ)", "production_date": null, "expiry_date": "2027-07-31"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let items = list(&app, user).await;
    assert_eq!(items[0]["production_date"], Value::Null);
    assert_eq!(items[0]["expiry_date"], "2027-07-31");
    assert_eq!(items[0]["name"], "补钙颗粒(Ⅱ)");
    // The renamed drug is found by its new name, and no longer by the old one.
    let found = get_json(
        &app,
        user,
        &format!("/api/drugs/search?q={}", urlencode("补钙")),
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let old = get_json(
        &app,
        user,
        &format!("/api/drugs/search?q={}", urlencode("碳酸钙")),
    )
    .await;
    assert_eq!(old, json!([]));

    // Delete, then the list is empty and the photo gone.
    let res = app
        .delete(user, &format!("/api/drugs/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(list(&app, user).await.is_empty());
    let gone = app.get(user, url).send().await.unwrap();
    chinese_error(gone, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_photo_analysed_again_always_gives_a_drug_with_its_photo() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    // Two photos of one box make the first drug.
    let both = upload(
        &app,
        user,
        &["cotton-swab-front.jpg", "cotton-swab-side-barcode.jpg"],
    )
    .await;
    assert_eq!(analyze(&app, user, &both).await.status(), StatusCode::OK);
    // The user photographs the front again: the same photo, already the first drug's.
    let again = upload(&app, user, &["cotton-swab-front.jpg"]).await;
    assert_eq!(again, both[..1], "the same photo is the same image");
    let res = analyze(&app, user, &again).await;
    assert_eq!(res.status(), StatusCode::OK);
    let analysed: Value = res.json().await.unwrap();
    assert_eq!(
        analysed["image_urls"].as_array().unwrap().len(),
        1,
        "{analysed}"
    );
    let items = list(&app, user).await;
    assert_eq!(items.len(), 2);
    for item in &items {
        assert!(!item["image_url"].is_null(), "{item}");
        for url in urls(item) {
            let res = app.get(user, &url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{url}");
        }
    }
    // Deleting the first drug leaves the second one's photo in place.
    let newest = items[0]["id"].as_str().unwrap().to_owned();
    let oldest = items[1]["id"].as_str().unwrap();
    app.delete(user, &format!("/api/drugs/{oldest}"))
        .send()
        .await
        .unwrap();
    let left = list(&app, user).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], newest.as_str());
    let url = &urls(&left[0])[0];
    assert_eq!(
        app.get(user, url).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn legacy_errors_tell_the_user_in_chinese_what_to_do() {
    let app = spawn_app_with(|s| s.storage.max_file_size = 1024 * 1024).await;
    let user = app.user("Asia/Shanghai").await;
    // An unknown drug, an empty batch, an unknown photo.
    let missing = uuid::Uuid::new_v4();
    let res = app
        .put(user, &format!("/api/drugs/{missing}"))
        .json(&json!({"name": "x", "production_date": null, "expiry_date": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        chinese_error(res, StatusCode::NOT_FOUND).await,
        "药品不存在"
    );
    let res = analyze(&app, user, &[]).await;
    chinese_error(res, StatusCode::BAD_REQUEST).await;
    let res = analyze(&app, user, &[missing.to_string()]).await;
    let message = chinese_error(res, StatusCode::NOT_FOUND).await;
    assert!(message.contains("不存在"), "{message}");
    let res = analyze(&app, user, &["not-an-id".to_owned()]).await;
    chinese_error(res, StatusCode::NOT_FOUND).await;
    // A bad date, a body that is not JSON.
    let ids = {
        app.model_answers(CALCIUM).await;
        let ids = upload(&app, user, &["cotton-swab-front.jpg"]).await;
        analyze(&app, user, &ids).await;
        list(&app, user).await[0]["id"].as_str().unwrap().to_owned()
    };
    let res = app
        .put(user, &format!("/api/drugs/{ids}"))
        .json(&json!({"expiry_date": "soon"}))
        .send()
        .await
        .unwrap();
    let message = chinese_error(res, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("有效期"), "{message}");
    let res = app
        .post(user, "/api/drugs/analyze-batch")
        .header("content-type", "application/json")
        .body("[\"a\",")
        .send()
        .await
        .unwrap();
    chinese_error(res, StatusCode::BAD_REQUEST).await;
    // A photo over the size limit names the limit in MB.
    let res = app
        .post(user, "/api/drugs/upload")
        .multipart(form(&["calcium-d3-front.jpg"]))
        .send()
        .await
        .unwrap();
    let message = chinese_error(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(message.contains("1MB"), "{message}");
    // Not an image.
    let res = app
        .post(user, "/api/drugs/upload")
        .multipart(reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(b"plain text, not a photo".to_vec()).file_name("a.txt"),
        ))
        .send()
        .await
        .unwrap();
    chinese_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // The model fails: the user is told to try the analysis again, not a v1 retry route.
    let ids = upload(&app, user, &["cotton-swab-side-barcode.jpg"]).await;
    app.model.reset().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&app.model)
        .await;
    let res = analyze(&app, user, &ids).await;
    let message = chinese_error(res, StatusCode::BAD_GATEWAY).await;
    assert!(message.contains("重新点击分析"), "{message}");
    // Once the model is back, analysing the same photos again works.
    app.model_answers(&cotton_swab_answer().to_string()).await;
    assert_eq!(analyze(&app, user, &ids).await.status(), StatusCode::OK);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Send `request` as written over a new connection and read everything until it closes.
async fn raw_exchange(address: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sock.read_to_end(&mut out),
    )
    .await
    .expect("the server closes the connection")
    .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}
