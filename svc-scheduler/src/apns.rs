//! Push to the UniLife app's iPhones through Apple's APNs: HTTP/2 over TLS, token-based
//! auth (an ES256 provider token from the `.p8` key, renewed every 50 minutes: Apple refuses
//! one older than an hour and more than one new token every 20 minutes).
//!
//! `POST /3/device/<token>` with `apns-topic` (the bundle id), `apns-push-type: alert`,
//! `apns-priority` (10 now, 5 when it can wait), `apns-collapse-id` (the notification: a
//! retry replaces rather than repeats) and `apns-expiration`; a dose reminder is
//! `time-sensitive`. Apple's answer: 200 taken; 410 `Unregistered`, 400 `BadDeviceToken` or
//! `DeviceTokenNotForTopic` end the delivery and deactivate the phone; 403
//! `ExpiredProviderToken` renews the token; 429 and 5xx are retried.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use shared::config::ApnsSettings;

use crate::channels::{Attempt, Message, Outcome, clip};

const PRODUCTION: &str = "https://api.push.apple.com";
const SANDBOX: &str = "https://api.sandbox.push.apple.com";
/// A provider token is used this long, then made again.
const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);

pub struct Apns {
    client: reqwest::Client,
    endpoint: String,
    topic: String,
    key: EncodingKey,
    key_id: String,
    team_id: String,
    token: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for Apns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apns")
            .field("endpoint", &self.endpoint)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// What a phone's delivery came to, beyond the attempt: whether the phone is to be
/// deactivated (Apple says the token is no longer valid).
pub struct Pushed {
    pub attempt: Attempt,
    pub deactivate: bool,
}

impl Apns {
    /// None when APNs is not configured (`apns.key` unset).
    pub fn new(settings: &ApnsSettings) -> anyhow::Result<Option<Self>> {
        let Some(key) = settings.key.as_ref().filter(|_| settings.enabled()) else {
            return Ok(None);
        };
        let pem = key.expose_secret().replace("\\n", "\n");
        let key = EncodingKey::from_ec_pem(pem.trim().as_bytes())
            .map_err(|e| anyhow::anyhow!("apns.key is not a .p8 (PKCS#8 P-256) key in PEM: {e}"))?;
        let roots = shared::certs::for_reqwest(
            &shared::certs::optional_pem_certificates(settings.ca_file.as_deref(), "apns.ca_file")?,
            "apns.ca_file",
        )?;
        let client = shared::internal_client::http_client_builder(
            Some(Duration::from_secs(settings.timeout_secs)),
            &roots,
        )
        // APNs speaks HTTP/2 only (ALPN `h2`).
        .http2_prior_knowledge()
        .build()?;
        let endpoint = settings.endpoint.clone().unwrap_or_else(|| {
            (if settings.sandbox {
                SANDBOX
            } else {
                PRODUCTION
            })
            .to_owned()
        });
        Ok(Some(Self {
            client,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            topic: settings.topic.clone(),
            key,
            key_id: settings.key_id.clone(),
            team_id: settings.team_id.clone(),
            token: Mutex::new(None),
        }))
    }

    /// The provider token: the cached one while it is young enough (and not the one Apple
    /// just called expired: `stale`), else a new one. Pushes refused at once share the one
    /// renewal (Apple refuses more than one new token every 20 minutes).
    fn provider_token(&self, stale: Option<&str>) -> Result<String, String> {
        let mut cached = self
            .token
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, made)) = cached.as_ref()
            && made.elapsed() < TOKEN_LIFETIME
            && stale != Some(token.as_str())
        {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = json!({"iss": self.team_id, "iat": chrono::Utc::now().timestamp()});
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("APNs provider token: {e}"))?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// The notification as the app receives it: the alert, and our fields beside `aps`. What a
    /// sender set in `data.push` (`POST /notifications/send`: badge, sound — `none` for
    /// silence —, category, thread id, mutable and available content) goes into `aps`.
    fn payload(msg: &Message<'_>, data: &Value) -> Value {
        // Within APNs' 4 KB with what the sender put in `data` (at most 2 KB).
        let mut aps = json!({
            "alert": {"title": clip(msg.title, 300), "body": clip(msg.body, 1200)},
            "sound": "default",
            "thread-id": msg.kind,
            "interruption-level": if msg.urgent { "time-sensitive" } else { "active" },
        });
        let push = &data["push"];
        if let Some(badge) = push["badge"].as_i64() {
            aps["badge"] = badge.into();
        }
        match push["sound"].as_str() {
            Some("none") => {
                if let Some(o) = aps.as_object_mut() {
                    o.remove("sound");
                }
            }
            Some(sound) => aps["sound"] = sound.into(),
            None => {}
        }
        if let Some(category) = push["category"].as_str() {
            aps["category"] = category.into();
        }
        if let Some(thread) = push["thread_id"].as_str() {
            aps["thread-id"] = thread.into();
        }
        if push["mutable_content"] == true {
            aps["mutable-content"] = 1.into();
        }
        if push["content_available"] == true {
            aps["content-available"] = 1.into();
        }
        json!({"aps": aps, "kind": msg.kind, "notification_id": msg.notification_id, "data": data})
    }

    pub async fn push(&self, device_token: &str, msg: &Message<'_>, data: &Value) -> Pushed {
        let started = Instant::now();
        let mut stale: Option<String> = None;
        loop {
            let token = match self.provider_token(stale.as_deref()) {
                Ok(t) => t,
                Err(error) => {
                    return Pushed {
                        attempt: Attempt {
                            status: None,
                            outcome: Outcome::Failed {
                                error,
                                retry_after: None,
                            },
                            took: started.elapsed(),
                        },
                        deactivate: false,
                    };
                }
            };
            let collapse: String = msg.id.chars().take(64).collect();
            let expires = chrono::Utc::now().timestamp() + 24 * 3600;
            let sent = self
                .client
                .post(format!("{}/3/device/{device_token}", self.endpoint))
                .bearer_auth(&token)
                .header("apns-topic", &self.topic)
                .header("apns-push-type", "alert")
                .header("apns-priority", if msg.urgent { "10" } else { "5" })
                .header("apns-collapse-id", collapse)
                .header("apns-expiration", expires.to_string())
                .json(&Self::payload(msg, data))
                .send()
                .await;
            let res = match sent {
                Ok(r) => r,
                Err(e) => {
                    return Pushed {
                        attempt: Attempt {
                            status: None,
                            outcome: Outcome::Failed {
                                error: format!("APNs unreachable: {}", crate::channels::why(e)),
                                retry_after: None,
                            },
                            took: started.elapsed(),
                        },
                        deactivate: false,
                    };
                }
            };
            let status = res.status().as_u16();
            let wait = res
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::channels::retry_after(v, chrono::Utc::now()));
            let reason = res
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v["reason"].as_str().map(str::to_owned))
                .unwrap_or_default();
            if status == 403 && reason == "ExpiredProviderToken" && stale.is_none() {
                stale = Some(token);
                continue;
            }
            let error = format!("APNs answered {status} {reason}").trim().to_owned();
            // Apple no longer knows the phone's token: the phone is done with.
            let unregistered = status == 410
                || (status == 400
                    && matches!(reason.as_str(), "BadDeviceToken" | "DeviceTokenNotForTopic"));
            // 413: the payload is too large, and will be on every try.
            let outcome = match status {
                200 => Outcome::Taken,
                _ if unregistered || status == 413 => Outcome::Gone { error },
                _ => Outcome::Failed {
                    error,
                    retry_after: wait,
                },
            };
            return Pushed {
                attempt: Attempt {
                    status: Some(status),
                    outcome,
                    took: started.elapsed(),
                },
                deactivate: unregistered,
            };
        }
    }
}
