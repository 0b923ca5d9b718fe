//! `/sync`: changes since a cursor, deletions as tombstones, paged, and nothing skipped while
//! others write.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::event;
use uuid::Uuid;

use crate::contract::{check_event, check_fields, fixture};
use crate::helpers::*;

async fn sync(app: &TestApp, user: Uuid, query: &str) -> Value {
    let res = app
        .req(Method::GET, Some(user), &format!("/api/v1/sync?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let spec = fixture("sync_response");
    check_fields("sync", &body, &spec["fields"]);
    for set in ["events", "routines"] {
        check_fields(set, &body["changes"][set], &spec["change_set"]);
    }
    for kind in ["created", "updated"] {
        for e in body["changes"]["events"][kind].as_array().unwrap() {
            check_event(e);
        }
    }
    body
}

async fn create(app: &TestApp, user: Uuid, title: &str) -> String {
    let res = app
        .req(Method::POST, Some(user), "/api/v1/events")
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    body["event"]["id"].as_str().unwrap().to_owned()
}

fn ids(body: &Value, kind: &str) -> Vec<String> {
    body["changes"]["events"][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e.as_str()
                .map_or_else(|| e["id"].as_str().unwrap().to_owned(), str::to_owned)
        })
        .collect()
}

fn cursor(body: &Value) -> String {
    urlencoding(body["until"].as_str().unwrap())
}

fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn sync_hands_out_creations_updates_and_deletions_since_the_cursor() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let other = app.user("Asia/Shanghai").await;
    // Nothing yet.
    let first = sync(&app, user, "").await;
    assert_eq!(first["has_more"], false);
    assert_eq!(ids(&first, "created"), Vec::<String>::new());

    let a = create(&app, user, "a").await;
    let b = create(&app, user, "b").await;
    create(&app, other, "someone else's").await;
    let all = sync(&app, user, &format!("user_id={other}")).await;
    assert_eq!(ids(&all, "created"), [a.clone(), b.clone()]);
    assert_eq!(all["has_more"], false);

    // Since that answer: an update, a deletion, a creation.
    let res = app
        .req(Method::PUT, Some(user), &format!("/api/v1/events/{a}"))
        .json(&json!({"title": "a2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .req(Method::DELETE, Some(user), &format!("/api/v1/events/{b}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let c = create(&app, user, "c").await;
    let next = sync(&app, user, &format!("since={}", cursor(&all))).await;
    assert_eq!(ids(&next, "updated"), [a]);
    assert_eq!(next["changes"]["events"]["updated"][0]["title"], "a2");
    assert_eq!(ids(&next, "deleted"), [b]);
    assert_eq!(ids(&next, "created"), [c]);
    // And then nothing.
    let idle = sync(&app, user, &format!("since={}", cursor(&next))).await;
    assert_eq!(
        ids(&idle, "updated").len() + ids(&idle, "created").len() + ids(&idle, "deleted").len(),
        0
    );
    assert_eq!(idle["until"], next["until"]);

    let res = app
        .req(Method::GET, Some(user), "/api/v1/sync/status")
        .send()
        .await
        .unwrap();
    let status: Value = res.json().await.unwrap();
    assert_eq!(status["total_events"], 2);
    assert_eq!(status["supported_entities"], json!(["events", "routines"]));
    assert_eq!(status["latest_update"], next["until"]);

    for q in ["since=yesterday", "limit=0", "limit=10001", "colour=red"] {
        let res = app
            .req(Method::GET, Some(user), &format!("/api/v1/sync?{q}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
    }
}

/// Page through everything from `since` with small pages; the ids seen, the last cursor.
async fn drain(app: &TestApp, user: Uuid, mut since: Option<String>) -> (BTreeSet<String>, String) {
    let mut seen = BTreeSet::new();
    loop {
        let q = since
            .as_ref()
            .map_or_else(|| "limit=3".to_owned(), |s| format!("limit=3&since={s}"));
        let page = sync(app, user, &q).await;
        seen.extend(ids(&page, "created"));
        seen.extend(ids(&page, "updated"));
        let next = cursor(&page);
        let more = page["has_more"] == true;
        since = Some(next.clone());
        if !more {
            return (seen, next);
        }
    }
}

#[tokio::test]
async fn paging_while_others_write_never_skips_a_change() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    for i in 0..7 {
        create(&app, user, &format!("before {i}")).await;
    }
    // Writers and a paging reader at once.
    let writers = async {
        let titles: Vec<String> = (0..20).map(|i| format!("during {i}")).collect();
        futures_util::future::join_all(titles.iter().map(|t| create(&app, user, t))).await
    };
    let reader = async {
        let mut cursor = None;
        let mut seen = BTreeSet::new();
        for _ in 0..5 {
            let (ids, next) = drain(&app, user, cursor.clone()).await;
            seen.extend(ids);
            cursor = Some(next);
        }
        (seen, cursor)
    };
    let (_, (mut seen, cursor)) = tokio::join!(writers, reader);
    // Once the writers are done, one more pass from the last cursor completes the picture.
    let (rest, _) = drain(&app, user, cursor).await;
    seen.extend(rest);
    let stored: BTreeSet<String> = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(stored.len(), 27);
    assert_eq!(seen, stored);
}

#[tokio::test]
async fn a_page_never_ends_inside_one_write() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    // A routine template and three instances, then one write deletes the whole series.
    let res = app
        .req(Method::POST, Some(user), "/api/v1/events")
        .json(&json!({"title": "r", "event_date": "2026-02-01", "repeat_pattern": {"type": "daily", "time": "08:00"}}))
        .send()
        .await
        .unwrap();
    let t: Value = res.json().await.unwrap();
    let template = t["template"]["id"].as_str().unwrap().to_owned();
    let mut last = String::new();
    for d in ["2026-02-01", "2026-02-02", "2026-02-03"] {
        let res = app
            .req(
                Method::POST,
                Some(user),
                &format!("/api/v1/events/{template}/instances"),
            )
            .json(&json!({"target_date": d}))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        last = body["id"].as_str().unwrap().to_owned();
    }
    let before = sync(&app, user, "").await;
    let res = app
        .req(
            Method::DELETE,
            Some(user),
            &format!("/api/v1/events/{last}?delete_series=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = sync(&app, user, &format!("limit=1&since={}", cursor(&before))).await;
    assert_eq!(
        ids(&page, "deleted").len(),
        4,
        "the whole write, over the limit: {page}"
    );
    assert_eq!(page["has_more"], false);
}
