use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn events_crud_today_conflicts_and_ownership() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let now = chrono::Utc::now();
    let start =
        chrono::Timelike::with_nanosecond(&(now + chrono::Duration::minutes(5)), 0).unwrap();
    let res = app.req(Method::POST, Some(user), "/api/v1/events")
        .json(&json!({"title": "站会", "start_time": start, "end_time": start + chrono::Duration::minutes(30), "event_type": "meeting", "category": "work", "tags": ["team"]}))
        .send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let e: Value = res.json().await.unwrap();
    for k in [
        "title",
        "description",
        "start_time",
        "end_time",
        "duration",
        "event_type",
        "category",
        "tags",
        "location",
        "status",
    ] {
        assert!(e.get(k).is_some(), "compat field {k}");
    }
    assert_eq!(e["status"], "pending");
    let id = e["id"].as_str().unwrap();

    // Conflicts: the route is reachable (the original's route order hid it) and correct.
    let q = format!(
        "/api/v1/events/conflicts?start_time={}&end_time={}",
        (start + chrono::Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (start + chrono::Duration::minutes(40)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let c: Value = app
        .req(Method::GET, Some(user), &q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["has_conflicts"], true, "{c}");
    assert_eq!(c["conflicts"][0]["id"], id);
    let q = format!(
        "/api/v1/events/conflicts?start_time={}&end_time={}",
        (start + chrono::Duration::minutes(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        (start + chrono::Duration::minutes(60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let c: Value = app
        .req(Method::GET, Some(user), &q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["has_conflicts"], false, "back-to-back is no conflict");

    let today: Value = app
        .req(Method::GET, Some(user), "/api/v1/events/today")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let local_start = start.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let local_now = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    assert_eq!(
        today.as_array().unwrap().len(),
        usize::from(local_start == local_now)
    );

    let done: Value = app
        .req(
            Method::POST,
            Some(user),
            &format!("/api/v1/events/{id}/complete"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
    assert!(done["completed_at"].is_string());
    let pending: Value = app
        .req(Method::GET, Some(user), "/api/v1/events?status=pending")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending, json!([]));

    // Validation.
    for body in [
        json!({"title": "x", "start_time": start, "end_time": start}),
        json!({"title": "x", "start_time": start, "category": "party"}),
        json!({"title": "x", "start_time": start, "event_type": "nap"}),
        json!({"title": "", "start_time": start}),
        json!({"title": "x"}),
    ] {
        let res = app
            .req(Method::POST, Some(user), "/api/v1/events")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // Someone else's event: 404 everywhere.
    let other = app.user("UTC").await;
    for (m, p) in [
        (Method::GET, format!("/api/v1/events/{id}")),
        (Method::PUT, format!("/api/v1/events/{id}")),
        (Method::DELETE, format!("/api/v1/events/{id}")),
        (Method::POST, format!("/api/v1/events/{id}/complete")),
    ] {
        let res = app
            .req(m, Some(other), &p)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{p}");
    }
    let res = app
        .req(Method::DELETE, Some(user), &format!("/api/v1/events/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn conversations_in_the_compat_shapes_and_owned() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let c: Value = app
        .req(Method::POST, Some(user), "/api/v1/conversations")
        .json(&json!({"title": "周末计划"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap();
    let res = app
        .req(
            Method::PUT,
            Some(user),
            &format!("/api/v1/conversations/{id}/title?title=新标题"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list: Value = app
        .req(
            Method::GET,
            Some(user),
            "/api/v1/conversations?limit=10&offset=0",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["title"], "新标题");
    let msgs: Value = app
        .req(
            Method::GET,
            Some(user),
            &format!("/api/v1/conversations/{id}/messages"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(msgs, json!([]));
    let other = app.user("UTC").await;
    let res = app
        .req(
            Method::GET,
            Some(other),
            &format!("/api/v1/conversations/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .req(
            Method::DELETE,
            Some(user),
            &format!("/api/v1/conversations/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
