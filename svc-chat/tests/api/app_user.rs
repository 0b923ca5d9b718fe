//! The app's user and message surface: one history across conversations, its dates in the
//! user's time zone, clearing the context, stats, onboarding and the assistant's identity.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use shared::entities::{chat_user_state, conversation, message, profile};
use uuid::Uuid;

use crate::helpers::*;
use crate::shape::{assert_shape, fixture};

async fn get(app: &TestApp, user: Uuid, path: &str) -> (StatusCode, Value) {
    let res = app.req(Method::GET, Some(user), path).send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn conversation(app: &TestApp, user: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    let now = Utc::now();
    conversation::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        title: Set("t".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

async fn say(app: &TestApp, user: Uuid, conv: Uuid, role: &str, at: &str, text: &str) {
    message::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conv),
        user_id: Set(user),
        role: Set(role.into()),
        content: Set(text.into()),
        created_at: Set(at.parse::<DateTime<Utc>>().unwrap()),
    }
    .insert(&app.db)
    .await
    .unwrap();
}

fn contents(page: &Value) -> Vec<&str> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn history_pages_newest_first_across_two_conversations_by_before() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let other = app.user("Asia/Shanghai").await;
    let (a, b) = (
        conversation(&app, user).await,
        conversation(&app, user).await,
    );
    say(&app, user, a, "user", "2026-12-01T01:00:00Z", "a1").await;
    say(&app, user, b, "user", "2026-12-01T02:00:00Z", "b1").await;
    say(&app, user, b, "assistant", "2026-12-01T02:00:01Z", "b2").await;
    say(&app, user, a, "user", "2026-12-01T03:00:00Z", "a2").await;
    say(&app, user, a, "assistant", "2026-12-01T03:00:02Z", "a3").await;
    let theirs = conversation(&app, other).await;
    say(
        &app,
        other,
        theirs,
        "user",
        "2026-12-01T02:30:00Z",
        "not yours",
    )
    .await;

    let (status, page) = get(&app, user, "/api/v1/messages/history?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(contents(&page), ["a3", "a2"]);
    for m in page.as_array().unwrap() {
        assert_shape(m, "message.shape.json");
    }
    assert_eq!(page[0]["conversation_id"], a.to_string());
    assert_eq!(page[0]["role"], "assistant");
    // The app sends back the oldest created_at it has (encoded, or with its + made a space).
    let before = page[1]["created_at"].as_str().unwrap().to_owned();
    let url = reqwest::Url::parse_with_params(
        "http://x/api/v1/messages/history",
        &[("limit", "2"), ("before", before.as_str())],
    )
    .unwrap();
    let (_, page) = get(
        &app,
        user,
        &format!("{}?{}", url.path(), url.query().unwrap()),
    )
    .await;
    assert_eq!(contents(&page), ["b2", "b1"]);
    assert_eq!(page[0]["conversation_id"], b.to_string());
    // The original wrote times without an offset (UTC); a cursor in that form works too, and a
    // forged user_id does not reach another user's messages.
    let (_, page) = get(
        &app,
        user,
        &format!("/api/v1/messages/history?before=2026-12-01T02:00:00&user_id={other}"),
    )
    .await;
    assert_eq!(contents(&page), ["a1"]);
    let (_, page) = get(
        &app,
        user,
        "/api/v1/messages/history?before=2026-12-01T00:00:00Z",
    )
    .await;
    assert_eq!(page, json!([]));
    // The default page is 50.
    let (_, all) = get(&app, user, "/api/v1/messages/history").await;
    assert_eq!(contents(&all), ["a3", "a2", "b2", "b1", "a1"]);

    for bad in ["limit=0", "limit=501", "before=yesterday", "colour=red"] {
        let (status, err) = get(&app, user, &format!("/api/v1/messages/history?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {err}");
    }
}

#[tokio::test]
async fn history_dates_are_the_users_local_dates_newest_first() {
    let app = spawn().await;
    let shanghai = app.user("Asia/Shanghai").await;
    let utc = app.user("UTC").await;
    for user in [shanghai, utc] {
        let conv = conversation(&app, user).await;
        // 23:30 and 00:30 the next day in Shanghai; the same UTC day.
        say(&app, user, conv, "user", "2026-12-01T15:30:00Z", "late").await;
        say(
            &app,
            user,
            conv,
            "assistant",
            "2026-12-01T16:30:00Z",
            "later",
        )
        .await;
        say(&app, user, conv, "user", "2026-11-28T01:00:00Z", "earlier").await;
        say(&app, user, conv, "user", "2026-11-28T02:00:00Z", "same day").await;
    }
    let (status, dates) = get(&app, shanghai, "/api/v1/messages/history/dates").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dates, json!(["2026-12-02", "2026-12-01", "2026-11-28"]));
    let (_, dates) = get(
        &app,
        utc,
        &format!("/api/v1/messages/history/dates?user_id={shanghai}"),
    )
    .await;
    assert_eq!(dates, json!(["2026-12-01", "2026-11-28"]));
    let nobody = app.user("UTC").await;
    let (_, dates) = get(&app, nobody, "/api/v1/messages/history/dates").await;
    assert_eq!(dates, json!([]));
}

#[tokio::test]
async fn clearing_the_context_records_when_for_the_caller_and_keeps_the_history() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let other = app.user("UTC").await;
    let conv = conversation(&app, user).await;
    say(
        &app,
        user,
        conv,
        "user",
        "2026-12-01T01:00:00Z",
        "before the clear",
    )
    .await;
    let before = Utc::now();
    let mut body = fixture("clear_context.request.json");
    body["user_id"] = json!(other.to_string());
    let res = app
        .req(Method::POST, Some(user), "/api/v1/chat/clear_context")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_shape(&answer, "clear_context.shape.json");
    assert_eq!(answer["status"], "success");
    assert_eq!(answer["message"], "聊天上下文已清空");
    let state = chat_user_state::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let cleared = state.context_cleared_at.unwrap();
    assert!(cleared >= before - chrono::Duration::seconds(1));
    assert_eq!(
        answer["cleared_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        cleared
    );
    assert!(
        chat_user_state::Entity::find_by_id(other)
            .one(&app.db)
            .await
            .unwrap()
            .is_none(),
        "the user_id in the body is not whose context is cleared"
    );
    let (_, history) = get(&app, user, "/api/v1/messages/history").await;
    assert_eq!(contents(&history), ["before the clear"]);
    // Without a body, and again: the newer time wins.
    let res = app
        .req(Method::POST, Some(user), "/api/v1/chat/clear_context")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let again = chat_user_state::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(again.context_cleared_at.unwrap() >= cleared);
}

async fn add_event(app: &TestApp, user: Uuid, status: &str, category: &str, kind: &str) {
    let res = app
        .req(Method::POST, Some(user), "/api/v1/events")
        .json(&json!({"title": "e", "category": category, "event_type": kind}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    // A habit is made as a template, so its id is under `template`.
    let id = body["event"]["id"]
        .as_str()
        .or_else(|| body["template"]["id"].as_str())
        .unwrap()
        .to_owned();
    if status != "PENDING" {
        let res = app
            .req(Method::PUT, Some(user), &format!("/api/v1/events/{id}"))
            .json(&json!({"status": status}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn stats_count_the_callers_events_by_status_category_and_type() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let other = app.user("UTC").await;
    let (status, empty) = get(&app, user, "/api/v1/users/me/stats").await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_shape(&empty, "user_stats.shape.json");
    assert_eq!(empty["total_events"], 0);
    assert_eq!(empty["events_by_category"], json!({}));
    assert_eq!(empty["profile_points"], 0);
    assert_eq!(empty["decision_confidence"], json!({}));

    add_event(&app, user, "PENDING", "STUDY", "schedule").await;
    add_event(&app, user, "PENDING", "WORK", "deadline").await;
    add_event(&app, user, "IN_PROGRESS", "WORK", "schedule").await;
    add_event(&app, user, "COMPLETED", "HEALTH", "habit").await;
    add_event(&app, user, "CANCELLED", "LIFE", "reminder").await;
    add_event(&app, other, "PENDING", "SOCIAL", "floating").await;
    profile::ActiveModel {
        user_id: Set(user),
        data: Set(json!({
            "wake_time": {"value": "07:00", "confidence": 0.8, "updated_at": "2026-12-01"},
            "likes_tea": {"value": true, "confidence": 0.5, "updated_at": "2026-12-01"},
        })),
        updated_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();

    let (_, stats) = get(
        &app,
        user,
        &format!("/api/v1/users/me/stats?user_id={other}"),
    )
    .await;
    assert_shape(&stats, "user_stats.shape.json");
    let login = shared::entities::user::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .login;
    assert_eq!(stats["user_id"], login);
    assert_eq!(stats["total_events"], 5);
    assert_eq!(stats["pending_events"], 2);
    assert_eq!(stats["completed_events"], 1);
    assert_eq!(stats["cancelled_events"], 1);
    assert_eq!(
        stats["events_by_category"],
        json!({"STUDY": 1, "WORK": 2, "HEALTH": 1, "LIFE": 1})
    );
    assert_eq!(
        stats["events_by_type"],
        json!({"schedule": 2, "deadline": 1, "habit": 1, "reminder": 1})
    );
    assert_eq!(stats["profile_points"], 2);
    assert_eq!(
        stats["decision_confidence"],
        json!({"wake_time": 0.8, "likes_tea": 0.5})
    );
}

#[tokio::test]
async fn onboarding_is_needed_until_dismissed_for_that_user_only() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let other = app.user("UTC").await;
    let (status, s) = get(&app, user, "/api/v1/users/me/onboarding-status").await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&s, "onboarding_status.shape.json");
    assert_eq!(s, json!({"needs_onboarding": true}));
    let res = app
        .req(
            Method::POST,
            Some(user),
            "/api/v1/users/me/onboarding-status/dismiss",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let dismissed: Value = res.json().await.unwrap();
    assert_shape(&dismissed, "onboarding_dismiss.shape.json");
    assert_eq!(
        dismissed,
        json!({"status": "success", "needs_onboarding": false})
    );
    let (_, s) = get(&app, user, "/api/v1/users/me/onboarding-status").await;
    assert_eq!(s, json!({"needs_onboarding": false}));
    let (_, s) = get(&app, other, "/api/v1/users/me/onboarding-status").await;
    assert_eq!(s, json!({"needs_onboarding": true}));
    // Clearing the context later keeps the dismissal (one row, two columns).
    app.req(Method::POST, Some(user), "/api/v1/chat/clear_context")
        .send()
        .await
        .unwrap();
    let (_, s) = get(&app, user, "/api/v1/users/me/onboarding-status").await;
    assert_eq!(s, json!({"needs_onboarding": false}));
}

#[tokio::test]
async fn the_ai_identity_has_the_original_defaults_until_one_is_given() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let other = app.user("UTC").await;
    let (status, id) = get(&app, user, "/api/v1/users/me/ai-identity").await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&id, "ai_identity.shape.json");
    assert_eq!(id, fixture("ai_identity.defaults.json"));
    // What the assistant's identity tool stores: a blank vibe keeps the default.
    svc_chat::user_state::set_ai_identity(&app.db, user, "小雪", "❄️", " ")
        .await
        .unwrap();
    let (_, id) = get(&app, user, "/api/v1/users/me/ai-identity").await;
    let mut want = fixture("ai_identity.defaults.json");
    want["name"] = json!("小雪");
    want["emoji"] = json!("❄️");
    assert_eq!(id, want);
    let (_, s) = get(&app, user, "/api/v1/users/me/onboarding-status").await;
    assert_eq!(
        s,
        json!({"needs_onboarding": false}),
        "naming it ends onboarding"
    );
    let (_, theirs) = get(&app, other, "/api/v1/users/me/ai-identity").await;
    assert_eq!(theirs, fixture("ai_identity.defaults.json"));
}

#[tokio::test]
async fn after_clear_context_the_next_turn_is_sent_without_the_earlier_messages() {
    use wiremock::Mock;
    use wiremock::matchers::method;
    let app = spawn().await;
    let user = app.user("UTC").await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["好的"])))
        .mount(&app.model)
        .await;
    let res = app
        .chat(user, json!({"message": "remember the blue door"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let conv = res.json::<Value>().await.unwrap()["conversation_id"].clone();
    let res = app
        .req(Method::POST, Some(user), "/api/v1/chat/clear_context")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .chat(
            user,
            json!({"message": "what door?", "conversation_id": conv}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let calls = app.model.received_requests().await.unwrap();
    assert_eq!(calls.len(), 2);
    let second: Value = serde_json::from_slice(&calls[1].body).unwrap();
    let sent: Vec<_> = second["messages"].as_array().unwrap()[1..]
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["what door?"]);
    // The history still has all four.
    let (_, history) = get(&app, user, "/api/v1/messages/history").await;
    assert_eq!(
        contents(&history),
        ["好的", "what door?", "好的", "remember the blue door"]
    );
}
