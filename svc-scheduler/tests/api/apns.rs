//! Push to the app's iPhones through a local APNs: HTTP/2 over TLS with a throwaway CA, the
//! provider token's claims and ES256 signature checked with the key's public half, Apple's
//! headers and payload checked, a 410 for a token Apple no longer knows.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "DEF123GHIJ";
const TOPIC: &str = "com.unilife.app";
/// A token Apple says is no longer registered.
fn gone_token() -> String {
    "dead".repeat(16)
}

#[derive(Debug, Clone)]
struct Push {
    token: String,
    jwt: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Push {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// What Apple checks, in the order it documents its errors.
fn check(req: &HttpRequest, body: &[u8], public_pem: &str) -> Result<Push, (u16, &'static str)> {
    if req.version() != actix_web::http::Version::HTTP_2 {
        return Err((400, "BadHttpVersion"));
    }
    let token = req
        .path()
        .strip_prefix("/3/device/")
        .ok_or((404, "BadPath"))?
        .to_owned();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let auth = header("authorization");
    let jwt = auth
        .strip_prefix("bearer ")
        .or_else(|| auth.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let jwt_header =
        jsonwebtoken::decode_header(&jwt).map_err(|_| (403, "MissingProviderToken"))?;
    if jwt_header.alg != Algorithm::ES256 || jwt_header.kid.as_deref() != Some(KEY_ID) {
        return Err((403, "InvalidProviderToken"));
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(
        &jwt,
        &DecodingKey::from_ec_pem(public_pem.as_bytes()).unwrap(),
        &validation,
    )
    .map_err(|_| (403, "InvalidProviderToken"))?
    .claims;
    let iat = claims["iat"].as_i64().unwrap_or_default();
    if claims["iss"] != TEAM_ID || (chrono::Utc::now().timestamp() - iat).abs() > 3600 {
        return Err((403, "ExpiredProviderToken"));
    }
    if header("apns-topic") != TOPIC {
        return Err((400, "DeviceTokenNotForTopic"));
    }
    if header("apns-push-type") != "alert" {
        return Err((400, "InvalidPushType"));
    }
    if !matches!(header("apns-priority").as_str(), "10" | "5") {
        return Err((400, "BadPriority"));
    }
    if header("apns-collapse-id").len() > 64 {
        return Err((400, "BadCollapseId"));
    }
    if body.len() > 4096 {
        return Err((413, "PayloadTooLarge"));
    }
    let body: Value = serde_json::from_slice(body).map_err(|_| (400, "PayloadEmpty"))?;
    if !body["aps"]["alert"]["title"].is_string() {
        return Err((400, "PayloadEmpty"));
    }
    if !token.chars().all(|c| c.is_ascii_hexdigit()) || token.len() < 64 {
        return Err((400, "BadDeviceToken"));
    }
    if token == gone_token() {
        return Err((410, "Unregistered"));
    }
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok(Push {
        token,
        jwt,
        headers,
        body,
    })
}

struct FakeApns {
    url: String,
    ca_file: std::path::PathBuf,
    key_pem: String,
    /// Every request that reached it, taken or not: (token, status).
    seen: Arc<Mutex<Vec<(String, u16)>>>,
    taken: Arc<Mutex<Vec<Push>>>,
}

fn start_apns() -> FakeApns {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let public_pem = key.public_key_pem();
    let tls = shared::testing::TestTls::new().unwrap();
    let ca_file = tls.write_ca_file().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let taken = Arc::new(Mutex::new(Vec::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let (s, t) = (seen.clone(), taken.clone());
    let server = HttpServer::new(move || {
        let (seen, taken, public_pem) = (s.clone(), t.clone(), public_pem.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (seen, taken, public_pem) = (seen.clone(), taken.clone(), public_pem.clone());
            async move {
                let token = req.path().rsplit('/').next().unwrap_or_default().to_owned();
                match check(&req, &body, &public_pem) {
                    Ok(push) => {
                        seen.lock().unwrap().push((token, 200));
                        taken.lock().unwrap().push(push);
                        HttpResponse::Ok()
                            .insert_header(("apns-id", Uuid::new_v4().to_string()))
                            .finish()
                    }
                    Err((status, reason)) => {
                        seen.lock().unwrap().push((token, status));
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                            .json(json!({"reason": reason}))
                    }
                }
            }
        }))
    })
    .workers(1)
    .listen_rustls_0_23(listener, tls.server)
    .unwrap()
    .run();
    tokio::spawn(server);
    FakeApns {
        url,
        ca_file,
        key_pem: key.serialize_pem(),
        seen,
        taken,
    }
}

async fn register(app: &TestApp, user: Uuid, platform: &str, token: &str) -> Value {
    let res = app
        .sched(Method::POST, Some(user), "/api/v1/devices/register")
        .json(&json!({"platform": platform, "token": token, "device_name": format!("{platform} phone")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_dose_reminder_reaches_the_apps_iphones_through_apns_and_a_gone_phone_is_deactivated() {
    let apns = start_apns();
    let (url, ca, key) = (apns.url.clone(), apns.ca_file.clone(), apns.key_pem.clone());
    let app = spawn_with(|s| {
        // As an environment variable carries it: line breaks as \n.
        s.apns.key = Some(key.replace('\n', "\\n").into());
        s.apns.key_id = KEY_ID.into();
        s.apns.team_id = TEAM_ID.into();
        s.apns.topic = TOPIC.into();
        s.apns.endpoint = Some(url.clone());
        s.apns.ca_file = Some(ca.clone());
    })
    .await;
    let tz = chrono_tz::Asia::Shanghai;
    let user = app.user(tz.name()).await;
    let good_token = "ab12".repeat(16);
    let good = register(&app, user, "ios", &good_token).await;
    let gone = register(&app, user, "ios", &gone_token()).await;
    register(&app, user, "android", &"fcm-token-".repeat(3)).await;

    app.dose_due_now(user, tz).await;
    let tick = app.scf_tick().await;
    assert_eq!(tick["deliveries"]["sent"], 1, "{tick}");
    assert_eq!(tick["deliveries"]["dead"], 1, "{tick}");
    let seen = apns.seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2,
        "one request per iPhone, none for android: {seen:?}"
    );
    let push = apns.taken.lock().unwrap()[0].clone();
    assert_eq!(push.token, good_token);
    assert_eq!(
        push.body["aps"]["alert"]["title"],
        "该吃药了：阿司匹林肠溶片"
    );
    assert_eq!(push.body["aps"]["interruption-level"], "time-sensitive");
    assert_eq!(push.body["kind"], "dose_reminder");
    assert!(push.body["data"]["dose_id"].is_string(), "{}", push.body);
    assert_eq!(push.header("apns-priority"), "10");
    assert_eq!(push.header("apns-topic"), TOPIC);

    // Apple no longer knows the other phone: deactivated, its delivery dead after one try.
    let gone_id: Uuid = gone["id"].as_str().unwrap().parse().unwrap();
    let row = shared::entities::app_device::Entity::find_by_id(gone_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !row.is_active,
        "a phone Apple says is unregistered stops getting pushes"
    );
    let log: Value = app
        .sched(
            Method::GET,
            Some(user),
            &format!("/api/v1/devices/{gone_id}/deliveries"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["deliveries"][0]["status"], "dead", "{log}");
    assert_eq!(log["deliveries"][0]["attempts"][0]["status_code"], 410);
    assert!(
        log["deliveries"][0]["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Unregistered")
    );

    // The test message goes the same way; the provider token is reused, not made per push.
    let good_id = good["id"].as_str().unwrap();
    let test: Value = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{good_id}/test"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], true, "{test}");
    assert_eq!(test["status_code"], 200);
    let taken = apns.taken.lock().unwrap().clone();
    assert_eq!(taken.len(), 2);
    assert_eq!(taken[1].body["aps"]["alert"]["title"], "UniLife 测试通知");
    assert_eq!(taken[1].header("apns-priority"), "5");
    assert_eq!(taken[0].jwt, taken[1].jwt, "one provider token for both");

    // The next reminder skips the deactivated phone.
    app.dose_due_now(user, tz).await;
    app.scf_tick().await;
    let tokens: Vec<String> = apns
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| t.clone())
        .collect();
    assert_eq!(tokens.iter().filter(|t| **t == gone_token()).count(), 1);
}

#[tokio::test]
async fn without_apns_a_phone_cannot_be_tested_and_gets_no_delivery() {
    let app = spawn().await;
    let tz = chrono_tz::Asia::Shanghai;
    let user = app.user(tz.name()).await;
    let phone = register(&app, user, "ios", &"ab12".repeat(16)).await;
    let res = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{}/test", phone["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let v: Value = res.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("APNs"), "{v}");
    app.dose_due_now(user, tz).await;
    let tick = app.scf_tick().await;
    assert_eq!(tick["deliveries"]["sent"], 0, "{tick}");
    assert_eq!(tick["deliveries"]["dead"], 0, "{tick}");
}
