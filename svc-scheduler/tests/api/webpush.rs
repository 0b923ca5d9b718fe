//! Web Push end to end: a browser's subscription added as a channel, a local push service
//! that checks what the real ones check (RFC 8030/8292: VAPID token and key, `TTL`,
//! `Content-Encoding: aes128gcm`, `Urgency`), and the payload decrypted here with the
//! subscription's private key by an independent RFC 8291 implementation (ring's HKDF and
//! AES-GCM, p256's ECDH); a subscription the browser dropped (410) is deleted.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Utc;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use shared::entities::device;
use uuid::Uuid;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::*;

const SUBJECT: &str = "mailto:ops@unilife.example";

/// A browser: its subscription's key pair and auth secret.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Browser {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let mut auth = [0u8; 16];
        rand::rng().fill_bytes(&mut auth);
        Browser {
            secret: p256::SecretKey::from_slice(&raw).unwrap(),
            auth,
        }
    }

    fn public(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// `PushSubscription.toJSON()`.
    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "expirationTime": null,
               "keys": {"p256dh": B64.encode(self.public()), "auth": B64.encode(self.auth)}})
    }

    /// RFC 8291 §3.4 and RFC 8188: the message as the browser reads it.
    fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        struct Len(usize);
        impl ring::hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
            let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt).extract(ikm);
            let mut out = vec![0u8; len];
            prk.expand(&[info], Len(len))
                .unwrap()
                .fill(&mut out)
                .unwrap();
            out
        }
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap());
        let idlen = body[20] as usize;
        let sender = &body[21..21 + idlen];
        let mut record = body[21 + idlen..].to_vec();
        assert!(record.len() <= record_size as usize, "one record");
        let sender_key = p256::PublicKey::from_sec1_bytes(sender).unwrap();
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender_key.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public());
        info.extend_from_slice(sender);
        let ikm = hkdf(&self.auth, shared.raw_secret_bytes(), &info, 32);
        let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
        let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);
        let key = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &cek).unwrap(),
        );
        let plain = key
            .open_in_place(
                ring::aead::Nonce::try_assume_unique_for_key(&nonce).unwrap(),
                ring::aead::Aad::empty(),
                &mut record,
            )
            .unwrap()
            .to_vec();
        // The last record ends with 0x02 and any zero padding.
        let end = plain.iter().rposition(|b| *b != 0).unwrap();
        assert_eq!(plain[end], 2, "last-record delimiter");
        plain[..end].to_vec()
    }
}

/// A push service: checks a request as the real ones do and keeps the ones it accepts.
/// `/gone/…` endpoints answer 410 (the browser unsubscribed).
#[derive(Clone)]
struct PushService {
    public_key: Arc<Mutex<String>>,
    taken: Arc<Mutex<Vec<Request>>>,
}

impl PushService {
    fn check(&self, req: &Request) -> Result<(), String> {
        let header = |n: &str| {
            req.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if header("content-encoding").as_deref() != Some("aes128gcm") {
            return Err("content-encoding must be aes128gcm".into());
        }
        header("ttl")
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or("TTL required")?;
        if !matches!(
            header("urgency").as_deref(),
            None | Some("very-low" | "low" | "normal" | "high")
        ) {
            return Err("bad urgency".into());
        }
        if req.body.len() > 4096 {
            return Err("payload too large".into());
        }
        let auth = header("authorization").ok_or("no authorization")?;
        let rest = auth.strip_prefix("vapid t=").ok_or("not vapid")?;
        let (token, k) = rest.split_once(", k=").ok_or("no k")?;
        if k != *self.public_key.lock().unwrap() {
            return Err("k is not the server's public key".into());
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [h, c, s] = parts[..] else {
            return Err("not a JWT".into());
        };
        let key = VerifyingKey::from_sec1_bytes(&B64.decode(k).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let sig = Signature::from_slice(&B64.decode(s).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        key.verify(format!("{h}.{c}").as_bytes(), &sig)
            .map_err(|_| "bad signature")?;
        let head: Value = serde_json::from_slice(&B64.decode(h).unwrap()).unwrap();
        if head["alg"] != "ES256" {
            return Err("alg must be ES256".into());
        }
        let claims: Value = serde_json::from_slice(&B64.decode(c).unwrap()).unwrap();
        let origin = format!("http://{}", header("host").ok_or("no host")?);
        if claims["aud"] != origin.as_str() {
            return Err(format!("aud {} is not {origin}", claims["aud"]));
        }
        let exp = claims["exp"].as_i64().ok_or("no exp")?;
        let now = Utc::now().timestamp();
        if exp <= now || exp > now + 24 * 3600 {
            return Err("exp must be within 24 hours".into());
        }
        if claims["sub"] != SUBJECT {
            return Err("sub must be the contact".into());
        }
        Ok(())
    }
}

impl Respond for PushService {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Err(why) = self.check(req) {
            return ResponseTemplate::new(401).set_body_string(why);
        }
        if req.url.path().starts_with("/gone/") {
            return ResponseTemplate::new(410);
        }
        self.taken.lock().unwrap().push(req.clone());
        ResponseTemplate::new(201)
    }
}

async fn push_service() -> (MockServer, PushService) {
    let server = MockServer::start().await;
    let service = PushService {
        public_key: Arc::default(),
        taken: Arc::default(),
    };
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(service.clone())
        .mount(&server)
        .await;
    (server, service)
}

async fn subscribe(app: &TestApp, user: Uuid, sub: Value) -> reqwest::Response {
    app.sched(Method::POST, Some(user), "/api/v1/devices")
        .json(&json!({"channel": "webpush", "subscription": sub, "name": "Chrome"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reminder_reaches_the_browser_encrypted_and_signed_and_a_dropped_subscription_goes() {
    let (private, _) = svc_scheduler::webpush::generate();
    let app = spawn_with(move |s| {
        s.scheduler.vapid_private_key = Some(private.clone().into());
        s.scheduler.vapid_subject = SUBJECT.to_owned();
    })
    .await;
    let (server, service) = push_service().await;
    let user = app.user("Asia/Shanghai").await;
    let key: Value = app
        .sched(Method::GET, Some(user), "/api/v1/devices/webpush-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = key["public_key"].as_str().unwrap().to_owned();
    *service.public_key.lock().unwrap() = public.clone();

    let browser = Browser::new();
    let endpoint = format!("{}/wpush/v2/gAAAAABk-subscription", server.uri());
    let res = subscribe(&app, user, browser.subscription(&endpoint)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let channel: Value = res.json().await.unwrap();
    assert_eq!(channel["channel"], "webpush");
    assert_eq!(
        channel["url"], "webpush:127.0.0.1/…",
        "the capability URL is not shown"
    );
    // The console subscribes on every visit: the same browser is the same channel.
    let again = subscribe(&app, user, browser.subscription(&endpoint)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], channel["id"]);
    assert_eq!(device::Entity::find().count(&app.db).await.unwrap(), 1);

    // The test message, through the push service.
    let tested: Value = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/devices/{}/test", channel["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tested["ok"], true, "{tested}");
    // A dose due now: pushed with high urgency and a short life.
    let tz = chrono_tz::Asia::Shanghai;
    app.dose_due_now(user, tz).await;
    app.scf_tick().await;
    let taken = service.taken.lock().unwrap().clone();
    let shown: Vec<(Value, &Request)> = taken
        .iter()
        .map(|r| {
            (
                serde_json::from_slice(&browser.decrypt(&r.body)).unwrap(),
                r,
            )
        })
        .collect();
    let of = |kind: &str| {
        let found: Vec<&(Value, &Request)> =
            shown.iter().filter(|(v, _)| v["kind"] == kind).collect();
        assert_eq!(found.len(), 1, "one {kind}: {shown:?}");
        found[0].clone()
    };
    assert_eq!(of("test").0["title"], "UniLife 测试通知");
    let (dose, request) = of("dose_reminder");
    assert_eq!(dose["title"], "该吃药了：阿司匹林肠溶片");
    let inbox = app.notifications(user).await;
    assert!(
        inbox
            .iter()
            .any(|n| n["id"] == dose["id"] && n["kind"] == "dose_reminder"),
        "the inbox's id, to mark it read"
    );
    assert_eq!(request.headers.get("urgency").unwrap(), "high");
    assert_eq!(request.headers.get("ttl").unwrap(), "3600");

    // Another browser unsubscribed: its endpoint answers 410 and the channel is deleted.
    let gone = Browser::new();
    let res = subscribe(
        &app,
        user,
        gone.subscription(&format!("{}/gone/abc", server.uri())),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.sched(Method::POST, Some(user), "/api/v1/notifications/send")
        .json(&json!({"title": "t", "body": "b"}))
        .send()
        .await
        .unwrap();
    app.scf_tick().await;
    let left: Value = app
        .sched(Method::GET, Some(user), "/api/v1/devices?channel=channels")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(left["total"], 1, "{left}");
    assert_eq!(left["devices"][0]["id"], channel["id"]);
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_without_a_vapid_key_there_is_no_web_push() {
    let (private, _) = svc_scheduler::webpush::generate();
    let app = spawn_with(move |s| {
        s.scheduler.vapid_private_key = Some(private.clone().into());
        s.scheduler.vapid_subject = SUBJECT.to_owned();
        s.scheduler.webhook_allow_private = false;
    })
    .await;
    let user = app.user("Asia/Shanghai").await;
    let browser = Browser::new();
    let good = browser.subscription("https://fcm.googleapis.com/fcm/send/abc");
    for (sub, why) in [
        (
            browser.subscription("http://fcm.googleapis.com/fcm/send/abc"),
            "https",
        ),
        (
            browser.subscription("https://169.254.169.254/latest"),
            "internal",
        ),
        (
            json!({"endpoint": good["endpoint"], "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}}),
            "p256dh",
        ),
        (
            json!({"endpoint": good["endpoint"], "keys": {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}}),
            "auth",
        ),
    ] {
        let res = subscribe(&app, user, sub).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{why}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "validation_error", "{why}: {body}");
    }
    // A webpush: URL without the browser's keys.
    let res = app
        .sched(Method::POST, Some(user), "/api/v1/devices")
        .json(&json!({"url": "webpush:https://fcm.googleapis.com/fcm/send/abc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        subscribe(&app, user, good.clone()).await.status(),
        StatusCode::CREATED
    );

    let bare = spawn().await;
    let user = bare.user("Asia/Shanghai").await;
    let res = bare
        .sched(Method::GET, Some(user), "/api/v1/devices/webpush-key")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "webpush_disabled"
    );
    assert_eq!(
        subscribe(&bare, user, good).await.status(),
        StatusCode::BAD_REQUEST
    );
}
