use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

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

#[tokio::test]
async fn the_apps_conversation_requests_carry_a_user_id_that_changes_nothing() {
    let app = spawn().await;
    let owner = app.user("UTC").await;
    let other = app.user("UTC").await;
    // The original's CreateConversationRequest names the user; the token decides.
    let res = app
        .req(Method::POST, Some(other), "/api/v1/conversations")
        .json(&json!({"user_id": owner.to_string(), "title": "借用别人的名字"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["user_id"], other.to_string());
    for field in [
        "id",
        "user_id",
        "title",
        "created_at",
        "updated_at",
        "message_count",
    ] {
        assert!(c.get(field).is_some(), "ConversationResponse.{field}");
    }
    let id = c["id"].as_str().unwrap();
    // Listing with the owner's id lists the caller's own.
    let list: Value = app
        .req(
            Method::GET,
            Some(owner),
            &format!("/api/v1/conversations?user_id={other}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let res = app
        .req(
            Method::GET,
            Some(owner),
            &format!("/api/v1/conversations/{id}/messages?user_id={other}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The original's answers to rename and delete.
    let renamed: Value = app
        .req(
            Method::PUT,
            Some(other),
            &format!("/api/v1/conversations/{id}/title?title=改名&user_id={owner}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (renamed["status"].as_str(), renamed["title"].as_str()),
        (Some("success"), Some("改名"))
    );
    let deleted: Value = app
        .req(
            Method::DELETE,
            Some(other),
            &format!("/api/v1/conversations/{id}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deleted["status"], "success");
    // Diaries too take the parameter and ignore it.
    let res = app
        .req(
            Method::GET,
            Some(owner),
            &format!("/api/v1/diaries?user_id={other}&days=7"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["total"], 0);
    // Unknown parameters elsewhere are still refused by name.
    let res = app
        .req(Method::GET, Some(owner), "/api/v1/conversations?colour=red")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("colour"), "{err}");
}
