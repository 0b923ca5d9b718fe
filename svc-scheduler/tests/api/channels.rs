//! Channels end to end: a reminder through every chat app's push service (local fakes that
//! check what the vendor's documentation requires), the delivery log, retries that honour
//! `Retry-After`, a target that is gone, the test message, a webhook secret's rotation, and
//! what is stored at rest.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::*;

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

const DINGTALK_SECRET: &str = "SECdingtalk123";
const FEISHU_SECRET: &str = "feishuSecret9";

/// The push services as their documentation describes them: each checks what the real one
/// would (keys, signatures and their freshness, body shape) and answers as it does, with its
/// own error code when a check fails. Every message is kept.
#[derive(Clone, Default)]
struct Vendors(Arc<Mutex<Vec<(String, Value)>>>);

impl Vendors {
    fn taken(&self, vendor: &str) -> Vec<Value> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(v, _)| v == vendor)
            .map(|(_, m)| m.clone())
            .collect()
    }

    fn check(req: &Request) -> (String, Result<Value, String>) {
        let path = req.url.path().to_owned();
        let json: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let now = Utc::now();
        if path == "/push" {
            // Bark: device_key, title, body; level one of its four.
            let ok = json["device_key"] == "BarkKey123"
                && json["title"].is_string()
                && ["active", "timeSensitive", "passive", "critical"]
                    .contains(&json["level"].as_str().unwrap_or_default());
            return (
                "bark".into(),
                ok.then_some(json).ok_or("bad bark push".into()),
            );
        }
        if path == "/cgi-bin/webhook/send" {
            let ok = query(req, "key").as_deref() == Some("wecomKey1")
                && json["msgtype"] == "text"
                && json["text"]["content"].is_string();
            return ("wecombot".into(), ok.then_some(json).ok_or("93000".into()));
        }
        if path == "/robot/send" {
            // DingTalk: access_token; timestamp (ms) within an hour; sign = base64 HMAC-SHA256
            // of "timestamp\nsecret" keyed by the secret.
            let ts = query(req, "timestamp").unwrap_or_default();
            let fresh = ts
                .parse::<i64>()
                .is_ok_and(|t| (now.timestamp_millis() - t).abs() < 3_600_000);
            let expected = hmac_b64(
                DINGTALK_SECRET.as_bytes(),
                format!("{ts}\n{DINGTALK_SECRET}").as_bytes(),
            );
            let ok = query(req, "access_token").as_deref() == Some("dingToken1")
                && fresh
                && query(req, "sign").as_deref() == Some(expected.as_str())
                && json["msgtype"] == "text";
            return ("dingtalk".into(), ok.then_some(json).ok_or("310000".into()));
        }
        if path == "/open-apis/bot/v2/hook/feishuToken1" {
            // Feishu: timestamp (s) within an hour; sign = base64 HMAC-SHA256 keyed by
            // "timestamp\nsecret" over nothing.
            let ts = json["timestamp"].as_str().unwrap_or_default().to_owned();
            let fresh = ts
                .parse::<i64>()
                .is_ok_and(|t| (now.timestamp() - t).abs() < 3600);
            let expected = hmac_b64(format!("{ts}\n{FEISHU_SECRET}").as_bytes(), b"");
            let ok = fresh && json["sign"] == expected.as_str() && json["msg_type"] == "text";
            return ("feishu".into(), ok.then_some(json).ok_or("19021".into()));
        }
        if path == "/SCTsendkey1.send" {
            let form: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(&req.body)
                    .into_owned()
                    .collect();
            let ok = req.headers["content-type"] == "application/x-www-form-urlencoded"
                && form.contains_key("title");
            return (
                "schan".into(),
                ok.then(|| json!(form)).ok_or("40001".into()),
            );
        }
        if path == "/" {
            // ntfy JSON publishing, with the access token.
            let ok = req
                .headers
                .get("authorization")
                .is_some_and(|a| a == "Bearer tk_ntfy1")
                && json["topic"] == "meds"
                && json["message"].is_string();
            return ("ntfy".into(), ok.then_some(json).ok_or("40101".into()));
        }
        ("unknown".into(), Err(format!("no such endpoint {path}")))
    }
}

impl Respond for Vendors {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (vendor, checked) = Self::check(req);
        match checked {
            Ok(message) => {
                self.0.lock().unwrap().push((vendor.clone(), message));
                ResponseTemplate::new(200).set_body_json(match vendor.as_str() {
                    "bark" => json!({"code": 200, "message": "success"}),
                    "wecombot" | "dingtalk" => json!({"errcode": 0, "errmsg": "ok"}),
                    "feishu" => json!({"code": 0, "msg": "success", "data": {}}),
                    "schan" => json!({"code": 0, "message": "", "data": {}}),
                    _ => json!({"id": "x", "event": "message"}),
                })
            }
            Err(code) => match vendor.as_str() {
                "wecombot" | "dingtalk" => ResponseTemplate::new(200).set_body_json(
                    json!({"errcode": code.parse::<i64>().unwrap_or(1), "errmsg": "check failed"}),
                ),
                "feishu" => ResponseTemplate::new(200).set_body_json(
                    json!({"code": code.parse::<i64>().unwrap_or(1), "msg": "sign match fail"}),
                ),
                "ntfy" => ResponseTemplate::new(401),
                _ => ResponseTemplate::new(400).set_body_string(code),
            },
        }
    }
}

async fn add(app: &TestApp, user: Uuid, body: Value) -> Value {
    let res = app
        .sched(Method::POST, Some(user), "/api/v1/devices")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body} -> {v}");
    v
}

async fn log(app: &TestApp, user: Uuid, device: &Value) -> Vec<Value> {
    let id = device["id"].as_str().unwrap();
    let v: Value = app
        .sched(
            Method::GET,
            Some(user),
            &format!("/api/v1/devices/{id}/deliveries"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{v}"))
}

#[tokio::test]
async fn a_reminder_reaches_every_chat_app_as_its_vendor_documents_in_the_users_language() {
    let vendors = Vendors::default();
    let fake = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(vendors.clone())
        .mount(&fake)
        .await;
    let base = fake.uri();
    let app = spawn_with(|s| {
        let e = &mut s.scheduler;
        e.bark_endpoint = base.clone();
        e.wecombot_endpoint = base.clone();
        e.dingtalk_endpoint = base.clone();
        e.feishu_endpoint = base.clone();
        e.schan_endpoint = base.clone();
        e.ntfy_endpoint = base.clone();
    })
    .await;
    let tz = chrono_tz::Asia::Shanghai;
    let user = app.user(tz.name()).await;
    let mut added = Vec::new();
    for url in [
        "bark://BarkKey123?critical=yes",
        "wecombot://wecomKey1",
        &format!("dingtalk://{DINGTALK_SECRET}@dingToken1"),
        &format!("feishu://{FEISHU_SECRET}@feishuToken1"),
        "schan://SCTsendkey1",
        "ntfy://tk_ntfy1@meds",
    ] {
        let d = add(&app, user, json!({"url": url, "name": "家里"})).await;
        assert!(
            d.get("secret").is_none(),
            "only webhooks have a secret: {d}"
        );
        added.push(d);
    }
    // What the owner sees names the service and hides the keys.
    let listed: Value = app
        .sched(Method::GET, Some(user), "/api/v1/devices?channel=channels")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 6, "{listed}");
    let shown: Vec<&str> = listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        [
            "bark://Bark…",
            "wecombot://weco…",
            "dingtalk://SECd…@ding…",
            "feishu://feis…@feis…",
            "schan://SCTs…",
            "ntfy://meds"
        ]
    );
    // At rest nothing of a key is readable.
    use sea_orm::EntityTrait;
    for row in shared::entities::device::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
    {
        assert!(row.url.starts_with("sealed:v1:"), "{}", row.url);
        for key in [
            "BarkKey",
            "wecomKey",
            "SECding",
            "dingToken",
            "feishu",
            "SCTsend",
            "tk_ntfy",
        ] {
            assert!(!row.url.contains(key) && !row.secret.contains(key));
        }
    }

    app.dose_due_now(user, tz).await;
    let tick = app.scf_tick().await;
    assert_eq!(tick["deliveries"]["sent"], 6, "{tick}");
    for vendor in ["bark", "wecombot", "dingtalk", "feishu", "schan", "ntfy"] {
        let got = vendors.taken(vendor);
        assert_eq!(got.len(), 1, "{vendor}: {got:?}");
        let text = got[0].to_string();
        assert!(
            text.contains("该吃药了：阿司匹林肠溶片"),
            "{vendor}: {text}"
        );
    }
    // A dose reminder is time-sensitive; this user opted in to critical alerts on Bark.
    assert_eq!(vendors.taken("bark")[0]["level"], "critical");
    assert_eq!(vendors.taken("ntfy")[0]["priority"], 4);
    // Each channel's log: one delivery, taken at the first try.
    for d in &added {
        let entries = log(&app, user, d).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["status"], "sent");
        assert_eq!(entries[0]["kind"], "dose_reminder");
        assert_eq!(entries[0]["attempts"][0]["status_code"], 200);
        assert!(entries[0]["attempts"][0]["error"].is_null());
    }
    // Another tick sends nothing again.
    app.scf_tick().await;
    for vendor in ["bark", "wecombot", "dingtalk", "feishu", "schan", "ntfy"] {
        assert_eq!(vendors.taken(vendor).len(), 1, "{vendor}");
    }

    // A user who reads English gets English, at their own local time.
    let en = app.user("Europe/London").await;
    set_language(&app, en, "en").await;
    add(&app, en, json!({"url": "wecombot://wecomKey1"})).await;
    app.dose_due_now(en, chrono_tz::Europe::London).await;
    app.scf_tick().await;
    let english = vendors.taken("wecombot");
    assert_eq!(english.len(), 2);
    let content = english[1]["text"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("Time to take 阿司匹林肠溶片\n1 片 at "),
        "{content}"
    );
    let inbox = app.notifications(en).await;
    assert_eq!(inbox[0]["title"], "Time to take 阿司匹林肠溶片");
}

async fn set_language(app: &TestApp, user: Uuid, lang: &str) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    shared::entities::user::ActiveModel {
        id: Set(user),
        preferences: Set(json!({"language": lang})),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
}

/// Answers in turn from a script, then 200; keeps what it was sent.
#[derive(Clone)]
struct Script {
    answers: Arc<Mutex<Vec<ResponseTemplate>>>,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Script {
    fn new(answers: Vec<ResponseTemplate>) -> Self {
        Self {
            answers: Arc::new(Mutex::new(answers)),
            seen: Arc::default(),
        }
    }
    fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

impl Respond for Script {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.seen.lock().unwrap().push(req.clone());
        let mut answers = self.answers.lock().unwrap();
        if answers.is_empty() {
            ResponseTemplate::new(200)
        } else {
            answers.remove(0)
        }
    }
}

async fn serve(script: &Script) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(script.clone())
        .mount(&server)
        .await;
    server
}

/// Lets the pending deliveries of `device` be due now (as if their wait had passed).
async fn time_passes(app: &TestApp, device: &Value) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use shared::entities::delivery;
    let id: Uuid = device["id"].as_str().unwrap().parse().unwrap();
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(delivery::Column::DeviceId.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn failures_are_logged_retried_when_the_far_end_says_and_a_gone_target_ends_at_once() {
    let app = spawn().await;
    let tz = chrono_tz::Asia::Shanghai;
    let user = app.user(tz.name()).await;
    // Rate limited with Retry-After: 120, then taken.
    let limited = Script::new(vec![
        ResponseTemplate::new(429).insert_header("retry-after", "120"),
    ]);
    let limited_at = serve(&limited).await;
    // Gone.
    let gone = Script::new(vec![ResponseTemplate::new(410)]);
    let gone_at = serve(&gone).await;
    // A redirect inward is not followed.
    let inner = Script::new(vec![]);
    let inner_at = serve(&inner).await;
    let redirect = Script::new(vec![
        ResponseTemplate::new(302).insert_header("location", format!("{}/x", inner_at.uri())),
    ]);
    let redirect_at = serve(&redirect).await;
    let d_limited = add(
        &app,
        user,
        json!({"url": format!("{}/a", limited_at.uri())}),
    )
    .await;
    let d_gone = add(&app, user, json!({"url": format!("{}/b", gone_at.uri())})).await;
    let d_redirect = add(
        &app,
        user,
        json!({"url": format!("{}/c", redirect_at.uri())}),
    )
    .await;
    app.dose_due_now(user, tz).await;
    let tick = app.scf_tick().await;
    assert_eq!(tick["deliveries"]["dead"], 1, "{tick}");
    assert_eq!(tick["deliveries"]["retried"], 2, "{tick}");
    assert!(inner.seen().is_empty(), "the redirect was not followed");

    let entries = log(&app, user, &d_limited).await;
    assert_eq!(entries[0]["status"], "pending");
    let first = &entries[0]["attempts"][0];
    assert_eq!(first["status_code"], 429);
    let retry_at: chrono::DateTime<Utc> = first["retry_at"].as_str().unwrap().parse().unwrap();
    let wait = retry_at - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(100) && wait <= chrono::Duration::seconds(120),
        "waits as asked: {wait}"
    );
    // Not before its time, whatever the timers do ...
    app.scf_tick().await;
    assert_eq!(limited.seen().len(), 1);
    // ... and then once.
    time_passes(&app, &d_limited).await;
    app.scf_tick().await;
    assert_eq!(limited.seen().len(), 2);
    let entries = log(&app, user, &d_limited).await;
    assert_eq!(entries[0]["status"], "sent");
    let codes: Vec<&Value> = entries[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(429), &json!(200)]);
    // Both tries carried the same delivery id.
    let ids: Vec<String> = limited
        .seen()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids[0], ids[1]);

    let entries = log(&app, user, &d_gone).await;
    assert_eq!(entries[0]["status"], "dead");
    assert_eq!(entries[0]["attempts"].as_array().unwrap().len(), 1);
    time_passes(&app, &d_gone).await;
    app.scf_tick().await;
    assert_eq!(
        gone.seen().len(),
        1,
        "a target that is gone is not tried again"
    );

    let entries = log(&app, user, &d_redirect).await;
    assert_eq!(entries[0]["attempts"][0]["status_code"], 302);
    assert!(
        entries[0]["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("302")
    );

    // The log is the owner's only.
    let other = app.user("UTC").await;
    let id = d_limited["id"].as_str().unwrap();
    let res = app
        .sched(
            Method::GET,
            Some(other),
            &format!("/api/v1/devices/{id}/deliveries"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .sched(
            Method::GET,
            Some(user),
            &format!("/api/v1/devices/{id}/deliveries?limit=0"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// Standard Webhooks 1.0, as a receiver checks it: `v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">` keyed by the base64 after `whsec_`.
fn standard_ok(secret: &str, req: &Request) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let id = req.headers["webhook-id"].to_str().unwrap();
    let ts = req.headers["webhook-timestamp"].to_str().unwrap();
    let mut content = format!("{id}.{ts}.").into_bytes();
    content.extend_from_slice(&req.body);
    let expected = format!("v1,{}", hmac_b64(&key, &content));
    req.headers["webhook-signature"]
        .to_str()
        .unwrap()
        .split(' ')
        .any(|s| s == expected)
}

#[tokio::test]
async fn the_test_message_says_what_the_far_end_answered_and_a_rotated_secret_signs_beside_the_old()
{
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let hook = Script::new(vec![
        ResponseTemplate::new(503).set_body_string("maintenance"),
    ]);
    let hook_at = serve(&hook).await;
    let d = add(
        &app,
        user,
        json!({"channel": "webhook", "url": format!("{}/h", hook_at.uri())}),
    )
    .await;
    let secret = d["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = d["id"].as_str().unwrap();
    let test = |user| {
        app.sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{id}/test"),
        )
        .send()
    };
    let failed: Value = test(user).await.unwrap().json().await.unwrap();
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["status_code"], 503);
    assert!(
        failed["error"].as_str().unwrap().contains("maintenance"),
        "{failed}"
    );
    let passed: Value = test(user).await.unwrap().json().await.unwrap();
    assert_eq!(passed["ok"], true, "{passed}");
    let sent = hook.seen();
    assert_eq!(sent.len(), 2);
    let body: Value = serde_json::from_slice(&sent[1].body).unwrap();
    assert_eq!(body["kind"], "test");
    assert_eq!(body["title"], "UniLife 测试通知");
    assert!(standard_ok(&secret, &sent[1]));
    // The test leaves no notification and no delivery behind.
    assert!(app.notifications(user).await.is_empty());
    assert!(log(&app, user, &d).await.is_empty());
    // Someone else's channel is not found.
    let other = app.user("UTC").await;
    assert_eq!(test(other).await.unwrap().status(), StatusCode::NOT_FOUND);

    // Rotation: a new secret, shown once; both sign for a day.
    let rotated: Value = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{id}/rotate-secret"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(
        rotated["previous_secret_valid_until"].is_string(),
        "{rotated}"
    );
    test(user).await.unwrap();
    let last = hook.seen().pop().unwrap();
    assert_eq!(
        last.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    assert!(standard_ok(&new_secret, &last), "the new secret verifies");
    assert!(standard_ok(&secret, &last), "the old one still does");
    // The header receivers used before verifies with the current secret.
    assert!(verify(
        &new_secret,
        last.headers["x-unilife-signature"].to_str().unwrap(),
        &last.body
    ));
    assert!(
        verify(
            &secret,
            last.headers["x-unilife-signature"].to_str().unwrap(),
            &last.body
        ),
        "and with the old one during the rotation"
    );

    // A chat app's channel has no secret to rotate; a phone cannot be tested yet.
    let bark = add(&app, user, json!({"url": "bark://Key1"})).await;
    let res = app
        .sched(
            Method::POST,
            Some(user),
            &format!(
                "/api/v1/devices/{}/rotate-secret",
                bark["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let phone: Value = app
        .sched(Method::POST, Some(user), "/api/v1/devices/register")
        .json(&json!({"platform": "ios", "token": "ab".repeat(32)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let phone_id = phone["id"].as_str().unwrap_or_else(|| panic!("{phone}"));
    let res = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{phone_id}/test"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Bad channel URLs are refused in the user's two languages.
    for (body, needle) in [
        (json!({"url": "mailto://me"}), "不支持"),
        (json!({"channel": "bark", "url": "wecombot://k"}), "不符"),
        (
            json!({"channel": "pager", "url": "bark://k"}),
            "不支持的渠道",
        ),
        (json!({"url": "dingtalk://"}), "token"),
    ] {
        let res = app
            .sched(Method::POST, Some(user), "/api/v1/devices")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let v: Value = res.json().await.unwrap();
        assert!(
            v["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }
}

/// Rows stored in plain text before sealing existed are sealed when an instance starts, and
/// keep working.
#[tokio::test]
async fn channels_stored_in_plain_text_are_sealed_when_an_instance_starts() {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    use shared::entities::device;
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let hook = Script::new(vec![]);
    let hook_at = serve(&hook).await;
    let id = Uuid::now_v7();
    let secret = "0a".repeat(32);
    device::Entity::insert(device::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        channel: Set("webhook".into()),
        name: Set(None),
        url: Set(format!("{}/old", hook_at.uri())),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(&app.db)
    .await
    .unwrap();
    let instance = svc_scheduler::startup::build(&app.settings).await.unwrap();
    tokio::spawn(instance.run_until_stopped(std::future::pending()));
    let mut row = None;
    for _ in 0..100 {
        let r = device::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if r.url.starts_with("sealed:v1:") {
            row = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let row = row.expect("sealed within five seconds");
    assert!(row.secret.starts_with("sealed:v1:") && !row.url.contains("/old"));
    // Still the same channel: the test message reaches it, signed with the old secret.
    let res: Value = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{id}/test"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["ok"], true, "{res}");
    let sent = hook.seen().pop().unwrap();
    assert!(verify(
        &secret,
        sent.headers["x-unilife-signature"].to_str().unwrap(),
        &sent.body
    ));
}
