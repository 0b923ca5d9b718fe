//! Long-term memory (#24): facts learnt in chat and nightly, in later prompts without a model
//! call, under the user's control, and gone from every prompt once forgotten.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use shared::entities::{diary, memory, message};
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// A fresh script for the model (what it answered before is forgotten).
async fn rescript(app: &TestApp, calls: &[(&str, Value)], text: &str) {
    app.model.reset().await;
    script(app, calls, text).await;
}

/// Every request body the model received, as text.
async fn sent_to_model(app: &TestApp) -> Vec<String> {
    app.model
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// The system prompt of the model's last request.
async fn last_system(app: &TestApp) -> String {
    let calls = app.model.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    body["messages"][0]["content"].as_str().unwrap().to_owned()
}

async fn facts(app: &TestApp, user: Uuid) -> Vec<Value> {
    let (status, body) = send(app, Method::GET, user, "/api/v1/memory", None).await;
    assert_eq!(status, StatusCode::OK);
    body["facts"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_fact_told_in_chat_is_kept_with_its_source_and_known_in_the_next_conversation() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    rescript(
        &app,
        &[(
            "remember",
            json!({"kind": "health", "content": "对青霉素过敏"}),
        )],
        "记住了。",
    )
    .await;
    let first: Value = app
        .chat(user, json!({"message": "我对青霉素过敏"}))
        .await
        .json()
        .await
        .unwrap();
    // A new user's first turn gets to know them.
    let calls = app.model.received_requests().await.unwrap();
    let first_prompt: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert!(
        first_prompt["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("This user is new"),
    );
    assert_eq!(first["actions"][0]["type"], "remember");
    let kept = facts(&app, user).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["content"], "对青霉素过敏");
    assert_eq!(kept[0]["kind"], "health");
    assert_eq!(kept[0]["origin"], "chat");
    let said = message::Entity::find()
        .filter(message::Column::Role.eq("user"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept[0]["source_message_ids"], json!([said.id]));

    // Another conversation, days later: the fact is in the prompt, health first; no extra
    // model call was made to find it.
    rescript(&app, &[], "好的").await;
    let _ = app
        .chat(user, json!({"message": "我嗓子疼，能吃点什么药"}))
        .await;
    assert_eq!(app.model.received_requests().await.unwrap().len(), 1);
    let system = last_system(&app).await;
    assert!(system.contains("(health) 对青霉素过敏"), "{system}");
    assert!(!system.contains("This user is new"), "not new any more");
    // Someone who has chatted before but told nothing lasting is not new either.
    let (_, forgot) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/memory/forget",
        Some(json!({"words": "青霉素"})),
    )
    .await;
    assert_eq!(forgot["forgotten"]["facts"].as_array().unwrap().len(), 1);
    rescript(&app, &[], "好的").await;
    let _ = app.chat(user, json!({"message": "你好"})).await;
    assert!(!last_system(&app).await.contains("This user is new"));
    assert!(system.contains("never diagnose"), "{system}");
}

#[tokio::test]
async fn the_nightly_job_consolidates_the_day_once_and_a_superseded_fact_leaves_the_prompt() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    // A fact kept before: the old dose.
    let (status, old) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/memory",
        Some(json!({"kind": "health", "content": "阿司匹林每天 100mg"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{old}");
    // The day's messages (09:00 Shanghai on 2026-11-21).
    for text in ["医生把阿司匹林改成每天 50mg 了", "我妹妹小雨下周来上海"] {
        shared::testing::insert_user_message(
            &app.db,
            user,
            "2026-11-21T01:00:00Z".parse().unwrap(),
            text,
        )
        .await
        .unwrap();
    }
    let said = message::Entity::find().all(&app.db).await.unwrap();
    let answer = json!({"operations": [
        {"op": "supersede", "id": old["id"], "content": "阿司匹林每天 50mg（医生 11 月 21 日改的）", "source_message_ids": [said[0].id]},
        {"op": "add", "kind": "person", "content": "妹妹叫小雨", "confidence": 0.9, "source_message_ids": [said[1].id, Uuid::now_v7()]},
        {"op": "drop", "id": Uuid::now_v7()},
        {"op": "add", "kind": "mood", "content": "开心"}
    ]});
    Mock::given(method("POST"))
        .and(body_string_contains("long-term memory"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(&answer.to_string())))
        .mount(&app.model)
        .await;
    let target = json!({"user_id": user, "date": "2026-11-21"});
    let run = || async {
        app.req(Method::POST, None, "/internal/profiles/daily")
            .json(&target)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    // The day's diary goes to the model with the messages.
    shared::entities::diary::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        diary_date: Set("2026-11-21".parse().unwrap()),
        summary: Set("医生调整了阿司匹林的剂量。".into()),
        key_insights: Set(json!([])),
        extracted_signals: Set(json!([])),
        conversation_count: Set(1),
        message_count: Set(2),
        created_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let first = run().await;
    assert_eq!(
        first["memory"],
        json!({"status": "done", "added": 1, "updated": 0, "superseded": 1, "dropped": 0, "ignored": 2}),
        "{first}"
    );
    // The model saw the kept facts and the day's messages with their ids.
    let asked = &sent_to_model(&app).await[0];
    assert!(asked.contains(old["id"].as_str().unwrap()) && asked.contains(&said[0].id.to_string()));
    assert!(
        asked.contains("Diary of 2026-11-21: 医生调整了阿司匹林的剂量。"),
        "{asked}"
    );
    // The job again: nothing asked, nothing changed.
    let second = run().await;
    assert_eq!(second["memory"]["status"], "exists");
    assert_eq!(app.model.received_requests().await.unwrap().len(), 1);
    let kept = facts(&app, user).await;
    let texts: Vec<&str> = kept
        .iter()
        .map(|f| f["content"].as_str().unwrap())
        .collect();
    assert_eq!(kept.len(), 2, "{texts:?}");
    assert!(texts.contains(&"阿司匹林每天 50mg（医生 11 月 21 日改的）"));
    let sister = kept.iter().find(|f| f["content"] == "妹妹叫小雨").unwrap();
    assert_eq!(
        sister["source_message_ids"],
        json!([said[1].id]),
        "unknown ids dropped"
    );
    assert_eq!(sister["learnt_on"], "2026-11-21");
    let newer = kept.iter().find(|f| f["kind"] == "health").unwrap();
    assert_eq!(newer["supersedes"], old["id"]);
    let (_, all) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/memory?include_history=true",
        None,
    )
    .await;
    let history = all["facts"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2]["status"], "superseded");
    // The prompt has the new dose and never the old one.
    rescript(&app, &[], "好的").await;
    let _ = app
        .chat(user, json!({"message": "阿司匹林我现在吃多少"}))
        .await;
    let system = last_system(&app).await;
    assert!(system.contains("阿司匹林每天 50mg"), "{system}");
    assert!(!system.contains("100mg"), "{system}");
}

#[tokio::test]
async fn forget_in_chat_reaches_facts_messages_and_diaries_and_no_later_prompt_has_the_words() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    rescript(
        &app,
        &[(
            "remember",
            json!({"kind": "health", "content": "有抑郁症，在吃舍曲林"}),
        )],
        "我记住了你在吃舍曲林。",
    )
    .await;
    let first: Value = app
        .chat(user, json!({"message": "我有抑郁症，在吃舍曲林"}))
        .await
        .json()
        .await
        .unwrap();
    // Yesterday's diary mentions it too.
    diary::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        diary_date: Set(Utc::now().date_naive() - chrono::Duration::days(1)),
        summary: Set("聊到了舍曲林的副作用。".into()),
        key_insights: Set(json!(["坚持吃舍曲林"])),
        extracted_signals: Set(json!([])),
        conversation_count: Set(1),
        message_count: Set(2),
        created_at: Set(Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    rescript(&app, &[], "好的").await;
    let _ = app.chat(user, json!({"message": "今天怎么样"})).await;
    assert!(
        last_system(&app).await.contains("舍曲林"),
        "remembered before"
    );

    // "忘掉舍曲林的事": the tool, then the model's next round in the same turn.
    rescript(
        &app,
        &[("forget", json!({"words": "舍曲林"}))],
        "好的，已经忘掉了。",
    )
    .await;
    let body: Value = app
        .chat(
            user,
            json!({"message": "忘掉舍曲林的事", "conversation_id": first["conversation_id"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["actions"][0]["type"], "forget");
    let rounds = sent_to_model(&app).await;
    assert_eq!(rounds.len(), 2);
    assert!(
        rounds[0].contains("舍曲林"),
        "the turn's first round had it"
    );
    assert!(!rounds[1].contains("舍曲林"), "{}", rounds[1]);
    assert!(facts(&app, user).await.is_empty());
    for m in message::Entity::find().all(&app.db).await.unwrap() {
        assert!(!m.content.contains("舍曲林"), "{}", m.content);
    }
    let d = diary::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(d.summary, "聊到了〔已遗忘〕的副作用。");
    assert_eq!(d.key_insights, json!(["坚持吃〔已遗忘〕"]));
    // Every prompt afterwards, in this conversation and a new one.
    rescript(&app, &[], "好的").await;
    let _ = app
        .chat(
            user,
            json!({"message": "我最近吃的药", "conversation_id": first["conversation_id"]}),
        )
        .await;
    let _ = app.chat(user, json!({"message": "我有什么病"})).await;
    for body in sent_to_model(&app).await {
        assert!(!body.contains("舍曲林"), "{body}");
    }
}

#[tokio::test]
async fn the_user_edits_and_deletes_facts_and_bad_input_is_refused_clearly() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let stranger = app.user("UTC").await;
    let (status, fact) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/memory",
        Some(json!({"kind": "place", "content": "住在杭州"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(fact["origin"], "user");
    let id = fact["id"].as_str().unwrap().to_owned();
    let (status, edited) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/memory/{id}"),
        Some(json!({"content": "搬到上海了"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(edited["content"], "搬到上海了");
    assert_eq!(edited["kind"], "place");
    for (body, starts) in [
        (json!({"kind": "mood", "content": "开心"}), "kind 只能是"),
        (
            json!({"kind": "other", "content": ""}),
            "内容需要 1 到 200 个字",
        ),
    ] {
        let (status, err) = send(&app, Method::POST, user, "/api/v1/memory", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            err["message"].as_str().unwrap().starts_with(starts),
            "{err}"
        );
    }
    let (status, err) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/memory/forget",
        Some(json!({"words": "上"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // Someone else's fact is not found, for reading, editing and deleting.
    for m in [Method::PUT, Method::DELETE] {
        let (status, err) = send(
            &app,
            m,
            stranger,
            &format!("/api/v1/memory/{id}"),
            Some(json!({"content": "x"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(err["code"], "memory_not_found");
    }
    assert!(facts(&app, stranger).await.is_empty());
    let (status, done) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/memory/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["forgotten"]["facts"], json!([id]));
    assert!(facts(&app, user).await.is_empty());
    assert!(
        memory::Entity::find_by_id(id.parse::<Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_assistant_is_who_the_user_named_it() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    rescript(
        &app,
        &[(
            "set_identity",
            json!({"name": "小布", "emoji": "🐻", "vibe": "话少但靠谱"}),
        )],
        "以后叫我小布吧！",
    )
    .await;
    let _ = app
        .chat(user, json!({"message": "给你起个名字叫小布"}))
        .await;
    let (_, me) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/users/me/ai-identity",
        None,
    )
    .await;
    assert_eq!(me["name"], "小布");
    assert_eq!(me["emoji"], "🐻");
    rescript(&app, &[], "在呢").await;
    let _ = app.chat(user, json!({"message": "小布在吗"})).await;
    assert!(
        last_system(&app).await.starts_with(
            "You are 小布 🐻, the user's personal assistant and companion (话少但靠谱)."
        )
    );
    let (status, me) = send(
        &app,
        Method::PUT,
        user,
        "/api/v1/users/me/ai-identity",
        Some(json!({"name": "阿福"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "阿福");
    let (status, _) = send(
        &app,
        Method::PUT,
        user,
        "/api/v1/users/me/ai-identity",
        Some(json!({"name": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_long_conversation_is_summarised_after_its_turn_and_the_summary_replaces_the_old_lines() {
    use shared::entities::conversation_summary;
    let app = spawn_with(|s| s.chat.history_tokens = 30).await;
    let user = app.user("Asia/Shanghai").await;
    // The summary call answers slowly: no turn may wait for it.
    Mock::given(method("POST"))
        .and(body_string_contains("Summarise the earlier part"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("用户 12 月 20 日去成都出差，要订酒店。"))
                .set_delay(std::time::Duration::from_millis(1500)),
        )
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["好的，记下了。"])))
        .mount(&app.model)
        .await;
    let mut conversation = Value::Null;
    for i in 1..=6 {
        let started = std::time::Instant::now();
        let body: Value = app
            .chat(
                user,
                json!({"message": format!("第{i}件事：下周要记得准备项目评审的材料和预算表"), "conversation_id": conversation}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_millis(1000),
            "turn {i} took {:?}: it waited for the summary",
            started.elapsed()
        );
        conversation = body["conversation_id"].clone();
    }
    let mut row = None;
    for _ in 0..100 {
        row = conversation_summary::Entity::find()
            .one(&app.db)
            .await
            .unwrap();
        if row.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let row = row.expect("the summary was written after the turn");
    assert_eq!(row.summary, "用户 12 月 20 日去成都出差，要订酒店。");
    assert!(row.message_count >= 6, "{}", row.message_count);
    // The summary call saw the older messages with their dates.
    let asked = sent_to_model(&app)
        .await
        .into_iter()
        .find(|b| b.contains("Summarise the earlier part"))
        .unwrap();
    assert!(asked.contains("第1件事"), "{asked}");
    // The next turn's prompt has the summary instead of the lines it covers.
    let _ = app
        .chat(
            user,
            json!({"message": "第7件事", "conversation_id": conversation}),
        )
        .await;
    let system = last_system(&app).await;
    assert!(
        system.contains("summarised):\n用户 12 月 20 日去成都出差"),
        "{system}"
    );
    assert!(!system.contains("第1件事"), "{system}");
    // Forgetting reaches the summary too.
    let (status, _) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/memory/forget",
        Some(json!({"words": "成都"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let row = conversation_summary::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.summary, "用户 12 月 20 日去〔已遗忘〕出差，要订酒店。");
}

#[tokio::test]
async fn facts_written_at_once_all_reach_the_prompt() {
    // A prompt reads the user's facts from one digest row that every write rewrites in its
    // transaction: writers at the same time must not lose each other's fact there.
    let app = spawn().await;
    let user = app.user("UTC").await;
    let writes = (0..8).map(|i| {
        send(
            &app,
            Method::POST,
            user,
            "/api/v1/memory",
            Some(json!({"kind": "preference", "content": format!("喜欢第{i}号口味")})),
        )
    });
    for (status, body) in futures_util::future::join_all(writes).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    rescript(&app, &[], "好的").await;
    let _ = app.chat(user, json!({"message": "我喜欢什么口味"})).await;
    let system = last_system(&app).await;
    for i in 0..8 {
        assert!(
            system.contains(&format!("喜欢第{i}号口味")),
            "{i}: {system}"
        );
    }
}
