//! `/calendar/feed`: the user's calendar subscription (make, look at, revoke), and the feed
//! itself at `/ical/{token}.ics`, which the gateway passes through without a user (the
//! token is the key).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::ApiError;
use shared::internal_auth::UserId;

use crate::calendar::{self, ics};
use crate::state::AppState;

/// The address the app reached us at (the gateway says; a direct call in tests: the
/// request's own).
fn public_base(req: &HttpRequest) -> String {
    if let Some(url) = req
        .headers()
        .get(shared::contracts::PUBLIC_URL_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    {
        return url.to_owned();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn feed_view(feed: Option<&shared::entities::calendar_feed::Model>) -> serde_json::Value {
    match feed {
        Some(f) => json!({
            "active": true,
            "alarm_minutes": f.alarm_minutes,
            "created_at": f.created_at,
            "last_fetched_at": f.last_fetched_at,
        }),
        None => json!({"active": false}),
    }
}

/// `GET /calendar/feed` → whether the user has a feed, and when it was made and last read
/// (its address was shown once).
pub async fn status(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let feed = calendar::get(&state.db, user).await?;
    Ok(HttpResponse::Ok().json(feed_view(feed.as_ref())))
}

/// The `POST` body, which may be empty: `{alarm_minutes}` — minutes before a timed event to
/// alert, 0–1440; `null`: no alerts; absent: 15.
fn alarm_minutes(body: &[u8]) -> Result<Option<i32>, ApiError> {
    let bad = || ApiError::validation("alarm_minutes must be 0 to 1440, or null for no alerts");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(calendar::DEFAULT_ALARM_MINUTES));
    }
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| ApiError::validation(format!("body must be a JSON object: {e}")))?;
    if let Some(other) = map.keys().find(|k| *k != "alarm_minutes") {
        return Err(ApiError::validation(format!(
            "unknown field {other:?}; the only field is alarm_minutes"
        )));
    }
    match map.get("alarm_minutes") {
        None => Ok(Some(calendar::DEFAULT_ALARM_MINUTES)),
        Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .filter(|m| (0..=1440).contains(m))
            .and_then(|m| i32::try_from(m).ok())
            .map(Some)
            .ok_or_else(bad),
    }
}

/// `POST /calendar/feed [{alarm_minutes}]` → 201 with the new address (`url`, and
/// `webcal_url` for apps that subscribe from a link); an earlier address stops working.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let alarm = alarm_minutes(&body)?;
    let (token, feed) = calendar::create(&state.db, user, alarm).await?;
    let base = public_base(&req);
    let url = format!("{base}/ical/{token}.ics");
    let webcal = format!(
        "webcal://{}",
        url.split_once("://").map_or(url.as_str(), |(_, rest)| rest)
    );
    let mut view = feed_view(Some(&feed));
    view["url"] = json!(url);
    view["webcal_url"] = json!(webcal);
    view["message"] = json!("订阅地址只显示这一次，请妥善保存；重新生成后旧地址立即失效。");
    Ok(HttpResponse::Created().json(view))
}

/// `DELETE /calendar/feed` → 204; the address stops working (204 when there was none, too).
pub async fn revoke(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    calendar::revoke(&state.db, user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The person's medicines from svc-drugs; without them (svc-drugs unreachable) the feed still
/// serves the events, and says so in the log.
async fn medications(state: &AppState, user: uuid::Uuid) -> shared::contracts::MedicationCalendar {
    let res = state
        .internal
        .request(
            reqwest::Method::GET,
            &state.drugs,
            "/internal/calendar",
            Some(user),
        )
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the medicines for the calendar feed could not be read");
            Default::default()
        }),
        Ok(r) => {
            tracing::warn!(
                status = r.status().as_u16(),
                "svc-drugs refused the calendar's medicines"
            );
            Default::default()
        }
        Err(e) => {
            tracing::warn!(error = %e, "svc-drugs unreachable for the calendar's medicines");
            Default::default()
        }
    }
}

/// `GET /ical/{token}.ics` → the user's events as iCalendar, with an `ETag` (a calendar
/// that sends it back gets 304 while nothing changed).
pub async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = path.strip_suffix(".ics").unwrap_or(&path);
    let feed = calendar::open(&state.db, token).await?;
    let now = Utc::now();
    let tz = state.timezone(feed.user_id).await?;
    let events = calendar::events(&state.db, feed.user_id, now).await?;
    let meds = medications(&state, feed.user_id).await;
    let opts = ics::FeedOptions {
        tz,
        alarm_minutes: feed.alarm_minutes,
        now,
    };
    let text = shared::request_id::spawn_blocking(move || ics::render(&events, &meds, &opts))
        .await
        .map_err(ApiError::internal)?;
    // DTSTAMP is the time of the request: the tag is of the rest.
    let stable: String = text.lines().filter(|l| !l.starts_with("DTSTAMP")).collect();
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(stable.as_bytes())[..16])
    );
    let cache = (header::CACHE_CONTROL, "private, max-age=300");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                // A weak tag of the same body matches too (a proxy that compressed it).
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
            })
        });
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(cache)
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::ETAG, etag))
        .insert_header(cache)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"unilife.ics\"",
        ))
        .body(text))
}
