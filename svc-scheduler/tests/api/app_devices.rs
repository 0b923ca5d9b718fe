//! The UniLife app's devices: registration the original's way, its answers' shapes, a token
//! that changes accounts, and what a caller may not reach.

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::app_device;
use uuid::Uuid;

use crate::helpers::*;
use crate::shape::{assert_shape, fixture};

fn apns(n: u8) -> String {
    format!("{:02x}", n).repeat(32)
}

async fn send(
    app: &TestApp,
    method: Method,
    user: Uuid,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = app.sched(method, Some(user), path);
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_apps_registration_answers_the_original_device_response_and_lists_in_its_wrapper() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let full = fixture("device_register.request.json");
    let (status, phone) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/devices/register",
        Some(&full),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{phone}");
    assert_shape(&phone, "device.shape.json");
    for field in [
        "platform",
        "token",
        "device_id",
        "device_name",
        "device_model",
        "os_version",
        "app_version",
        "metadata",
    ] {
        assert_eq!(phone[field], full[field], "{field}");
    }
    assert_eq!(phone["user_id"], user.to_string());
    assert_eq!(phone["is_active"], true);
    assert!(phone["last_used_at"].is_string());

    // The alias, with only what the original required: its defaults.
    let minimal = fixture("device_register_minimal.request.json");
    let (status, tablet) = send(&app, Method::POST, user, "/api/v1/devices", Some(&minimal)).await;
    assert_eq!(status, StatusCode::CREATED, "{tablet}");
    assert_shape(&tablet, "device.shape.json");
    assert_eq!(tablet["platform"], "android");
    assert_eq!(tablet["token"], minimal["token"]);
    for field in [
        "device_id",
        "device_name",
        "device_model",
        "os_version",
        "app_version",
    ] {
        assert!(tablet[field].is_null(), "{field}");
    }
    assert_eq!(tablet["metadata"], json!({}));
    assert_eq!(tablet["is_active"], true);

    let (status, list) = send(&app, Method::GET, user, "/api/v1/devices", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&list, "device_list.shape.json");
    assert_eq!(list["total"], 2);
    let ids: Vec<_> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_shape(d, "device.shape.json");
            d["id"].clone()
        })
        .collect();
    assert_eq!(
        ids,
        vec![tablet["id"].clone(), phone["id"].clone()],
        "newest first"
    );

    let path = format!("/api/v1/devices/{}", phone["id"].as_str().unwrap());
    let (status, one) = send(&app, Method::GET, user, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, phone);

    let update = fixture("device_update.request.json");
    let (status, updated) = send(&app, Method::PUT, user, &path, Some(&update)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_shape(&updated, "device.shape.json");
    assert_eq!(updated["device_name"], "Work phone");
    assert_eq!(updated["is_active"], false);
    assert_eq!(updated["metadata"], json!({"locale": "zh_CN"}));
    assert_eq!(updated["token"], phone["token"], "what was not sent stays");
    let row =
        app_device::Entity::find_by_id(Uuid::parse_str(phone["id"].as_str().unwrap()).unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
    assert!(!row.is_active);
    assert_eq!(row.device_name.as_deref(), Some("Work phone"));

    // Only the name: the rest stays; a null name clears it.
    let (_, renamed) = send(
        &app,
        Method::PUT,
        user,
        &path,
        Some(&json!({"device_name": null})),
    )
    .await;
    assert!(renamed["device_name"].is_null());
    assert_eq!(renamed["is_active"], false);

    let res = app
        .sched(Method::DELETE, Some(user), &path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, body) = send(&app, Method::GET, user, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "device_not_found");
    let (_, list) = send(&app, Method::GET, user, "/api/v1/devices", None).await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn registering_the_same_phone_again_updates_its_row_instead_of_adding_one() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let (_, first) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/devices/register",
        Some(&json!({
            "platform": "ios", "token": apns(1), "device_id": "phone-1", "device_name": "Old name"
        })),
    )
    .await;
    // The token rotated: the same device_id keeps its row, and a re-registration re-activates it.
    let path = format!("/api/v1/devices/{}", first["id"].as_str().unwrap());
    send(
        &app,
        Method::PUT,
        user,
        &path,
        Some(&json!({"is_active": false})),
    )
    .await;
    let (status, second) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/devices/register",
        Some(&json!({
            "platform": "ios", "token": apns(2), "device_id": "phone-1", "app_version": "1.1.0"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["token"], apns(2));
    assert_eq!(second["is_active"], true);
    assert_eq!(second["app_version"], "1.1.0");
    assert!(
        second["device_name"].is_null(),
        "a registration describes the phone anew"
    );
    assert_eq!(second["created_at"], first["created_at"]);
    // The same token without a device_id (upper case this time) is the same phone too.
    let (_, third) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/devices",
        Some(&json!({
            "platform": "ios", "token": apns(2).to_uppercase()
        })),
    )
    .await;
    assert_eq!(third["id"], first["id"]);
    assert_eq!(third["device_id"], "phone-1", "kept when not sent");
    let rows = app_device::Entity::find()
        .filter(app_device::Column::UserId.eq(user))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn a_token_registered_by_another_account_moves_to_the_new_one_without_its_old_details() {
    let app = spawn().await;
    let alice = app.user("UTC").await;
    let bob = app.user("UTC").await;
    let (_, hers) = send(
        &app,
        Method::POST,
        alice,
        "/api/v1/devices/register",
        Some(&json!({
            "platform": "ios", "token": apns(7), "device_id": "shared-phone",
            "device_name": "Alice's iPhone", "metadata": {"locale": "en_GB"}
        })),
    )
    .await;
    // Bob signs in on the same phone: the token now reaches Bob's phone, not Alice's.
    let (status, his) = send(
        &app,
        Method::POST,
        bob,
        "/api/v1/devices/register",
        Some(&json!({
            "platform": "ios", "token": apns(7), "device_id": "shared-phone"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{his}");
    assert_ne!(his["id"], hers["id"], "a new row, not Alice's handed over");
    assert_eq!(his["user_id"], bob.to_string());
    assert!(his["device_name"].is_null());
    assert_eq!(his["metadata"], json!({}));
    let (_, alices) = send(&app, Method::GET, alice, "/api/v1/devices", None).await;
    assert_eq!(alices, json!({"devices": [], "total": 0}));
    let holders: Vec<_> = app_device::Entity::find()
        .filter(app_device::Column::Token.eq(apns(7)))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.user_id)
        .collect();
    assert_eq!(holders, vec![bob]);
    // Alice's old id reaches nothing, for either of them.
    let path = format!("/api/v1/devices/{}", hers["id"].as_str().unwrap());
    for user in [alice, bob] {
        let (status, _) = send(&app, Method::GET, user, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn bad_registrations_are_refused_with_400_naming_the_problem() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let fcm = fixture("device_register_minimal.request.json")["token"].clone();
    for (body, code, says) in [
        (
            json!({"platform": "windows", "token": apns(1)}),
            "validation_error",
            "platform",
        ),
        (
            json!({"platform": "ios", "token": "not-hex-".repeat(8)}),
            "validation_error",
            "APNs",
        ),
        (
            json!({"platform": "ios", "token": "abcd"}),
            "validation_error",
            "APNs",
        ),
        (
            json!({"platform": "android", "token": "short"}),
            "validation_error",
            "token",
        ),
        (
            json!({"platform": "web", "token": format!("{} x", fcm.as_str().unwrap())}),
            "validation_error",
            "token",
        ),
        (
            json!({"platform": "ios", "token": apns(1), "device_name": "x".repeat(256)}),
            "validation_error",
            "device_name",
        ),
        (
            json!({"platform": "ios", "token": apns(1), "metadata": [1, 2]}),
            "validation_error",
            "metadata",
        ),
        (json!({"platform": "ios"}), "invalid_json", "token"),
        (
            json!({"platform": "ios", "token": apns(1), "colour": "red"}),
            "invalid_json",
            "colour",
        ),
        (
            json!({"platform": 1, "token": apns(1)}),
            "invalid_json",
            "expected a string",
        ),
    ] {
        for path in ["/api/v1/devices/register", "/api/v1/devices"] {
            let (status, err) = send(&app, Method::POST, user, path, Some(&body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {err}");
            assert_eq!(err["code"], code, "{path} {body}: {err}");
            assert!(
                err["message"].as_str().unwrap().contains(says),
                "{path} {body}: {err}"
            );
        }
    }
    let rows = app_device::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn another_users_device_is_not_found_and_a_forged_user_id_changes_nothing() {
    let app = spawn().await;
    let owner = app.user("UTC").await;
    let other = app.user("UTC").await;
    let (_, phone) = send(
        &app,
        Method::POST,
        owner,
        "/api/v1/devices/register",
        Some(&json!({
            "platform": "ios", "token": apns(3), "device_name": "mine"
        })),
    )
    .await;
    let path = format!("/api/v1/devices/{}", phone["id"].as_str().unwrap());
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"device_name": "stolen"}))),
        (Method::DELETE, None),
    ] {
        let (status, err) = send(&app, method.clone(), other, &path, body.as_ref()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {err}");
        assert_eq!(err["code"], "device_not_found");
    }
    // Ids the original would not have found either.
    for bad in [
        "/api/v1/devices/not-a-uuid",
        &format!("/api/v1/devices/{}", Uuid::new_v4()),
    ] {
        let (status, _) = send(&app, Method::GET, owner, bad, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
    // Nothing to update, or an is_active that is neither true nor false.
    for body in [
        json!({}),
        json!({"is_active": null}),
        json!({"is_active": "yes"}),
    ] {
        let (status, _) = send(&app, Method::PUT, owner, &path, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    // A user_id in the body or the query is ignored: the token decides.
    let (status, forged) = send(
        &app,
        Method::POST,
        other,
        "/api/v1/devices/register",
        Some(&json!({
            "platform": "ios", "token": apns(4), "user_id": owner.to_string()
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(forged["user_id"], other.to_string());
    let (_, listed) = send(
        &app,
        Method::GET,
        other,
        &format!("/api/v1/devices?user_id={owner}"),
        None,
    )
    .await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["devices"][0]["token"], apns(4));
    let (_, mine) = send(&app, Method::GET, owner, &path, None).await;
    assert_eq!(mine["device_name"], "mine");
}

#[tokio::test]
async fn webhook_targets_live_beside_the_phones_and_are_listed_with_channel_webhook() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let hook = app.webhook(user, "https://hooks.example/u1").await;
    assert!(hook["secret"].is_string());
    let (_, phone) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/devices",
        Some(&json!({
            "platform": "ios", "token": apns(5)
        })),
    )
    .await;
    let (_, phones) = send(&app, Method::GET, user, "/api/v1/devices", None).await;
    assert_eq!(phones["total"], 1);
    assert_eq!(phones["devices"][0]["id"], phone["id"]);
    let (_, hooks) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/devices?channel=webhook",
        None,
    )
    .await;
    assert_eq!(hooks["total"], 1);
    assert_eq!(hooks["devices"][0]["id"], hook["id"]);
    assert_eq!(hooks["devices"][0]["url"], "https://hooks.example/u1");
    let (status, _) = send(&app, Method::GET, user, "/api/v1/devices?channel=sms", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A webhook body with a field of the app's is refused, not half-read.
    let (status, err) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/devices",
        Some(&json!({
            "channel": "webhook", "url": "https://hooks.example/u2", "platform": "ios"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["message"].as_str().unwrap().contains("platform"),
        "{err}"
    );
    for d in [&hook, &phone] {
        let path = format!("/api/v1/devices/{}", d["id"].as_str().unwrap());
        let res = app
            .sched(Method::DELETE, Some(user), &path)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
}
