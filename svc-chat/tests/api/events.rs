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
