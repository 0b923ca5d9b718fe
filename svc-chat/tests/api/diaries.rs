use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use shared::entities::diary;
use uuid::Uuid;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

async fn say(app: &TestApp, user: Uuid, at: &str, text: &str) {
    shared::testing::insert_user_message(&app.db, user, at.parse().unwrap(), text)
        .await
        .unwrap();
}

/// The diary of 2026-11-21 written with the model answering `content`.
async fn generate_answered(app: &TestApp, user: Uuid, content: &str) -> reqwest::Response {
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(content)))
        .mount(&app.model)
        .await;
    app.req(Method::POST, None, "/internal/diaries/generate")
        .json(&json!({"user_id": user, "date": "2026-11-21"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_diary_covers_the_users_own_date_and_is_written_once() {
    let app = spawn().await;
    let user = app.user("America/New_York").await;
    // 23:30 on the 21st in New York is 04:30Z on the 22nd: it belongs to the 21st.
    say(&app, user, "2026-11-22T04:30:00Z", "跑了五公里，很开心").await;
    // 00:30 on the 22nd in New York: not the 21st.
    say(&app, user, "2026-11-22T05:30:00Z", "this is the next day").await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(
            "```json\n{\"summary\": \"跑步的一天\", \"key_insights\": [\"喜欢跑步\"], \"extracted_signals\": [{\"key\": \"sport\", \"value\": \"running\", \"confidence\": 0.7}]}\n```")))
        .mount(&app.model)
        .await;
    let target = json!({"user_id": user, "date": "2026-11-21"});
    let first: Value = app
        .req(Method::POST, None, "/internal/diaries/generate")
        .json(&target)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "written");
    let again: Value = app
        .req(Method::POST, None, "/internal/diaries/generate")
        .json(&target)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "exists");
    assert_eq!(again["diary_id"], first["diary_id"]);
    assert_eq!(app.model.received_requests().await.unwrap().len(), 1);
    let sent: Value =
        serde_json::from_slice(&app.model.received_requests().await.unwrap()[0].body).unwrap();
    let transcript = sent["messages"][1]["content"].as_str().unwrap();
    assert!(
        transcript.contains("跑了五公里") && !transcript.contains("next day"),
        "{transcript}"
    );
    assert_eq!(diary::Entity::find().count(&app.db).await.unwrap(), 1);

    let d: Value = app
        .req(Method::GET, Some(user), "/api/v1/diaries/2026-11-21")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["summary"], "跑步的一天");
    assert_eq!(d["message_count"], 1);
    for k in [
        "id",
        "user_id",
        "diary_date",
        "summary",
        "key_insights",
        "extracted_signals",
        "conversation_count",
        "message_count",
        "created_at",
    ] {
        assert!(d.get(k).is_some(), "compat field {k}");
    }
    // A day without messages is skipped.
    let none: Value = app
        .req(Method::POST, None, "/internal/diaries/generate")
        .json(&json!({"user_id": user, "date": "2026-11-10"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["status"], "skipped");

    // Daily profile: the day's signals merged, logged, visible.
    let res: Value = app
        .req(Method::POST, None, "/internal/profiles/daily")
        .json(&target)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["status"], "done");
    let p: Value = app
        .req(Method::GET, Some(user), "/api/v1/users/me/profile")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["traits"]["sport"]["value"], "running");
    let evo: Value = app
        .req(Method::GET, Some(user), "/api/v1/diaries/profile/evolution")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(evo[0]["status"], "applied");
    assert!(evo[0]["confidence_delta"].as_f64().unwrap() > 0.0);
    assert_eq!(evo[0]["changes"][0]["key"], "sport");
}

#[tokio::test]
async fn a_malformed_diary_answer_writes_nothing_and_the_weekly_failure_is_logged() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    say(&app, user, "2026-11-21T10:00:00Z", "hello").await;
    let res = generate_answered(&app, user, "{\"summary\": 3}").await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(diary::Entity::find().count(&app.db).await.unwrap(), 0);
    // Weekly needs diaries; with one in place and a bad answer the failure is logged.
    diary::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        diary_date: Set("2026-11-20".parse().unwrap()),
        summary: Set("s".into()),
        key_insights: Set(json!([])),
        extracted_signals: Set(json!([])),
        conversation_count: Set(1),
        message_count: Set(1),
        created_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let res = app
        .req(Method::POST, Some(user), "/api/v1/diaries/profile/analyze")
        .json(&json!({"job_type": "weekly", "target_date": "2026-11-21"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let log: Value = res.json().await.unwrap();
    assert_eq!(log["status"], "failed");
    assert!(log["error"].as_str().unwrap().contains("llm_failed"));
    let list: Value = app
        .req(Method::GET, Some(user), "/api/v1/diaries?days=3650")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["has_more"], false);
}

#[tokio::test]
async fn a_diary_whose_insights_come_as_an_object_of_lists_is_written_normalised() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    say(
        &app,
        user,
        "2026-11-21T10:00:00Z",
        "写完了报告，晚上吃了布洛芬",
    )
    .await;
    let res = generate_answered(
        &app,
        user,
        "{\"summary\": \"忙碌的一天\", \"key_insights\": {\"work\": [\"写完报告\"], \"health\": [\"吃了布洛芬\"]}, \"extracted_signals\": []}",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let written = diary::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(
        written[0].key_insights,
        json!(["health: 吃了布洛芬", "work: 写完报告"])
    );
}
