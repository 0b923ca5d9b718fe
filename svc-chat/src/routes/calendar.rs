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
            "medications": f.include_medications,
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

/// The `POST` body, which may be empty: `{alarm_minutes, medications}` — minutes before a
/// timed event to alert, 0–1440; `null`: no alerts; absent: 15; and whether the feed shows
/// the person's medicines (default false).
fn feed_body(body: &[u8]) -> Result<(Option<i32>, bool), ApiError> {
    let bad = || ApiError::validation("alarm_minutes must be 0 to 1440, or null for no alerts");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((Some(calendar::DEFAULT_ALARM_MINUTES), false));
    }
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| ApiError::validation(format!("body must be a JSON object: {e}")))?;
    if let Some(other) = map
        .keys()
        .find(|k| *k != "alarm_minutes" && *k != "medications")
    {
        return Err(ApiError::validation(format!(
            "unknown field {other:?}; the fields are alarm_minutes and medications"
        )));
    }
    let medications = match map.get("medications") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| ApiError::validation("medications must be true or false"))?,
    };
    let alarm = match map.get("alarm_minutes") {
        None => Some(calendar::DEFAULT_ALARM_MINUTES),
        Some(serde_json::Value::Null) => None,
        Some(v) => v
            .as_i64()
            .filter(|m| (0..=1440).contains(m))
            .and_then(|m| i32::try_from(m).ok())
            .map(Some)
            .ok_or_else(bad)?,
    };
    Ok((alarm, medications))
}

/// `POST /calendar/feed [{alarm_minutes}]` → 201 with the new address (`url`, and
/// `webcal_url` for apps that subscribe from a link); an earlier address stops working.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (alarm, medications) = feed_body(&body)?;
    let (token, feed) = calendar::create(&state.db, user, alarm, medications).await?;
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

/// The person's medicines from svc-drugs. When they cannot be read the feed is not served
/// (502): a calendar keeps what it had, where a feed without them would delete every dose.
async fn medications(
    state: &AppState,
    user: uuid::Uuid,
) -> Result<shared::contracts::MedicationCalendar, ApiError> {
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
    let unavailable = || {
        ApiError::new(
            shared::ErrorCode::UpstreamUnavailable,
            "the medicine cabinet cannot be read right now; try again later",
        )
    };
    match res {
        Ok(r) if r.status().is_success() => r.json().await.map_err(|e| {
            tracing::warn!(error = %e, "the medicines for the calendar feed could not be read");
            unavailable()
        }),
        Ok(r) => {
            tracing::warn!(
                status = r.status().as_u16(),
                "svc-drugs refused the calendar's medicines"
            );
            Err(unavailable())
        }
        Err(e) => {
            tracing::warn!(error = %e, "svc-drugs unreachable for the calendar's medicines");
            Err(unavailable())
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
    let meds = if feed.include_medications {
        medications(&state, feed.user_id).await?
    } else {
        Default::default()
    };
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
