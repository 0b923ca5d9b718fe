//! Where a notification goes: a channel URL in the Apprise style, checked when it is set, and
//! one small adapter per push service behind the same delivery log.
//!
//! | URL | service |
//! |---|---|
//! | `https://…` | our signed webhook (Standard Webhooks 1.0, plus `X-UniLife-Signature`) |
//! | `bark://<device key>` / `barks://<host>[:port]/<device key>` | Bark (iOS), the public server / a self-hosted one |
//! | `wecombot://<key>` | 企业微信 group bot |
//! | `dingtalk://[<secret>@]<access token>` | 钉钉 group bot (signed when the secret is given) |
//! | `feishu://[<secret>@]<token>` | 飞书 group bot (signed when the secret is given) |
//! | `schan://<SendKey>` | Server酱 (WeChat) |
//! | `ntfy://[<token>@]<topic>` / `ntfys://[<token>@]<host>[:port]/<topic>` | ntfy, ntfy.sh / a self-hosted server |
//! | `webpush:<endpoint>` | a browser's Web Push subscription (`crate::webpush`; its keys are the secret) |
//!
//! `bark://<host>/<key>` and `ntfy://<host>/<topic>` (plain http to a self-hosted server) and
//! `http://` webhooks are for a household's LAN: accepted only with
//! `scheduler.webhook_allow_private`. Every host a user names is checked against internal
//! addresses when set and again when sent to (`shared::outbound`).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use shared::config::SchedulerSettings as Endpoints;
use url::Url;

/// Longest channel URL accepted.
pub const MAX_URL: usize = 2048;
/// Longest wait a far end may ask for with `Retry-After`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    Webhook(Url),
    /// `server`: none for the public server (`scheduler.bark_endpoint`).
    Bark {
        server: Option<Url>,
        key: String,
        critical: bool,
    },
    WecomBot {
        key: String,
    },
    DingTalk {
        token: String,
        secret: Option<String>,
    },
    Feishu {
        token: String,
        secret: Option<String>,
    },
    ServerChan {
        key: String,
    },
    Ntfy {
        server: Option<Url>,
        topic: String,
        token: Option<String>,
    },
    /// A browser's push service endpoint (the subscription's keys are the device's secret).
    WebPush(Url),
}

/// The channel names, as `POST /devices` takes them in `channel`.
pub const KINDS: [&str; 8] = [
    "webhook", "bark", "wecombot", "dingtalk", "feishu", "schan", "ntfy", "webpush",
];

fn bad(zh: &str, en: &str) -> String {
    format!("{zh}。{en}")
}

/// A key or token: letters, digits, `-`, `_`, `.`, 1 to 200 characters.
fn token(field: &str, raw: &str) -> Result<String, String> {
    let ok = (1..=200).contains(&raw.len())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(bad(
            &format!("{field} 只能由字母、数字和 - _ . 组成（1 到 200 个字符）"),
            &format!("{field} must be 1 to 200 letters, digits, '-', '_' or '.'"),
        ))
    }
}

/// `scheme://[user@]host[:port]/path` of a self-hosted server, as the https (or, on a LAN,
/// http) base URL and the rest of the path.
fn server(
    secure: bool,
    rest: &str,
    allow_private: bool,
) -> Result<(Url, String, Option<String>), String> {
    let scheme = if secure { "https" } else { "http" };
    if !secure && !allow_private {
        return Err(bad(
            "自建服务器请用加密连接（barks:// 或 ntfys://）",
            "use an encrypted connection to a self-hosted server (barks:// or ntfys://)",
        ));
    }
    let url = Url::parse(&format!("{scheme}://{rest}")).map_err(|_| {
        bad(
            "服务器地址无效",
            "the server address is not a valid host[:port]/path",
        )
    })?;
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "服务器地址无效",
            "the server address is not a valid host[:port]/path",
        ));
    }
    if !allow_private {
        shared::outbound::check_target(&url)?;
    }
    if url.password().is_some() {
        return Err(bad(
            "访问令牌请写成 ntfys://令牌@主机/主题（不要密码）",
            "give an access token as ntfys://token@host/topic (no password)",
        ));
    }
    let user = (!url.username().is_empty()).then(|| url.username().to_owned());
    let path = url.path().trim_matches('/').to_owned();
    let mut base = url.clone();
    base.set_path("/");
    let _ = base.set_username("");
    let _ = base.set_password(None);
    Ok((base, path, user))
}

/// Parse and check a channel URL (`https://…` for a webhook). `kind`, when the caller named
/// one, must agree with the URL. Messages are in Chinese and English, for the user.
pub fn parse(kind: Option<&str>, raw: &str, allow_private: bool) -> Result<Channel, String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad(
            &format!("地址不能超过 {MAX_URL} 个字符，也不能含空白"),
            &format!("url must be at most {MAX_URL} characters without spaces"),
        ));
    }
    if let Some(endpoint) = raw.strip_prefix("webpush:") {
        let channel = Channel::WebPush(public_url(endpoint, allow_private, "推送服务地址")?);
        return match kind {
            Some(k) if k != "webpush" => Err(bad(
                &format!("渠道 {k} 与 webpush: 地址不符"),
                &format!("channel {k:?} does not match a webpush: URL"),
            )),
            _ => Ok(channel),
        };
    }
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err(bad(
            "地址无效：应以 https://、bark://、wecombot://、dingtalk://、feishu://、schan:// 或 ntfy:// 开头",
            "url is not a channel URL (https://, bark://, wecombot://, dingtalk://, feishu://, schan:// or ntfy://)",
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let params: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let channel = match scheme.as_str() {
        "https" | "http" => Channel::Webhook(public_url(raw, allow_private, "Webhook 地址")?),
        "bark" | "barks" => {
            let critical = params
                .iter()
                .any(|(k, v)| k == "critical" && matches!(v.as_str(), "yes" | "true" | "1"));
            if scheme == "bark" && !rest.contains('/') {
                Channel::Bark {
                    server: None,
                    key: token("Bark device key", rest)?,
                    critical,
                }
            } else {
                let (base, key, _) = server(scheme == "barks", rest, allow_private)?;
                Channel::Bark {
                    server: Some(base),
                    key: token("Bark device key", &key)?,
                    critical,
                }
            }
        }
        "wecombot" => Channel::WecomBot {
            key: token("企业微信机器人 key", rest.trim_end_matches('/'))?,
        },
        "dingtalk" | "feishu" => {
            let rest = rest.trim_end_matches('/');
            let (secret, tok) = match rest.split_once('@') {
                Some((s, t)) => (Some(token("secret", s)?), t),
                None => (None, rest),
            };
            let tok = token("token", tok)?;
            if scheme == "dingtalk" {
                Channel::DingTalk { token: tok, secret }
            } else {
                Channel::Feishu { token: tok, secret }
            }
        }
        "schan" => Channel::ServerChan {
            key: token("SendKey", rest.trim_end_matches('/'))?,
        },
        "ntfy" | "ntfys" => {
            if scheme == "ntfy" && !rest.contains('/') {
                let (tok, topic) = match rest.split_once('@') {
                    Some((t, topic)) => (Some(token("token", t)?), topic),
                    None => (None, rest),
                };
                Channel::Ntfy {
                    server: None,
                    topic: token("topic", topic)?,
                    token: tok,
                }
            } else {
                let (base, topic, user) = server(scheme == "ntfys", rest, allow_private)?;
                Channel::Ntfy {
                    server: Some(base),
                    topic: token("topic", &topic)?,
                    token: user.map(|t| token("token", &t)).transpose()?,
                }
            }
        }
        _ => {
            return Err(bad(
                &format!("不支持的渠道 {scheme}://"),
                &format!(
                    "{scheme}:// is not a channel we send to (https, bark, barks, wecombot, dingtalk, feishu, schan, ntfy, ntfys)"
                ),
            ));
        }
    };
    if let Some(kind) = kind
        && kind != channel.kind()
    {
        return Err(bad(
            &format!("渠道 {kind} 与地址 {scheme}:// 不符"),
            &format!("channel {kind:?} does not match a {scheme}:// URL"),
        ));
    }
    Ok(channel)
}

/// An https URL to a public address (http and any address with `allow_private`).
fn public_url(raw: &str, allow_private: bool, what: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|_| bad("网址无效", "url is not a valid URL"))?;
    if url.host_str().is_none() || !matches!(url.scheme(), "https" | "http") {
        return Err(bad("网址无效", "url is not a valid URL"));
    }
    if url.scheme() == "http" && !allow_private {
        return Err(bad(&format!("{what}必须是 https"), "the URL must be https"));
    }
    if !allow_private {
        shared::outbound::check_target(&url)?;
    }
    Ok(url)
}

/// First four characters of a key, the rest hidden.
fn mask(s: &str) -> String {
    let shown: String = s.chars().take(4).collect();
    format!("{shown}…")
}

impl Channel {
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Webhook(_) => "webhook",
            Channel::Bark { .. } => "bark",
            Channel::WecomBot { .. } => "wecombot",
            Channel::DingTalk { .. } => "dingtalk",
            Channel::Feishu { .. } => "feishu",
            Channel::ServerChan { .. } => "schan",
            Channel::Ntfy { .. } => "ntfy",
            Channel::WebPush(_) => "webpush",
        }
    }

    /// What the user is shown of it: the service and server, keys cut to their first four
    /// characters (a webhook: without its query, which may carry a token).
    pub fn redacted(&self) -> String {
        let host = |s: &Option<Url>| {
            s.as_ref()
                .map(|u| {
                    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                    format!("{}{port}/", u.host_str().unwrap_or_default())
                })
                .unwrap_or_default()
        };
        let signed = |s: &Option<String>| s.as_ref().map(|s| format!("{}@", mask(s)));
        match self {
            Channel::Webhook(url) => {
                let mut u = url.clone();
                let had_query = u.query().is_some();
                u.set_query(None);
                u.set_fragment(None);
                let _ = u.set_username("");
                let _ = u.set_password(None);
                if had_query {
                    format!("{u}?…")
                } else {
                    u.to_string()
                }
            }
            Channel::Bark { server, key, .. } => {
                let scheme = match server {
                    Some(u) if u.scheme() == "https" => "barks",
                    _ => "bark",
                };
                format!("{scheme}://{}{}", host(server), mask(key))
            }
            Channel::WecomBot { key } => format!("wecombot://{}", mask(key)),
            Channel::DingTalk { token, secret } => format!(
                "dingtalk://{}{}",
                signed(secret).unwrap_or_default(),
                mask(token)
            ),
            Channel::Feishu { token, secret } => format!(
                "feishu://{}{}",
                signed(secret).unwrap_or_default(),
                mask(token)
            ),
            Channel::ServerChan { key } => format!("schan://{}", mask(key)),
            Channel::Ntfy { server, topic, .. } => {
                let scheme = match server {
                    Some(u) if u.scheme() == "https" => "ntfys",
                    _ => "ntfy",
                };
                format!("{scheme}://{}{topic}", host(server))
            }
            // The endpoint's path is the subscription's capability: only its host is shown.
            Channel::WebPush(url) => {
                format!("webpush:{}/…", url.host_str().unwrap_or_default())
            }
        }
    }

    /// The host a user named (webhook, self-hosted Bark or ntfy): checked again before each
    /// send, as its name may resolve elsewhere by now.
    fn user_host(&self) -> Option<&Url> {
        match self {
            Channel::Webhook(u) | Channel::WebPush(u) => Some(u),
            Channel::Bark { server, .. } | Channel::Ntfy { server, .. } => server.as_ref(),
            _ => None,
        }
    }
}

/// One message to send.
pub struct Message<'a> {
    /// The delivery's id: the same on every retry (the webhook's `webhook-id`).
    pub id: String,
    /// The notification's (the inbox's id: what the app marks read).
    pub notification_id: String,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Due at a time the user set (a dose, an event) or sent as high priority: Bark's
    /// time-sensitive level (a dose: critical when the user opted in), ntfy's high priority,
    /// APNs' priority 10 and time-sensitive interruption level.
    pub urgent: bool,
    /// The webhook's JSON body.
    pub payload: &'a [u8],
}

/// Webhook signing secrets: the current one and, during a rotation, the one before.
pub struct Secrets<'a> {
    pub current: &'a str,
    pub previous: Option<&'a str>,
}

/// How a try ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The HTTP status, when the far end answered.
    pub status: Option<u16>,
    pub outcome: Outcome,
    pub took: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Taken,
    /// Worth another try, after at least `retry_after` when the far end said so.
    Failed {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Another try cannot succeed (the far end says the target is gone: 404, 410).
    Gone {
        error: String,
    },
}

impl Attempt {
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Taken => None,
            Outcome::Failed { error, .. } | Outcome::Gone { error } => Some(error),
        }
    }
}

/// `Retry-After`: seconds or an HTTP date, at most a day.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = DateTime::parse_from_rfc2822(value).ok()?;
        (at.with_timezone(&Utc) - now).to_std().unwrap_or_default()
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_b64(key: &[u8], message: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes a key of any length.
        Err(_) => return String::new(),
    };
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// DingTalk's signature: base64 of HMAC-SHA256 over `"<timestamp ms>\n<secret>"` keyed by the
/// secret (sent URL-encoded as `sign`, with `timestamp`).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    hmac_b64(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    )
}

/// Feishu's signature: base64 of HMAC-SHA256 keyed by `"<timestamp s>\n<secret>"` over
/// nothing.
pub fn feishu_sign(secret: &str, timestamp: i64) -> String {
    hmac_b64(format!("{timestamp}\n{secret}").as_bytes(), b"")
}

/// The key of a webhook secret for Standard Webhooks: a `whsec_` secret is base64 after the
/// prefix; a secret made before (64 hex digits) is used as its text.
pub fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// Standard Webhooks 1.0 `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.ts.body">`, one
/// per secret, space-separated.
pub fn standard_signature(secrets: &Secrets<'_>, id: &str, ts: i64, body: &[u8]) -> String {
    let mut content = format!("{id}.{ts}.").into_bytes();
    content.extend_from_slice(body);
    std::iter::once(secrets.current)
        .chain(secrets.previous)
        .map(|s| format!("v1,{}", hmac_b64(&standard_key(s), &content)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sends through the channel's service and reads what it answered. `allow_private` skips the
/// check of user-named hosts (the client's resolver still applies its own rule).
#[allow(
    clippy::too_many_arguments,
    reason = "each is a different thing the adapters need"
)]
pub async fn send(
    client: &reqwest::Client,
    endpoints: &Endpoints,
    vapid: Option<&crate::webpush::Vapid>,
    allow_private: bool,
    channel: &Channel,
    secrets: &Secrets<'_>,
    msg: &Message<'_>,
) -> Attempt {
    let started = Instant::now();
    let done = |status, outcome| Attempt {
        status,
        outcome,
        took: started.elapsed(),
    };
    if !allow_private
        && let Some(url) = channel.user_host()
        && shared::outbound::check_target(url).is_err()
    {
        return done(
            None,
            Outcome::Failed {
                error: "refused: not a public address".to_owned(),
                retry_after: None,
            },
        );
    }
    let request = match build(client, endpoints, vapid, channel, secrets, msg) {
        Ok(r) => r,
        Err(e) => {
            return done(
                None,
                Outcome::Gone {
                    error: format!("bad endpoint: {e}"),
                },
            );
        }
    };
    let res = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return done(
                None,
                Outcome::Failed {
                    error: format!("unreachable: {}", why(e)),
                    retry_after: None,
                },
            );
        }
    };
    let status = res.status();
    let wait = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, Utc::now()));
    // The answer's body, for the services that say in it whether they took the message.
    let text = res.text().await.unwrap_or_default();
    let code = Some(status.as_u16());
    if matches!(status.as_u16(), 404 | 410) {
        return done(
            code,
            Outcome::Gone {
                error: format!("answered {}", status.as_u16()),
            },
        );
    }
    if !status.is_success() {
        return done(
            code,
            Outcome::Failed {
                error: format!("answered {}{}", status.as_u16(), snippet(&text)),
                retry_after: wait,
            },
        );
    }
    match refused_in_body(channel, &text) {
        None => done(code, Outcome::Taken),
        Some(error) => done(
            code,
            Outcome::Failed {
                error,
                retry_after: wait,
            },
        ),
    }
}

/// Why a request failed, with its causes (`error sending request: dns error: ...`) and
/// without the URL (it may hold a key; the log is shown to its owner, not the key).
pub fn why(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// `text` cut to at most `max` bytes at a character boundary, with `…` when cut (the push
/// services refuse longer texts: 企业微信 2 048 bytes, ntfy 4 096, APNs 4 KB in all).
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// `: <first 200 characters>` of an answer, for the log.
fn snippet(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        String::new()
    } else {
        format!(": {}", t.chars().take(200).collect::<String>())
    }
}

/// The chat apps' bots answer 200 and say in the body whether they took the message.
fn refused_in_body(channel: &Channel, text: &str) -> Option<String> {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let (code_field, ok, msg_field) = match channel {
        Channel::Webhook(_) | Channel::Ntfy { .. } | Channel::WebPush(_) => return None,
        Channel::Bark { .. } => ("code", 200, "message"),
        Channel::WecomBot { .. } | Channel::DingTalk { .. } => ("errcode", 0, "errmsg"),
        Channel::Feishu { .. } => ("code", 0, "msg"),
        Channel::ServerChan { .. } => ("code", 0, "message"),
    };
    match body.get(code_field).and_then(Value::as_i64) {
        Some(c) if c == ok => None,
        Some(c) => Some(format!(
            "{} refused: {code_field} {c}{}",
            channel.kind(),
            body.get(msg_field)
                .and_then(Value::as_str)
                .map(|m| format!(" ({})", m.chars().take(200).collect::<String>()))
                .unwrap_or_default()
        )),
        None => Some(format!(
            "{} answered without {code_field}{}",
            channel.kind(),
            snippet(text)
        )),
    }
}

fn endpoint(base: &str, path: &str) -> Result<Url, String> {
    let base = Url::parse(base).map_err(|e| e.to_string())?;
    base.join(path).map_err(|e| e.to_string())
}

fn build(
    client: &reqwest::Client,
    endpoints: &Endpoints,
    vapid: Option<&crate::webpush::Vapid>,
    channel: &Channel,
    secrets: &Secrets<'_>,
    msg: &Message<'_>,
) -> Result<reqwest::RequestBuilder, String> {
    let text = format!("{}\n{}", msg.title, msg.body);
    let text = clip(&text, 2000);
    Ok(match channel {
        Channel::Webhook(url) => {
            let ts = Utc::now().timestamp();
            client
                .post(url.clone())
                .header("content-type", "application/json")
                .header("webhook-id", &msg.id)
                .header("webhook-timestamp", ts.to_string())
                .header(
                    "webhook-signature",
                    standard_signature(secrets, &msg.id, ts, msg.payload),
                )
                // The header receivers checked before Standard Webhooks; kept for a release.
                .header("x-unilife-signature", {
                    let mut header = crate::notify::signature(secrets.current, ts, msg.payload);
                    // During a rotation the old secret signs too (`t=…,v1=…,v1=…`).
                    if let Some(previous) = secrets.previous {
                        let old = crate::notify::signature(previous, ts, msg.payload);
                        if let Some((_, v1)) = old.split_once(',') {
                            header.push(',');
                            header.push_str(v1);
                        }
                    }
                    header
                })
                .header("x-unilife-delivery", &msg.id)
                .header("x-unilife-event", msg.kind)
                .body(msg.payload.to_vec())
        }
        Channel::Bark {
            server,
            key,
            critical,
        } => {
            let base = match server {
                Some(u) => u.to_string(),
                None => endpoints.bark_endpoint.clone(),
            };
            // Critical alerts (they sound through silent mode) for doses only, when opted in.
            let level = match (msg.urgent, *critical && msg.kind == "dose_reminder") {
                (true, true) => "critical",
                (true, false) => "timeSensitive",
                _ => "active",
            };
            client.post(endpoint(&base, "push")?).json(&json!({
                "device_key": key, "title": msg.title, "body": msg.body,
                "level": level, "group": "UniLife",
            }))
        }
        Channel::WecomBot { key } => {
            let mut url = endpoint(&endpoints.wecombot_endpoint, "cgi-bin/webhook/send")?;
            url.query_pairs_mut().append_pair("key", key);
            client
                .post(url)
                .json(&json!({"msgtype": "text", "text": {"content": text}}))
        }
        Channel::DingTalk { token, secret } => {
            let mut url = endpoint(&endpoints.dingtalk_endpoint, "robot/send")?;
            url.query_pairs_mut().append_pair("access_token", token);
            if let Some(secret) = secret {
                let ts = Utc::now().timestamp_millis();
                url.query_pairs_mut()
                    .append_pair("timestamp", &ts.to_string())
                    .append_pair("sign", &dingtalk_sign(secret, ts));
            }
            client
                .post(url)
                .json(&json!({"msgtype": "text", "text": {"content": text}}))
        }
        Channel::Feishu { token, secret } => {
            let url = endpoint(
                &endpoints.feishu_endpoint,
                &format!("open-apis/bot/v2/hook/{token}"),
            )?;
            let mut body = json!({"msg_type": "text", "content": {"text": text}});
            if let Some(secret) = secret {
                let ts = Utc::now().timestamp();
                body["timestamp"] = ts.to_string().into();
                body["sign"] = feishu_sign(secret, ts).into();
            }
            client.post(url).json(&body)
        }
        Channel::ServerChan { key } => client
            .post(endpoint(&endpoints.schan_endpoint, &format!("{key}.send"))?)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("title", msg.title)
                    .append_pair("desp", msg.body)
                    .finish(),
            ),
        Channel::Ntfy {
            server,
            topic,
            token,
        } => {
            let base = match server {
                Some(u) => u.to_string(),
                None => endpoints.ntfy_endpoint.clone(),
            };
            // JSON publishing: titles in Chinese need no header encoding.
            let req = client.post(endpoint(&base, "")?).json(&json!({
                "topic": topic, "title": clip(msg.title, 250), "message": clip(msg.body, 3500),
                "priority": if msg.urgent { 4 } else { 3 }, "tags": [msg.kind],
            }));
            match token {
                Some(t) => req.bearer_auth(t),
                None => req,
            }
        }
        Channel::WebPush(url) => {
            let vapid = vapid
                .ok_or("Web Push is not configured on this server (scheduler.vapid_private_key)")?;
            let keys = crate::webpush::Keys::from_secret(secrets.current)?;
            // What the console's service worker shows; well under the 4 KB a push may carry.
            let shown = json!({
                "id": msg.notification_id, "kind": msg.kind,
                "title": clip(msg.title, 200), "body": clip(msg.body, 1500),
            });
            let body = keys.encrypt(shown.to_string().as_bytes())?;
            client
                .post(url.clone())
                .header(
                    "authorization",
                    vapid.authorization(url, Utc::now().timestamp()),
                )
                .header("content-encoding", "aes128gcm")
                .header("content-type", "application/octet-stream")
                // A dose is no use a day late; other news keeps a day.
                .header("ttl", if msg.urgent { "3600" } else { "86400" })
                .header("urgency", if msg.urgent { "high" } else { "normal" })
                .body(body)
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn channel_urls_parse_to_their_service() {
        let p = |s: &str| parse(None, s, false);
        assert_eq!(
            p("bark://AbCdEf123?critical=yes").unwrap(),
            Channel::Bark {
                server: None,
                key: "AbCdEf123".into(),
                critical: true
            }
        );
        let Channel::Bark {
            server: Some(s),
            key,
            ..
        } = p("barks://bark.example.com:8443/KEY1").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (s.as_str(), key.as_str()),
            ("https://bark.example.com:8443/", "KEY1")
        );
        assert_eq!(
            p("dingtalk://SECabc@tok123").unwrap(),
            Channel::DingTalk {
                token: "tok123".into(),
                secret: Some("SECabc".into())
            }
        );
        assert_eq!(
            p("feishu://hook-uuid-1").unwrap(),
            Channel::Feishu {
                token: "hook-uuid-1".into(),
                secret: None
            }
        );
        assert_eq!(
            p("ntfy://tk_x@alerts").unwrap(),
            Channel::Ntfy {
                server: None,
                topic: "alerts".into(),
                token: Some("tk_x".into())
            }
        );
        assert_eq!(p("schan://SCT1abc").unwrap().kind(), "schan");
        assert_eq!(p("wecombot://k-1").unwrap().kind(), "wecombot");
        assert_eq!(p("https://hooks.example.com/x").unwrap().kind(), "webhook");
        assert!(parse(Some("bark"), "wecombot://k", false).is_err());
        assert!(parse(Some("wecombot"), "wecombot://k", false).is_ok());
    }

    #[test]
    fn bad_or_internal_channel_urls_are_refused_in_both_languages() {
        for url in [
            "mailto://x",
            "bark://",
            "bark://key with space",
            "dingtalk://@tok",
            "wecombot://a/b",
            "ntfy://127.0.0.1/topic",
            "bark://192.168.1.2/key",
            "barks://10.0.0.1/key",
            "ntfys://localhost/t",
            "barks://169.254.169.254/key",
            "http://hooks.example.com/h",
            "https://127.0.0.1/h",
            "ntfys://[::ffff:127.0.0.1]/t",
            "barks://0x7f000001/k",
        ] {
            let e = parse(None, url, false).unwrap_err();
            assert!(
                e.chars().any(|c| c > '\u{2E80}') && e.chars().any(|c| c.is_ascii_alphabetic()),
                "{url}: {e}"
            );
        }
        // A household's own LAN, when allowed.
        assert!(parse(None, "bark://192.168.1.2:8080/key", true).is_ok());
    }

    /// The SSRF corpus: every spelling of an internal address, as the host of a webhook and of
    /// a self-hosted Bark or ntfy server, is refused when set.
    #[test]
    fn no_spelling_of_an_internal_address_is_accepted() {
        let hosts = [
            "127.0.0.1",
            "127.1",
            "127.0.0.1.",
            "0177.0.0.1",
            "0x7f.0.0.1",
            "0x7f000001",
            "2130706433",
            "017700000001",
            "[::1]",
            "[0:0:0:0:0:0:0:1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::ffff:a9fe:a9fe]",
            "[64:ff9b::7f00:1]",
            "[2002:7f00:1::]",
            "[2002:a9fe:a9fe::1]",
            "[::127.0.0.1]",
            "0.0.0.0",
            "0",
            "[::]",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.170.2",
            "100.100.100.200",
            "100.64.0.1",
            "[fe80::1]",
            "[fd00::1]",
            "[fc00::1]",
            "224.0.0.1",
            "255.255.255.255",
            "[ff02::1]",
            "localhost",
            "LOCALHOST",
            "api.localhost",
            "printer.local",
            "metadata.google.internal",
            "router.lan",
            "nas.home.arpa",
            "intranet",
            "metadata",
        ];
        let mut tried = 0;
        for host in hosts {
            for url in [
                format!("https://{host}/hook"),
                format!("https://{host}:8443/hook"),
                format!("barks://{host}/devicekey"),
                format!("ntfys://{host}/topic"),
            ] {
                tried += 1;
                assert!(parse(None, &url, false).is_err(), "{url} was accepted");
            }
        }
        // Credentials and fragments that try to hide the host.
        for url in [
            "https://hooks.example.com@127.0.0.1/h",
            "https://127.0.0.1#@hooks.example.com/h",
            "https://user:pw@10.0.0.1/h",
            "ntfys://tk_1@192.168.0.2/topic",
            "http://127.0.0.1/h",
            "bark://127.0.0.1/key",
            "ntfy://169.254.169.254/t",
        ] {
            tried += 1;
            assert!(parse(None, url, false).is_err(), "{url} was accepted");
        }
        assert!(tried >= 60, "{tried}");
        for fine in [
            "https://hooks.example.com/h",
            "https://203.0.113.9.nip.example/h",
            "barks://bark.example.org/key",
            "ntfys://ntfy.example.net/topic",
        ] {
            assert!(parse(None, fine, false).is_ok(), "{fine}");
        }
    }

    #[test]
    fn what_the_user_sees_hides_the_keys() {
        let shown = |s: &str| parse(None, s, false).unwrap().redacted();
        assert_eq!(
            shown("dingtalk://SECabcdef@tok123456"),
            "dingtalk://SECa…@tok1…"
        );
        assert_eq!(shown("bark://AbCdEf123"), "bark://AbCd…");
        assert_eq!(
            shown("barks://b.example.com/KEY123"),
            "barks://b.example.com/KEY1…"
        );
        assert_eq!(
            shown("https://h.example.com/x?token=secret"),
            "https://h.example.com/x?…"
        );
        assert_eq!(
            shown("https://user:pw@h.example.com/x"),
            "https://h.example.com/x"
        );
        assert!(parse(None, "ntfys://user:pw@ntfy.example.net/t", false).is_err());
        assert_eq!(clip("一二三四", 9), "一二…");
        assert_eq!(clip("abc", 9), "abc");
    }

    #[test]
    fn signatures_match_the_vendors_documented_algorithms() {
        // Computed independently:
        // python3 -c "import hmac,hashlib,base64;s='SEC1';t=1700000000000;print(base64.b64encode(hmac.new(s.encode(),f'{t}\n{s}'.encode(),hashlib.sha256).digest()).decode())"
        assert_eq!(
            dingtalk_sign("SEC1", 1_700_000_000_000),
            "ukR4+WoOOBTGaOauYqugxVrMSFyr92q4hPxJxuOkiio="
        );
        // python3 -c "import hmac,hashlib,base64;s='sec';t=1700000000;print(base64.b64encode(hmac.new(f'{t}\n{s}'.encode(),b'',hashlib.sha256).digest()).decode())"
        assert_eq!(
            feishu_sign("sec", 1_700_000_000),
            "ttGYnPblC3CcNExnS7y5igm57JhpqZJtHpJ+TURiUeg="
        );
    }

    #[test]
    fn standard_webhooks_signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks specification (standard-webhooks/spec).
        let secrets = Secrets {
            current: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            previous: None,
        };
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(&secrets, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_at_most_a_day() {
        let now: DateTime<Utc> = "2026-12-06T10:00:00Z".parse().unwrap();
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 10:05:00 GMT", now),
            Some(Duration::from_secs(300))
        );
        assert_eq!(retry_after("99999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
    }
}
