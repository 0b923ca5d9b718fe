//! The paid vision model cannot be driven without limit: a repeat of a picture costs no call
//! however its bytes are dressed, and daily quotas per account and per client network hold,
//! legacy routes included and under concurrent requests.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use shared::entities::{drug_image, recognition_quota};
use uuid::Uuid;

use crate::helpers::*;

/// A picture of its own for each seed: a grid of blocks of random grey levels, as different
/// from another seed's as two photos of different boxes.
fn picture(seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u8::try_from(state >> 56).unwrap()
    };
    let blocks: Vec<u8> = (0..256).map(|_| next()).collect();
    let img = image::GrayImage::from_fn(512, 512, |x, y| {
        image::Luma([blocks[((y / 32) * 16 + x / 32) as usize]])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

fn reencoded(bytes: &[u8], quality: u8) -> Vec<u8> {
    let img = image::load_from_memory(bytes).unwrap();
    let img = img.resize(
        img.width() / 2,
        img.height() / 2,
        image::imageops::FilterType::Triangle,
    );
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(enc).unwrap();
    out
}

async fn recognize_from(
    app: &TestApp,
    user: Uuid,
    address: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(bytes).file_name("box.jpg"),
    );
    app.post(user, "/api/v1/drugs/recognize?save=false")
        .header("x-forwarded-for", address)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A 429 `quota_exceeded` whose message (Chinese, then English) names `scope`, and which says
/// when to come back: at the next UTC midnight.
async fn assert_quota_exceeded(res: reqwest::Response, scope: &str) {
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "quota_exceeded");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(scope), "{message}");
    assert!(message.contains("used up"), "{message}");
}

#[tokio::test]
async fn the_same_picture_in_other_bytes_is_a_repeat_and_costs_no_model_call() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let front = photo("cotton-swab-front.jpg");
    let res = recognize_from(&app, user, "203.0.113.7", front.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);

    let mut appended = front.clone();
    appended.push(0);
    for dressed in [appended, reencoded(&front, 60)] {
        let res = recognize_from(&app, user, "203.0.113.7", dressed).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["recognition"]["reused"], true, "{body}");
    }
    assert_eq!(app.model_calls().await.len(), 1);

    // Another picture is no repeat, and another user's photo is never theirs.
    let res = recognize_from(&app, user, "203.0.113.7", photo("calcium-d3-front.jpg")).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["recognition"]["reused"], false, "{body}");
    let other = app.user("Asia/Shanghai").await;
    let res = recognize_from(&app, other, "203.0.113.8", front).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["recognition"]["reused"], false, "{body}");
    assert_eq!(app.model_calls().await.len(), 3);
    let stored = drug_image::Entity::find()
        .filter(drug_image::Column::UserId.eq(user))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 2, "one stored photo per picture");
}

#[tokio::test]
async fn daily_quotas_hold_per_account_and_per_network_and_repeats_are_free() {
    let app = spawn_app_with(|s| {
        s.drugs.daily_recognitions_per_user = 2;
        s.drugs.daily_recognitions_per_address = 3;
    })
    .await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let (alice, bob) = (
        app.user("Asia/Shanghai").await,
        app.user("Asia/Shanghai").await,
    );
    for seed in 1..=2 {
        let res = recognize_from(&app, alice, "203.0.113.7", picture(seed)).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_quota_exceeded(
        recognize_from(&app, alice, "203.0.113.7", picture(3)).await,
        "account",
    )
    .await;
    // A picture recognised before costs nothing, quota or not.
    let res = recognize_from(&app, alice, "203.0.113.7", reencoded(&picture(1), 50)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Bob, behind the same address: one call left for the network, then none.
    let res = recognize_from(&app, bob, "203.0.113.7", picture(4)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_quota_exceeded(
        recognize_from(&app, bob, "203.0.113.7", picture(5)).await,
        "network",
    )
    .await;
    // From elsewhere Bob still has his own quota.
    let res = recognize_from(&app, bob, "198.51.100.2", picture(5)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.model_calls().await.len(), 4);

    // Counted per key; no address is stored.
    let rows = recognition_quota::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let used = |key: String| rows.iter().find(|r| r.key == key).map(|r| r.used);
    assert_eq!(used(format!("user:{alice}")), Some(2));
    assert_eq!(used(format!("user:{bob}")), Some(2));
    assert!(
        rows.iter()
            .all(|r| !r.key.contains("203.0") && !r.key.contains("198.51"))
    );
    let networks: Vec<i32> = rows
        .iter()
        .filter(|r| r.key.starts_with("addr:"))
        .map(|r| r.used)
        .collect();
    assert_eq!(networks.len(), 2, "{rows:?}");
    assert!(networks.contains(&3) && networks.contains(&1), "{rows:?}");
}

#[tokio::test]
async fn the_legacy_routes_share_the_network_quota_and_say_so_in_chinese() {
    let app = spawn_app_with(|s| s.drugs.daily_recognitions_per_address = 1).await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let user = app.user("Asia/Shanghai").await;
    let res = recognize_from(&app, user, "203.0.113.9", picture(1)).await;
    assert_eq!(res.status(), StatusCode::OK);

    let legacy = app.user("Asia/Shanghai").await;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(picture(2)).file_name("a.jpg"),
    );
    let uploaded: Value = app
        .post(legacy, "/api/drugs/upload")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = uploaded[0]["image_id"].as_str().unwrap();
    let res = app
        .post(legacy, &format!("/api/drugs/{id}/analyze"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "quota_exceeded");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("来自你所在网络的识别次数"),
        "{body}"
    );
    assert_eq!(app.model_calls().await.len(), 1);
}

#[tokio::test]
async fn concurrent_recognitions_cannot_overshoot_the_account_quota() {
    let app = spawn_app_with(|s| s.drugs.daily_recognitions_per_user = 2).await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let user = app.user("Asia/Shanghai").await;
    let answers = join_all((10..16).map(|seed| {
        let address = format!("198.51.100.{seed}");
        let app = &app;
        async move {
            recognize_from(app, user, &address, picture(seed))
                .await
                .status()
        }
    }))
    .await;
    let ok = answers.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((ok, limited), (2, 4), "{answers:?}");
    assert_eq!(app.model_calls().await.len(), 2);
}

/// A 409 `limit_reached` whose message says `says`.
async fn assert_limit_reached(res: reqwest::Response, says: &str) {
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "limit_reached");
    assert!(body["message"].as_str().unwrap().contains(says), "{body}");
}

#[tokio::test]
async fn a_full_cabinet_and_a_full_plan_list_are_refused_before_any_model_call() {
    let app = spawn_app_with(|s| {
        s.drugs.max_drugs_per_user = 2;
        s.drugs.max_plans_per_user = 1;
    })
    .await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let user = app.user("Asia/Shanghai").await;
    let first = app
        .add_drug(user, serde_json::json!({"name": "布洛芬"}))
        .await;
    app.add_drug(user, serde_json::json!({"name": "维生素C"}))
        .await;

    let res = app
        .post(user, "/api/v1/drugs")
        .json(&serde_json::json!({"name": "板蓝根"}))
        .send()
        .await
        .unwrap();
    assert_limit_reached(res, "药箱最多放 2 种药品").await;

    // Recognising to save: refused before the model is asked; a preview still works.
    let res = recognize_from(&app, user, "203.0.113.7", picture(1)).await;
    assert_eq!(res.status(), StatusCode::OK, "a preview saves nothing");
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(picture(2)).file_name("b.jpg"),
    );
    let res = app
        .post(user, "/api/v1/drugs/recognize")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(app.model_calls().await.len(), 1);
    let total: Value = app.get_as(user, "/api/v1/drugs").await;
    assert_eq!(total["total"], 2);

    // Another user's cabinet is their own.
    let other = app.user("Asia/Shanghai").await;
    app.add_drug(other, serde_json::json!({"name": "板蓝根"}))
        .await;

    let today = chrono::Utc::now().date_naive();
    let plan = |n: u32| {
        serde_json::json!({
            "drug_id": first["id"], "dose": {"amount": n, "unit": "粒"},
            "schedule": {"times": ["08:00"], "start_date": today}
        })
    };
    let res = app
        .post(user, "/api/v1/medications")
        .json(&plan(1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post(user, "/api/v1/medications")
        .json(&plan(2))
        .send()
        .await
        .unwrap();
    assert_limit_reached(res, "At most 1 medication plans").await;
}

/// A caregiver recognising boxes for a dependent spends their own account's quota: adding
/// dependents gives no more model calls.
#[tokio::test]
async fn recognitions_for_a_dependent_count_against_the_caregiver() {
    let app = spawn_app_with(|s| s.drugs.daily_recognitions_per_user = 1).await;
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let owner = app.user("Asia/Shanghai").await;
    let household: Value = app
        .post(owner, "/api/v1/households")
        .json(&serde_json::json!({"name": "家"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid: Value = app
        .post(
            owner,
            &format!(
                "/api/v1/households/{}/dependents",
                household["id"].as_str().unwrap()
            ),
        )
        .json(&serde_json::json!({"name": "小明"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = kid["person_id"].as_str().unwrap();
    let form = |seed| {
        reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(picture(seed)).file_name("box.jpg"),
        )
    };
    let res = app
        .post(owner, "/api/v1/drugs/recognize")
        .header("x-person-id", kid)
        .multipart(form(7))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let saved = body["drug"]["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    let row = shared::entities::drug::Entity::find_by_id(saved)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id.to_string(), kid, "the drug is the child's");
    // The owner's one call is spent, for the child too.
    for person in [None, Some(kid)] {
        let mut req = app.post(owner, "/api/v1/drugs/recognize");
        if let Some(p) = person {
            req = req.header("x-person-id", p);
        }
        let res = req.multipart(form(8)).send().await.unwrap();
        assert_quota_exceeded(res, "account").await;
    }
    assert_eq!(app.model_calls().await.len(), 1);
}
