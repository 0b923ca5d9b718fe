use std::time::Duration;

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::{chat_usage, event, message};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn the_tool_loop_creates_a_real_event_and_undo_removes_it() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let args = json!({"title": "牙医复诊", "start_time": "2026-11-25T15:00:00+08:00", "duration": 60, "category": "HEALTH", "event_type": "schedule"});
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(sse_response(sse_tool_call("create_event", &args)))
        .up_to_n_times(1)
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(sse_response(sse_text(&["好的，", "已经帮你记下了。"])))
        .mount(&app.model)
        .await;

    let res = app
        .chat(
            user,
            json!({"message": "周三下午三点去看牙医", "user_id": "ignored"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["reply"], "好的，已经帮你记下了。");
    let actions = body["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["type"], "create_event");
    let event_id: uuid::Uuid = actions[0]["event_id"].as_str().unwrap().parse().unwrap();
    let row = event::Entity::find_by_id(event_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, user);
    assert_eq!(row.title, "牙医复诊");
    assert_eq!(
        row.start_time.unwrap().to_rfc3339(),
        "2026-11-25T07:00:00+00:00"
    );
    assert_eq!(row.duration, Some(60));
    assert_eq!(row.event_type, event::EventType::Schedule);
    assert_eq!(row.category, event::Category::Health);
    // Written by the model: the original's bookkeeping says so.
    assert_eq!(row.created_by, "agent");
    assert!(row.ai_confidence < 1.0);
    // The day it belongs to, in the user's zone.
    assert_eq!(
        row.event_date.unwrap().to_rfc3339(),
        "2026-11-24T16:00:00+00:00"
    );
    assert!(body["snapshot_id"].is_string(), "{body}");
    assert_eq!(
        actions[0]["event"]["start_time"],
        "2026-11-25T15:00:00+08:00"
    );

    // What the model got: plain string contents, the tool result, no reasoning echoed back.
    let calls = app.model.received_requests().await.unwrap();
    assert_eq!(calls.len(), 2);
    let second: Value = serde_json::from_slice(&calls[1].body).unwrap();
    let msgs = second["messages"].as_array().unwrap();
    assert!(
        msgs.iter().all(|m| m["content"].is_string()),
        "content is always a string"
    );
    assert!(msgs.iter().all(|m| m.get("reasoning_content").is_none()));
    let tool = msgs.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(tool["tool_call_id"], "call_1");
    assert!(tool["content"].as_str().unwrap().contains("牙医复诊"));
    let system = msgs[0]["content"].as_str().unwrap();
    assert!(system.contains("Asia/Shanghai"), "{system}");

    // A snapshot; undo restores the events exactly (the new one is gone).
    let snaps: Value = app
        .req(Method::GET, Some(user), "/api/v1/snapshots")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(snaps.as_array().unwrap().len(), 1);
    let spec = crate::contract::fixture("snapshot_response");
    crate::contract::check_fields("snapshot", &snaps[0], &spec["fields"]);
    assert_eq!(snaps[0]["id"], body["snapshot_id"]);
    assert_eq!(snaps[0]["trigger_message"], "周三下午三点去看牙医");
    let change = &snaps[0]["changes"][0];
    crate::contract::check_fields("change", change, &spec["change"]);
    assert_eq!(change["action"], "create");
    assert_eq!(change["before"], Value::Null);
    crate::contract::check_event(&change["after"]);
    let res = app
        .req(Method::POST, Some(user), "/api/v1/snapshots/undo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let undone: Value = res.json().await.unwrap();
    crate::contract::check_fields("revert", &undone, &spec["revert"]);
    assert_eq!(undone["snapshot_id"], body["snapshot_id"]);
    assert_eq!(undone["reverted_events"], json!([event_id]));
    assert!(
        event::Entity::find_by_id(event_id)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    let res = app
        .req(Method::POST, Some(user), "/api/v1/snapshots/undo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The conversation holds the user's message and the reply.
    let conv = body["conversation_id"].as_str().unwrap();
    let msgs: Value = app
        .req(
            Method::GET,
            Some(user),
            &format!("/api/v1/conversations/{conv}/messages"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles: Vec<&str> = msgs
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant"]);
}

#[tokio::test]
async fn revert_restores_an_updated_event_exactly() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let created: Value = app.req(Method::POST, Some(user), "/api/v1/events")
        .json(&json!({"title": "Gym", "start_time": "2026-11-25T18:00:00Z", "category": "HEALTH", "tags": ["a"]}))
        .send().await.unwrap().json().await.unwrap();
    let id = created["event"]["id"].as_str().unwrap();
    let before = event::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_tool_call(
            "update_event",
            &json!({"event_id": id, "title": "Swim", "location": "Pool"}),
        )))
        .up_to_n_times(1)
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["Done."])))
        .mount(&app.model)
        .await;
    let body: Value = app
        .chat(user, json!({"message": "make it swimming at the pool"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["actions"][0]["type"], "update_event");
    let snaps: Value = app
        .req(Method::GET, Some(user), "/api/v1/snapshots")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let snap = snaps[0]["id"].as_str().unwrap();
    let res = app
        .req(
            Method::POST,
            Some(user),
            &format!("/api/v1/snapshots/{snap}/revert"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let after = event::Entity::find_by_id(before.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(after.changed_at > before.changed_at, "restamped for /sync");
    let after = event::Model {
        changed_at: before.changed_at,
        ..after
    };
    assert_eq!(after, before, "every other column as it was");
}

#[tokio::test]
async fn streaming_sends_deltas_in_order_then_the_full_body() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["你", "好", "！"])))
        .mount(&app.model)
        .await;
    let res = app
        .req(Method::POST, Some(user), "/api/v1/chat")
        .header("accept", "text/event-stream")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = parse_sse(&res.text().await.unwrap());
    // Pieces that arrive faster than the client reads go out together, in order.
    let deltas: String = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "你好！");
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done");
    assert_eq!(done["reply"], "你好！");
    assert!(done["conversation_id"].is_string());
    assert_eq!(done["actions"], json!([]));
}

#[tokio::test]
async fn quota_failures_and_a_missing_key_answer_in_the_envelope() {
    let app = spawn_with(|s| s.chat.daily_quota = 1).await;
    let user = app.user("UTC").await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["ok"])))
        .mount(&app.model)
        .await;
    assert_eq!(
        app.chat(user, json!({"message": "one"})).await.status(),
        StatusCode::OK
    );
    let res = app.chat(user, json!({"message": "two"})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "quota_exceeded");
    assert_eq!(app.model.received_requests().await.unwrap().len(), 1);
    // Another user has their own quota.
    let other = app.user("UTC").await;
    assert_eq!(
        app.chat(other, json!({"message": "hi"})).await.status(),
        StatusCode::OK
    );

    // The model fails: 502, the message kept. Too slow: 504.
    let app = spawn().await;
    let user = app.user("UTC").await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.model)
        .await;
    let res = app.chat(user, json!({"message": "are you there?"})).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "llm_failed");
    let kept = message::Entity::find()
        .filter(message::Column::Content.eq("are you there?"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    app.model.reset().await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["late"])).set_delay(Duration::from_secs(4)))
        .mount(&app.model)
        .await;
    let res = app.chat(user, json!({"message": "hello?"})).await;
    assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);

    let app = spawn_with(|s| s.llm_chat.api_key = None).await;
    let user = app.user("UTC").await;
    let res = app.chat(user, json!({"message": "hi"})).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "llm_not_configured");
    // Everything else works without a key.
    let res = app
        .req(Method::POST, Some(user), "/api/v1/conversations")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.chat(user, json!({"message": ""})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_model_behind_a_private_ca_is_reached_with_ca_file_and_streams_share_one_http2_connection()
 {
    // Tokens 100 ms apart: three answers at once overlap for a while.
    let model = shared::testing::TlsModel::start(3, 100).unwrap();
    let (url, ca) = (model.url.clone(), model.ca_file.clone());
    let app = spawn_with(move |s| {
        s.llm_chat.base_url = url;
        s.llm_chat.ca_file = Some(ca);
    })
    .await;
    let user = app.user("UTC").await;
    let res = app.chat(user, json!({"message": "hi"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["reply"].as_str().unwrap().trim(), "t0 t1 t2");

    // Three streamed chats at once, over the connection the first one opened.
    let started = std::time::Instant::now();
    let replies = futures_util::future::join_all((0..3).map(|i| {
        app.req(Method::POST, Some(user), "/api/v1/chat")
            .json(&json!({"message": format!("again {i}"), "stream": true}))
            .send()
    }))
    .await;
    for res in replies {
        let res = res.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let events = parse_sse(&res.text().await.unwrap());
        let (last, done) = events.last().unwrap();
        assert_eq!(last, "done");
        assert_eq!(done["reply"].as_str().unwrap().trim(), "t0 t1 t2");
    }
    assert!(
        started.elapsed() < Duration::from_millis(4 * 400),
        "the three answers streamed side by side, not one after another"
    );
    let (requests, connections, all_h2) = model.seen();
    assert_eq!(requests, 4);
    assert!(all_h2, "ALPN chose HTTP/2");
    assert_eq!(connections, 1, "one connection carried every stream");

    // Without the CA, the certificate is not trusted: 502 in the envelope, the message kept.
    let url = model.url.clone();
    let untrusting = spawn_with(move |s| s.llm_chat.base_url = url).await;
    let user = untrusting.user("UTC").await;
    let res = untrusting
        .chat(user, json!({"message": "who signed this?"}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "llm_failed");
    assert_eq!(model.seen().0, 4, "no request got through the handshake");
    let kept = message::Entity::find()
        .filter(message::Column::Content.eq("who signed this?"))
        .count(&untrusting.db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn a_ca_file_that_cannot_be_used_stops_the_service_from_starting_and_names_the_setting() {
    let database = shared::testing::TestDatabase::create().await.unwrap();
    let not_pem = std::env::temp_dir().join(format!("not-a-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&not_pem, "hello, I am not a certificate\n").unwrap();
    for (path, expected) in [
        (
            std::path::PathBuf::from("/nonexistent/ca.pem"),
            "cannot read /nonexistent/ca.pem",
        ),
        (not_pem.clone(), "holds no certificate"),
    ] {
        // The model's CA, and the services' CA (svc-chat's calls to svc-drugs).
        for setting in ["llm_chat.ca_file", "services.ca_file"] {
            let mut settings = database.settings();
            if setting == "llm_chat.ca_file" {
                settings.llm_chat.ca_file = Some(path.clone());
            } else {
                settings.services.ca_file = Some(path.clone());
            }
            let Err(error) = svc_chat::startup::build(&settings).await else {
                panic!("started with an unusable {setting}");
            };
            let error = error.to_string();
            assert!(error.contains(setting), "{error}");
            assert!(error.contains(expected), "{error}");
        }
    }
    let _ = std::fs::remove_file(not_pem);
}

#[tokio::test]
async fn the_prompt_carries_the_conversation_within_the_token_budget_and_only_to_its_owner() {
    // 40 estimated tokens: a 100-letter message is 30 of them.
    let app = spawn_with(|s| s.chat.history_tokens = 40).await;
    let user = app.user("America/New_York").await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["好的"])))
        .mount(&app.model)
        .await;
    let (a, b, c) = ("a".repeat(100), "b".repeat(100), "c".repeat(100));
    let zone_date = || {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::America::New_York)
            .format("%Y-%m-%d")
            .to_string()
    };
    let before = zone_date();
    let res = app.chat(user, json!({"message": a})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let conv = res.json::<Value>().await.unwrap()["conversation_id"].clone();
    for text in [&b, &c] {
        let res = app
            .chat(user, json!({"message": text, "conversation_id": conv}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let after = zone_date();

    let calls = app.model.received_requests().await.unwrap();
    assert_eq!(calls.len(), 3);
    let third: Value = serde_json::from_slice(&calls[2].body).unwrap();
    let msgs = third["messages"].as_array().unwrap();
    // Newest first within the budget: 好的 (2) + b (30) + 好的 (2) fit, a (30 more) does not;
    // then the new message.
    let sent: Vec<(&str, &str)> = msgs[1..]
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sent,
        [
            ("assistant", "好的"),
            ("user", b.as_str()),
            ("assistant", "好的"),
            ("user", c.as_str()),
        ]
    );
    let system = msgs[0]["content"].as_str().unwrap();
    assert!(system.contains("time zone America/New_York"), "{system}");
    let summary = |date: &str| {
        format!(
            "Earlier in this conversation (summarised):\n[{date}] user: {}",
            &a[..80]
        )
    };
    assert!(
        system.ends_with(&summary(&before)) || system.ends_with(&summary(&after)),
        "{system}"
    );

    // Another user naming it starts a conversation of their own (the original started a new
    // one for an id it did not know): none of the owner's messages reach the model.
    let other = app.user("UTC").await;
    let res = app
        .chat(other, json!({"message": "hi", "conversation_id": conv}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_ne!(answer["conversation_id"], json!(conv));
    let calls = app.model.received_requests().await.unwrap();
    assert_eq!(calls.len(), 4);
    let sent: Value = serde_json::from_slice(&calls[3].body).unwrap();
    let msgs = sent["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "system and the new message only: {sent}");
    assert!(
        !msgs[0]["content"]
            .as_str()
            .unwrap()
            .contains("Earlier in this conversation")
    );
}

#[tokio::test]
async fn the_daily_quota_holds_when_turns_arrive_at_once() {
    // Room for all eight at once: the quota, not the turns-in-progress limit, decides.
    let app = spawn_with(|s| {
        s.chat.daily_quota = 3;
        s.chat.max_turns_in_progress = 16;
    })
    .await;
    let user = app.user("UTC").await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["ok"])))
        .mount(&app.model)
        .await;
    let turns = (0..8).map(|i| app.chat(user, json!({"message": format!("turn {i}")})));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(turns)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((ok, refused), (3, 5), "{statuses:?}");
    let usage = chat_usage::Entity::find()
        .filter(chat_usage::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].requests, 3);
    assert_eq!(app.model.received_requests().await.unwrap().len(), 3);
    // Every user message is kept, refused or not; three answers.
    let kept = |role: &'static str| {
        message::Entity::find()
            .filter(message::Column::UserId.eq(user))
            .filter(message::Column::Role.eq(role))
            .count(&app.db)
    };
    assert_eq!(kept("user").await.unwrap(), 8);
    assert_eq!(kept("assistant").await.unwrap(), 3);
}

#[tokio::test]
async fn a_streamed_turn_keeps_the_requests_id_and_trace_in_its_tool_calls_and_its_error() {
    // svc-drugs stands in as a recorder, to see what the cabinet tool sends it.
    let drugs = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/internal/cabinet"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
        .mount(&drugs)
        .await;
    let drugs_url = drugs.uri();
    let app = spawn_with(move |s| s.services.drugs = drugs_url).await;
    let user = app.user("Asia/Shanghai").await;
    // The model asks for the cabinet, then fails on the next round.
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_string_contains(
            "\"role\":\"tool\"",
        ))
        .respond_with(ResponseTemplate::new(500).set_body_string("down"))
        .with_priority(1)
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_tool_call(
            "get_medicine_cabinet",
            &json!({}),
        )))
        .with_priority(2)
        .mount(&app.model)
        .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = app
        .req(Method::POST, Some(user), "/api/v1/chat")
        .header("x-request-id", "req-streamed-1")
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({"message": "我的药箱", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let events = parse_sse(&res.text().await.unwrap());
    let (last, error) = events.last().unwrap();
    assert_eq!(last, "error", "{events:?}");
    assert_eq!(error["code"], "llm_failed");
    assert_eq!(error["request_id"], "req-streamed-1");

    let calls = drugs.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1);
    let headers = &calls[0].headers;
    assert_eq!(headers["x-request-id"], "req-streamed-1");
    let traceparent = headers["traceparent"].to_str().unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "the tool call continues the caller's trace: {traceparent}"
    );
}

/// The model answers with these tool calls, one per round, then with `text`.
#[tokio::test]
async fn the_apps_chat_request_gets_the_originals_answer_with_options_questions_and_results() {
    use crate::contract::{check_event, check_fields, fixture};
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let res = app
        .req(Method::POST, Some(user), "/api/v1/events")
        .json(&json!({"title": "写周报", "event_date": "2026-01-20T00:00:00", "time_period": "AFTERNOON"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    script(
        &app,
        &[
            ("query_events", json!({"start_date": "2026-01-20", "end_date": "2026-01-20"})),
            (
                "provide_suggestions",
                json!({"suggestions": [
                    {"label": "下午三点开始", "value": "15:00", "probability": 60},
                    {"label": "我自己定", "value": null, "description": "输入一个时间"}
                ]}),
            ),
            (
                "ask_user_questions",
                json!({"questions": [
                    {"id": "duration", "text": "大概要多久？", "type": "single_choice",
                     "options": [{"label": "半小时", "value": "30"}, {"label": "一小时", "value": "60"}]},
                    {"id": "note", "text": "要备注什么吗？", "type": "text_input", "placeholder": "可以不填"}
                ]}),
            ),
        ],
        "下午有一件事：写周报。",
    )
    .await;
    let res = app.chat(user, fixture("chat_request")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let spec = fixture("chat_response");
    check_fields("chat", &body, &spec["fields"]);
    assert_eq!(body["snapshot_id"], Value::Null, "nothing changed");
    let suggestions = body["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 2);
    for s in suggestions {
        check_fields("suggestion", s, &spec["suggestion"]);
    }
    assert_eq!(
        suggestions[0]["value"], "下午三点开始",
        "a value is its label"
    );
    assert_eq!(suggestions[0]["probability"], 60);
    assert_eq!(suggestions[1]["value"], Value::Null);
    let questions = body["questions"].as_array().unwrap();
    for q in questions {
        check_fields("question", q, &spec["question"]);
    }
    assert_eq!(
        questions[0]["options"][1],
        json!({"label": "一小时", "value": "一小时"})
    );
    assert_eq!(questions[1]["options"], Value::Null);
    let results = body["query_results"].as_array().unwrap();
    check_fields("query_result", &results[0], &spec["query_result"]);
    assert_eq!(results[0]["type"], "events");
    assert_eq!(results[0]["count"], 1);
    check_event(&results[0]["events"][0]);
    assert_eq!(results[0]["events"][0]["title"], "写周报");
    // The app's current_time (its local time) reached the prompt.
    let calls = app.model.received_requests().await.unwrap();
    let first: Value = serde_json::from_slice(&calls[0].body).unwrap();
    let system = first["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("Current time: 2026-01-20 09:30"),
        "{system}"
    );
}

#[tokio::test]
async fn a_malformed_suggestion_goes_back_to_the_model_and_never_to_the_app() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    script(
        &app,
        &[(
            "provide_suggestions",
            json!({"suggestions": [{"label": "only one"}]}),
        )],
        "Which day?",
    )
    .await;
    let res = app
        .chat(
            user,
            json!({"message": "plan something", "current_time": "2026-01-20T09:30:00Z"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["suggestions"], Value::Null);
    assert_eq!(body["questions"], Value::Null);
    let calls = app.model.received_requests().await.unwrap();
    let second: Value = serde_json::from_slice(&calls[1].body).unwrap();
    let tool_answer = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap();
    assert!(
        tool_answer["content"].as_str().unwrap().contains("2 to 4"),
        "{tool_answer}"
    );
    // A current_time that is no time is refused before the model is asked.
    let res = app
        .chat(user, json!({"message": "hi", "current_time": "teatime"}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.model.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn feedback_on_an_assistant_message_is_kept_and_only_for_ones_own() {
    use shared::entities::chat_feedback;
    let app = spawn().await;
    let user = app.user("UTC").await;
    script(&app, &[], "Sure.").await;
    let body: Value = app
        .chat(user, json!({"message": "hello"}))
        .await
        .json()
        .await
        .unwrap();
    let conv = body["conversation_id"].as_str().unwrap();
    let msgs: Value = app
        .req(
            Method::GET,
            Some(user),
            &format!("/api/v1/conversations/{conv}/messages"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (mine, reply) = (
        msgs[0]["id"].as_str().unwrap(),
        msgs[1]["id"].as_str().unwrap(),
    );
    let send = |who: uuid::Uuid, b: Value| {
        app.req(Method::POST, Some(who), "/api/v1/chat/feedback")
            .json(&b)
            .send()
    };
    // The original's body, user_id included.
    let res = send(
        user,
        json!({"user_id": "x", "message_id": reply, "rating": 2, "comment": "太慢了"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ok: Value = res.json().await.unwrap();
    assert_eq!(ok["status"], "success");
    // Rated again: the new rating replaces the old.
    send(user, json!({"message_id": reply, "rating": 5}))
        .await
        .unwrap();
    let rows = chat_feedback::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].rating, rows[0].comment.as_deref()), (5, None));
    let other = app.user("UTC").await;
    for (who, b, status) in [
        (
            other,
            json!({"message_id": reply, "rating": 1}),
            StatusCode::NOT_FOUND,
        ),
        (
            user,
            json!({"message_id": mine, "rating": 1}),
            StatusCode::NOT_FOUND,
        ),
        (
            user,
            json!({"message_id": reply, "rating": 6}),
            StatusCode::BAD_REQUEST,
        ),
        (
            user,
            json!({"message_id": "nope", "rating": 3}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let res = send(who, b.clone()).await.unwrap();
        assert_eq!(res.status(), status, "{b}");
    }
}

#[tokio::test]
async fn a_turn_that_fails_after_changing_events_still_leaves_its_snapshot_to_undo() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_tool_call(
            "create_event",
            &json!({"title": "Dentist", "start_time": "2026-11-25T15:00:00Z"}),
        )))
        .up_to_n_times(1)
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&app.model)
        .await;
    let res = app.chat(user, json!({"message": "book the dentist"})).await;
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let made = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(made.len(), 1, "the tool ran before the model failed");
    let res = app
        .req(Method::POST, Some(user), "/api/v1/snapshots/undo")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let left = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "undone");
}

#[tokio::test]
async fn a_user_cannot_hold_more_chat_turns_open_than_the_limit() {
    // A slow model keeps the first turn's stream open; the limit is one turn at a time.
    let slow = slow_model(40, Duration::from_millis(25)).await;
    let url = slow.url.clone();
    let app = spawn_with(move |s| {
        s.llm_chat.base_url = url;
        s.chat.max_turns_in_progress = 1;
    })
    .await;
    let (user, other) = (app.user("UTC").await, app.user("UTC").await);
    let open = |who| {
        app.req(Method::POST, Some(who), "/api/v1/chat")
            .json(&json!({"message": "tell me a long story", "stream": true}))
            .send()
    };
    let mut first = open(user).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    // The stream opens with its id, then the text comes.
    let chunk = first.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&chunk).starts_with("id: "));

    let second = open(user).await.unwrap();
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(second.headers().contains_key("retry-after"));
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("你已有 1 个对话正在进行"),
        "{body}"
    );
    // A plain turn counts too; another user does not.
    let plain = app.chat(user, json!({"message": "hi"})).await;
    assert_eq!(plain.status(), StatusCode::TOO_MANY_REQUESTS);
    let mut theirs = open(other).await.unwrap();
    assert_eq!(theirs.status(), StatusCode::OK);
    drop(theirs.chunk().await);

    // When the first turn ends, its slot is free again.
    while first.chunk().await.unwrap().is_some() {}
    let mut again = None;
    for _ in 0..100 {
        let res = open(user).await.unwrap();
        if res.status() == StatusCode::OK {
            again = Some(res);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the finished turn gave its slot back");
}

/// A model over raw TCP: the first request gets `first` (a whole SSE answer); every later one
/// gets the head and one text chunk, then the connection is reset (RST), mid-answer.
async fn model_that_resets_its_second_answer(first: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answered = answered.clone();
            let first = first.clone();
            tokio::spawn(async move {
                // Read the request: its head, then Content-Length bytes of body.
                let mut got = Vec::new();
                let mut buf = vec![0u8; 65536];
                loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_lowercase();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let length: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if got.len() >= head_end + 4 + length {
                            break;
                        }
                    }
                }
                let n = answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n == 0 {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n",
                        first.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(first.as_bytes()).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                let event = "data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"好的，\"}}]}\n\n";
                let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(chunk.as_bytes()).await;
                let _ = sock.flush().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = sock.set_zero_linger();
                drop(sock);
            });
        }
    });
    url
}

#[tokio::test]
async fn a_model_that_resets_mid_tool_round_leaves_a_turn_that_undo_reverts_exactly() {
    let args = json!({"title": "牙医复诊", "start_time": "2026-11-25T15:00:00+08:00", "duration": 60, "category": "HEALTH", "event_type": "schedule"});
    let url = model_that_resets_its_second_answer(sse_tool_call("create_event", &args)).await;
    let app = spawn_with(move |s| s.llm_chat.base_url = url).await;
    let user = app.user("Asia/Shanghai").await;
    // An event the user has already, which the turn must leave as it is.
    let (status, kept) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/events",
        Some(json!({"title": "体检", "event_date": "2026-11-26"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    let events_of_user = || async {
        let mut rows = event::Entity::find()
            .filter(event::Column::UserId.eq(user))
            .all(&app.db)
            .await
            .unwrap();
        rows.sort_by_key(|e| e.id);
        rows
    };
    let before = events_of_user().await;

    let res = app
        .chat(
            user,
            json!({"message": "周三下午三点去看牙医", "stream": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let events = parse_sse(&res.text().await.unwrap());
    let (kind, error) = events.last().unwrap();
    assert_eq!(kind, "error", "{events:?}");
    assert_eq!(error["code"], "llm_failed", "{error}");

    // The tool's change is there, with a snapshot naming it: consistent, and undoable.
    let during = events_of_user().await;
    assert_eq!(during.len(), before.len() + 1);
    let made = during
        .iter()
        .find(|e| e.title == "牙医复诊")
        .expect("the tool's event");
    let (_, snaps) = send(&app, Method::GET, user, "/api/v1/snapshots", None).await;
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{snaps}");
    assert_eq!(snaps[0]["trigger_message"], "周三下午三点去看牙医");
    assert_eq!(snaps[0]["changes"][0]["event_id"], made.id.to_string());
    // No half answer was stored as the assistant's.
    let answers = message::Entity::find()
        .filter(message::Column::UserId.eq(user))
        .filter(message::Column::Role.eq("assistant"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(answers, 0);

    let (status, undone) = send(&app, Method::POST, user, "/api/v1/snapshots/undo", None).await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(
        events_of_user().await,
        before,
        "undo restores the events exactly"
    );
}
