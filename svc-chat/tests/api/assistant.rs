//! The assistant that can be trusted (#24): resumable streams, the time tool, undo in chat and
//! destructive actions that wait for the user's yes.

use std::time::Duration;

use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use shared::entities::{chat_turn, event, message, pending_action, snapshot};
use uuid::Uuid;
use wiremock::Mock;
use wiremock::matchers::method;

use crate::helpers::*;

/// An SSE event as the wire has it: its id, name and data (a comment is `(None, ":", …)`).
#[derive(Debug, Clone)]
struct Frame {
    id: Option<String>,
    event: String,
    data: Value,
}

fn frames(text: &str) -> Vec<Frame> {
    text.split("\n\n")
        .filter(|b| !b.is_empty())
        .map(|block| {
            let mut f = Frame {
                id: None,
                event: String::new(),
                data: Value::Null,
            };
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    f.id = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    f.event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    f.data = serde_json::from_str(v).unwrap();
                } else if line.starts_with(':') {
                    f.event = ":".into();
                }
            }
            f
        })
        .collect()
}

/// Read a streamed answer until `keep` delta events have arrived (or the end), then hang up:
/// what was read, as frames.
async fn read_then_leave(mut res: reqwest::Response, keep: usize) -> Vec<Frame> {
    let mut buf = String::new();
    loop {
        let got = frames(&buf);
        let deltas = got.iter().filter(|f| f.event == "delta").count();
        let ended = got.iter().any(|f| f.event == "done" || f.event == "error");
        // Only whole events count: the buffer ends at an event's end.
        if buf.ends_with("\n\n") && (deltas >= keep || ended) {
            return got;
        }
        match res.chunk().await.unwrap() {
            Some(c) => buf.push_str(std::str::from_utf8(&c).unwrap()),
            None => return frames(&buf),
        }
    }
}

fn last_id(got: &[Frame]) -> String {
    got.iter()
        .rev()
        .find_map(|f| f.id.clone())
        .expect("an event id")
}

fn text_of(got: &[Frame]) -> String {
    got.iter()
        .filter(|f| f.event == "delta")
        .map(|f| f.data["text"].as_str().unwrap())
        .collect()
}

async fn stored_replies(app: &TestApp) -> Vec<String> {
    message::Entity::find()
        .filter(message::Column::Role.eq("assistant"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect()
}

fn open_stream(app: &TestApp, user: Uuid, text: &str) -> reqwest::RequestBuilder {
    app.req(Method::POST, Some(user), "/api/v1/chat")
        .json(&json!({"message": text, "stream": true}))
}

fn resume(app: &TestApp, user: Uuid, id: &str) -> reqwest::RequestBuilder {
    app.req(Method::GET, Some(user), "/api/v1/chat/resume")
        .header("last-event-id", id)
}

#[tokio::test]
async fn a_client_that_leaves_and_comes_back_gets_the_rest_once_and_the_turn_is_stored() {
    let slow = slow_model(30, Duration::from_millis(15)).await;
    let url = slow.url.clone();
    let app = spawn_with(move |s| s.llm_chat.base_url = url).await;
    let user = app.user("UTC").await;
    let res = open_stream(&app, user, "tell me a long story")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let first = read_then_leave(res, 3).await;
    // The stream opens with an id alone, then each delta has one: <turn>:<bytes so far>.
    let opening = first[0].id.clone().unwrap();
    assert!(opening.ends_with(":0"), "{opening}");
    let turn = opening.trim_end_matches(":0").to_owned();
    let mut bytes = 0;
    for f in first.iter().filter(|f| f.event == "delta") {
        bytes += f.data["text"].as_str().unwrap().len();
        assert_eq!(f.id.as_deref(), Some(format!("{turn}:{bytes}").as_str()));
    }
    // Gone. The model goes on to the end and the turn is stored.
    let mut stored = Vec::new();
    for _ in 0..200 {
        stored = stored_replies(&app).await;
        if !stored.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(slow.completed.load(std::sync::atomic::Ordering::SeqCst));
    assert!(!slow.aborted.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(stored.len(), 1, "the turn finished without its client");
    // Back, with the last id it had, by the resume route and by sending the request again.
    let res = resume(&app, user, &last_id(&first)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rest = frames(&res.text().await.unwrap());
    let again = open_stream(&app, user, "tell me a long story")
        .header("last-event-id", last_id(&first))
        .send()
        .await
        .unwrap();
    let rest_again = frames(&again.text().await.unwrap());
    for rest in [&rest, &rest_again] {
        let whole = format!("{}{}", text_of(&first), text_of(rest));
        assert_eq!(whole, stored[0], "nothing lost, nothing twice");
        let done = rest.last().unwrap();
        assert_eq!(done.event, "done");
        assert_eq!(done.id.as_deref(), Some(format!("{turn}:end").as_str()));
        assert_eq!(done.data["reply"], stored[0].as_str());
    }
    let turns = chat_turn::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].status, "done");
    // Sending the request again did not start a second turn.
    assert_eq!(stored_replies(&app).await.len(), 1);
    assert_eq!(
        message::Entity::find()
            .filter(message::Column::Role.eq("user"))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn another_instance_takes_up_a_stream_while_the_turn_runs_elsewhere() {
    let slow = slow_model(40, Duration::from_millis(25)).await;
    let url = slow.url.clone();
    let app = spawn_with(move |s| s.llm_chat.base_url = url).await;
    let other = app.another_instance().await;
    let user = app.user("UTC").await;
    let res = open_stream(&app, user, "a story").send().await.unwrap();
    let first = read_then_leave(res, 2).await;
    // The turn still runs on the first instance; the second reads its row until it ends.
    let res = resume(&other, user, &last_id(&first)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        !slow.completed.load(std::sync::atomic::Ordering::SeqCst),
        "resumed while the model was still writing"
    );
    let rest = frames(&res.text().await.unwrap());
    let stored = stored_replies(&app).await;
    assert_eq!(format!("{}{}", text_of(&first), text_of(&rest)), stored[0]);
    assert_eq!(rest.last().unwrap().event, "done");
    // Someone else's turn, an unknown one, a broken id, one past the text: refused up front.
    let stranger = app.user("UTC").await;
    let (status, body) = {
        let r = resume(&other, stranger, &last_id(&first))
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "turn_not_found");
    let r = resume(&app, user, &format!("{}:0", Uuid::now_v7()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = resume(&app, user, "not-an-id").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Last-Event-ID 不是"),
        "{body}"
    );
    let turn = last_id(&first).split(':').next().unwrap().to_owned();
    let r = resume(&app, user, &format!("{turn}:99999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Inside a multi-byte character (t0·药: byte 3 is inside "·").
    let r = resume(&app, user, &format!("{turn}:3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .req(Method::GET, Some(user), "/api/v1/chat/resume")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A client that had the end is told there is nothing more (an EventSource stops).
    let r = resume(&app, user, &format!("{turn}:end"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The query form, for clients that cannot set the header.
    let r = app
        .req(
            Method::GET,
            Some(user),
            &format!("/api/v1/chat/resume?last_event_id={turn}:0"),
        )
        .send()
        .await
        .unwrap();
    let all = frames(&r.text().await.unwrap());
    assert_eq!(text_of(&all), stored[0]);
}

#[tokio::test]
async fn a_quiet_stream_gets_a_heartbeat_and_a_failed_turn_resumes_as_its_error() {
    let slow = slow_model(3, Duration::from_millis(1300)).await;
    let url = slow.url.clone();
    let app = spawn_with(move |s| {
        s.llm_chat.base_url = url;
        s.llm_chat.timeout_secs = 10;
        s.chat.stream_heartbeat_secs = 1;
    })
    .await;
    let user = app.user("UTC").await;
    let res = open_stream(&app, user, "slowly").send().await.unwrap();
    let all = frames(&res.text().await.unwrap());
    let beats = all.iter().filter(|f| f.event == ":").count();
    assert!(beats >= 2, "a comment every second of silence: {all:?}");
    assert_eq!(all.last().unwrap().event, "done");

    // A model that fails: the error event is the end, and resuming gives it again.
    let app = spawn().await;
    let user = app.user("UTC").await;
    Mock::given(method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(500))
        .mount(&app.model)
        .await;
    let res = open_stream(&app, user, "hi").send().await.unwrap();
    let all = frames(&res.text().await.unwrap());
    let end = all.last().unwrap();
    assert_eq!(end.event, "error");
    assert_eq!(end.data["code"], "llm_failed");
    let turn = all[0].id.clone().unwrap();
    let r = resume(&app, user, &turn).send().await.unwrap();
    let again = frames(&r.text().await.unwrap());
    assert_eq!(again.last().unwrap().event, "error");
    assert_eq!(again.last().unwrap().data["code"], "llm_failed");
    let row = chat_turn::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "failed");
}

#[tokio::test]
async fn a_turn_whose_instance_stopped_is_reported_as_interrupted() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    // A row left running 20 minutes ago by an instance that is gone.
    let id = Uuid::now_v7();
    let then = chrono::Utc::now() - chrono::Duration::minutes(20);
    chat_turn::Entity::insert(chat_turn::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        status: Set("running".into()),
        result: Set(None),
        created_at: Set(then),
        updated_at: Set(then),
    })
    .exec(&app.db)
    .await
    .unwrap();
    let r = resume(&app, user, &format!("{id}:0")).send().await.unwrap();
    let all = frames(&r.text().await.unwrap());
    assert_eq!(all.last().unwrap().event, "error");
    assert_eq!(all.last().unwrap().data["code"], "turn_interrupted");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Wherever a stream is cut, however many times, the pieces put together are the stored
    /// answer: no gap, nothing twice.
    #[test]
    fn a_stream_cut_anywhere_any_number_of_times_adds_up_to_the_stored_answer(
        cuts in proptest::collection::vec(0usize..6, 0..4),
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let slow = slow_model(12, Duration::from_millis(8)).await;
            let url = slow.url.clone();
            let app = spawn_with(move |s| s.llm_chat.base_url = url).await;
            let user = app.user("UTC").await;
            let res = open_stream(&app, user, "story").send().await.unwrap();
            let mut got = Vec::new();
            let mut cuts = cuts.into_iter();
            let mut part = read_then_leave(res, cuts.next().unwrap_or(usize::MAX)).await;
            loop {
                got.extend(part.clone());
                if part.iter().any(|f| f.event == "done") {
                    break;
                }
                let res = resume(&app, user, &last_id(&got)).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                part = read_then_leave(res, cuts.next().unwrap_or(usize::MAX)).await;
            }
            let stored = stored_replies(&app).await;
            assert_eq!(stored.len(), 1);
            assert_eq!(text_of(&got), stored[0]);
            assert_eq!(got.last().unwrap().data["reply"], stored[0].as_str());
        });
    }
}

/// The tool answers the model was sent, in order.
async fn tool_answers(app: &TestApp) -> Vec<Value> {
    let calls = app.model.received_requests().await.unwrap();
    let last: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| serde_json::from_str(m["content"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn the_model_gets_relative_times_worked_out_in_the_users_zone() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    script(
        &app,
        &[
            ("resolve_time", json!({"phrase": "明天下午三点"})),
            ("resolve_time", json!({"phrase": "下周一"})),
            ("resolve_time", json!({"phrase": "月底"})),
            ("resolve_time", json!({"phrase": "随便什么时候"})),
        ],
        "好的",
    )
    .await;
    // Sunday 2026-12-06 21:00 in Shanghai, as the app sends its local time.
    let res = app
        .chat(
            user,
            json!({"message": "明天下午三点和下周一", "current_time": "2026-12-06 21:00:00"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let answers = tool_answers(&app).await;
    assert_eq!(answers[0]["date"], "2026-12-07");
    assert_eq!(answers[0]["time"], "15:00");
    assert_eq!(answers[0]["start"], "2026-12-07T15:00:00+08:00");
    assert_eq!(answers[0]["weekday"], "周一 (Mon)");
    assert_eq!(
        answers[1]["date"], "2026-12-07",
        "on a Sunday, next Monday is tomorrow"
    );
    assert_eq!(answers[1]["all_day"], true);
    assert_eq!(answers[2]["date"], "2026-12-31");
    assert!(
        answers[3]["error"]
            .as_str()
            .unwrap()
            .starts_with("无法识别时间")
    );
}

async fn an_event(app: &TestApp, user: Uuid, title: &str) -> Uuid {
    let (status, body) = send(
        app,
        Method::POST,
        user,
        "/api/v1/events",
        Some(json!({"title": title, "start_time": "2026-12-09T15:00:00", "end_time": "2026-12-09T16:00:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["event"]["id"].as_str().unwrap().parse().unwrap()
}

async fn event_exists(app: &TestApp, id: Uuid) -> bool {
    event::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn a_delete_waits_for_the_yes_and_the_yes_runs_exactly_that_delete_without_the_model() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let dentist = an_event(&app, user, "看牙医").await;
    let other = an_event(&app, user, "周会").await;
    script(
        &app,
        &[("delete_event", json!({"event_id": dentist.to_string()}))],
        "确定要删除周三下午三点的「看牙医」吗？",
    )
    .await;
    let res = app.chat(user, json!({"message": "把牙医删了"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(
        event_exists(&app, dentist).await,
        "nothing deleted before the yes"
    );
    assert_eq!(body["snapshot_id"], Value::Null);
    assert_eq!(body["actions"], json!([]));
    let pending = &body["pending_action"];
    assert_eq!(pending["tool"], "delete_event");
    assert_eq!(pending["arguments"]["event_id"], dentist.to_string());
    assert_eq!(
        pending["description"],
        "删除日程「看牙医」（12月9日 15:00）"
    );
    assert_eq!(body["suggestions"][0]["value"], "确认");
    assert_eq!(body["suggestions"][1]["value"], "取消");
    assert_eq!(
        tool_answers(&app).await[0]["status"],
        "awaiting_confirmation"
    );
    let conversation = body["conversation_id"].as_str().unwrap().to_owned();
    let model_calls = app.model.received_requests().await.unwrap().len();

    // The yes: exactly that delete, no model call.
    let res = app
        .chat(
            user,
            json!({"message": "确认", "conversation_id": conversation}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["reply"],
        "已完成：删除日程「看牙医」（12月9日 15:00）。"
    );
    assert!(!event_exists(&app, dentist).await);
    assert!(event_exists(&app, other).await);
    assert_eq!(
        app.model.received_requests().await.unwrap().len(),
        model_calls
    );
    assert_eq!(body["actions"][0]["type"], "delete_event");
    // Undoable like any turn's change.
    let snapshot: Uuid = body["snapshot_id"].as_str().unwrap().parse().unwrap();
    let row = snapshot::Entity::find_by_id(snapshot)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.summary, "删除日程「看牙医」（12月9日 15:00）");
    let action = pending_action::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(action.status, "done");
    // A second yes finds nothing waiting: it is an ordinary message for the model.
    let res = app
        .chat(
            user,
            json!({"message": "确认", "conversation_id": conversation}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(app.model.received_requests().await.unwrap().len() > model_calls);
    assert!(event_exists(&app, other).await);
}

#[tokio::test]
async fn a_no_or_a_late_yes_does_nothing_and_the_model_is_told() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let dentist = an_event(&app, user, "看牙医").await;
    script(
        &app,
        &[(
            "delete_event",
            json!({"event_id": dentist.to_string(), "scope": "all"}),
        )],
        "确定吗？",
    )
    .await;
    let body: Value = app
        .chat(user, json!({"message": "删掉牙医"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["pending_action"]["description"],
        "删除「看牙医」整个系列（所有日期）"
    );
    let conversation = body["conversation_id"].as_str().unwrap().to_owned();
    // Anything but a yes cancels it; the model hears that it was not done.
    let body: Value = app
        .chat(
            user,
            json!({"message": "算了，先不删", "conversation_id": conversation}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(event_exists(&app, dentist).await);
    assert_eq!(body["snapshot_id"], Value::Null);
    let calls = app.model.received_requests().await.unwrap();
    let last: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    let system = last["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("they did not say yes, so it was cancelled and NOT done"),
        "{system}"
    );
    let row = pending_action::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "cancelled");
    // Asked again, then the yes comes too late: nothing is done.
    app.model.reset().await;
    script(
        &app,
        &[("delete_event", json!({"event_id": dentist.to_string()}))],
        "确定吗？",
    )
    .await;
    let body: Value = app
        .chat(
            user,
            json!({"message": "还是删掉牙医吧", "conversation_id": conversation}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id: Uuid = body["pending_action"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    pending_action::Entity::update(pending_action::ActiveModel {
        id: Set(id),
        expires_at: Set(chrono::Utc::now() - chrono::Duration::seconds(1)),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    let _ = app
        .chat(
            user,
            json!({"message": "确认", "conversation_id": conversation}),
        )
        .await;
    assert!(event_exists(&app, dentist).await, "a late yes runs nothing");
    let row = pending_action::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "expired");
    // A yes in another conversation is not a yes to this one.
    let wrong = an_event(&app, user, "牙医复诊").await;
    app.model.reset().await;
    script(
        &app,
        &[("delete_event", json!({"event_id": wrong.to_string()}))],
        "确定吗？",
    )
    .await;
    let body: Value = app
        .chat(user, json!({"message": "删掉复诊"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["pending_action"].is_object());
    let _ = app.chat(user, json!({"message": "确认"})).await;
    assert!(event_exists(&app, wrong).await);
    // A wrong id is an error to the model now, not a question to the user.
    let app2 = spawn().await;
    let user2 = app2.user("UTC").await;
    script(
        &app2,
        &[(
            "delete_event",
            json!({"event_id": Uuid::now_v7().to_string()}),
        )],
        "没找到",
    )
    .await;
    let body: Value = app2
        .chat(user2, json!({"message": "delete it"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(body.get("pending_action").is_none(), "{body}");
    assert!(tool_answers(&app2).await[0]["error"].is_string());
}

#[tokio::test]
async fn undo_in_chat_takes_back_the_last_change_and_shows_it_and_several_wait_for_the_yes() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    script(
        &app,
        &[(
            "create_event",
            json!({"title": "跑步", "start_time": "2026-12-09T07:00:00"}),
        )],
        "已添加",
    )
    .await;
    let first: Value = app
        .chat(user, json!({"message": "周三早上七点跑步"}))
        .await
        .json()
        .await
        .unwrap();
    let created: Uuid = first["actions"][0]["event_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.model.reset().await;
    script(
        &app,
        &[(
            "create_event",
            json!({"title": "游泳", "start_time": "2026-12-10T07:00:00"}),
        )],
        "已添加",
    )
    .await;
    let second: Value = app
        .chat(user, json!({"message": "周四游泳"}))
        .await
        .json()
        .await
        .unwrap();
    let swim: Uuid = second["actions"][0]["event_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // "撤销刚才的操作": the latest change only, at once, with the snapshot in the answer.
    app.model.reset().await;
    script(&app, &[("undo_change", json!({}))], "已撤销").await;
    let body: Value = app
        .chat(user, json!({"message": "撤销刚才的操作"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(!event_exists(&app, swim).await);
    assert!(event_exists(&app, created).await);
    assert_eq!(body["actions"][0]["type"], "undo");
    let shown = &body["query_results"][0];
    assert_eq!(shown["type"], "snapshots");
    assert_eq!(shown["snapshots"][0]["id"], second["snapshot_id"]);
    assert_eq!(shown["snapshots"][0]["changes"][0]["action"], "create");
    assert_eq!(shown["snapshots"][0]["is_reverted"], true);
    // Reverting an older change that takes later ones with it waits for the yes.
    app.model.reset().await;
    script(
        &app,
        &[(
            "create_event",
            json!({"title": "瑜伽", "start_time": "2026-12-11T07:00:00"}),
        )],
        "已添加",
    )
    .await;
    let third: Value = app
        .chat(user, json!({"message": "周五瑜伽"}))
        .await
        .json()
        .await
        .unwrap();
    let yoga: Uuid = third["actions"][0]["event_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.model.reset().await;
    script(
        &app,
        &[("undo_change", json!({"snapshot_id": first["snapshot_id"]}))],
        "要撤销这两次修改吗？",
    )
    .await;
    let body: Value = app
        .chat(user, json!({"message": "把跑步那次以后的都撤销", "conversation_id": third["conversation_id"]}))
        .await
        .json()
        .await
        .unwrap();
    assert!(event_exists(&app, yoga).await && event_exists(&app, created).await);
    assert_eq!(body["pending_action"]["tool"], "undo_change");
    assert!(
        body["pending_action"]["description"]
            .as_str()
            .unwrap()
            .starts_with("撤销最近 2 次修改"),
        "{body}"
    );
    let body: Value = app
        .chat(
            user,
            json!({"message": "好的", "conversation_id": third["conversation_id"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["reply"].as_str().unwrap().starts_with("已完成"),
        "{body}"
    );
    assert!(!event_exists(&app, yoga).await && !event_exists(&app, created).await);
}

#[tokio::test]
async fn interactions_come_from_the_cabinets_table_and_the_persona_says_so() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    drugs_post(&app, user, "/api/v1/drugs", json!({"name": "华法林钠片"})).await;
    drugs_post(
        &app,
        user,
        "/api/v1/drugs",
        json!({"name": "布洛芬缓释胶囊"}),
    )
    .await;
    script(
        &app,
        &[("check_medicine_interactions", json!({}))],
        "表里说这两种药合用出血风险增加，请先问医生或药师。",
    )
    .await;
    let res = app
        .req(Method::POST, Some(user), "/api/v1/chat")
        .json(&json!({"message": "华法林和布洛芬能一起吃吗"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let requests = app.model.received_requests().await.unwrap();
    let first: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let system = first["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("check_medicine_interactions") && system.contains("never"));
    assert!(
        first["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["function"]["name"] == "check_medicine_interactions")
    );
    // The tool's answer handed to the model is the table's finding.
    let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let tool = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("the tool's answer");
    let content = tool["content"].as_str().unwrap();
    assert!(content.contains("\"severity\":\"major\""), "{content}");
    assert!(content.contains("warfarin") && content.contains("ibuprofen"));
}
