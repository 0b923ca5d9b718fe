//! `GET/PUT /users/me/notification-settings` (**compat**): the UniLife app's routine times
//! and notification switches, the original's `NotificationSettings` with its defaults.

use actix_web::{HttpResponse, web};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::notification_setting;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::state::Ctx;

/// What a user who never saved settings has (the original's defaults).
pub fn defaults(user: Uuid) -> notification_setting::Model {
    notification_setting::Model {
        user_id: user,
        wake_time: "08:00".to_owned(),
        sleep_time: "22:00".to_owned(),
        morning_briefing_enabled: true,
        afternoon_checkin_enabled: true,
        evening_switch_enabled: true,
        closing_ritual_enabled: true,
        event_reminders_enabled: true,
        event_reminder_minutes: 15,
        updated_at: shared::time::now_micros(),
    }
}

/// The user's settings, or the defaults (for the delivery jobs as for the route).
pub async fn for_user(
    db: &impl sea_orm::ConnectionTrait,
    user: Uuid,
) -> Result<notification_setting::Model, sea_orm::DbErr> {
    Ok(notification_setting::Entity::find_by_id(user)
        .one(db)
        .await?
        .unwrap_or_else(|| defaults(user)))
}

fn view(s: &notification_setting::Model) -> Value {
    json!({
        "wake_time": s.wake_time, "sleep_time": s.sleep_time,
        "morning_briefing_enabled": s.morning_briefing_enabled,
        "afternoon_checkin_enabled": s.afternoon_checkin_enabled,
        "evening_switch_enabled": s.evening_switch_enabled,
        "closing_ritual_enabled": s.closing_ritual_enabled,
        "event_reminders_enabled": s.event_reminders_enabled,
        "event_reminder_minutes": s.event_reminder_minutes,
    })
}

/// `H:MM` or `HH:MM`, 00:00 to 23:59 (the original's pattern), written back as `HH:MM`.
pub fn parse_time(field: &str, raw: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::validation(format!(
            "{field} 应为 HH:MM 格式的时间（收到 {raw:?}）。{field} must be a time as HH:MM (got {raw:?})"
        ))
    };
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(format!("{h:02}:{m:02}"))
}

/// The original's `NotificationSettings`: the whole settings, a field left out takes its
/// default (as the original, which validated the body with defaults and saved all of it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    wake_time: Option<String>,
    sleep_time: Option<String>,
    morning_briefing_enabled: Option<bool>,
    afternoon_checkin_enabled: Option<bool>,
    evening_switch_enabled: Option<bool>,
    closing_ritual_enabled: Option<bool>,
    event_reminders_enabled: Option<bool>,
    event_reminder_minutes: Option<i64>,
    /// Accepted and ignored: the caller's token decides whose settings these are.
    #[serde(rename = "user_id")]
    _user_id: Option<IgnoredAny>,
}

pub async fn get(ctx: web::Data<Ctx>, UserId(user): UserId) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(view(&for_user(&ctx.db, user).await?)))
}

pub async fn put(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let d = defaults(user);
    let minutes = b.event_reminder_minutes.unwrap_or(15);
    if !(0..=120).contains(&minutes) {
        return Err(ApiError::validation(format!(
            "event_reminder_minutes 应在 0 到 120 之间（收到 {minutes}）。event_reminder_minutes must be between 0 and 120 (got {minutes})"
        )));
    }
    let s = notification_setting::Model {
        user_id: user,
        wake_time: match b.wake_time {
            Some(t) => parse_time("wake_time", &t)?,
            None => d.wake_time,
        },
        sleep_time: match b.sleep_time {
            Some(t) => parse_time("sleep_time", &t)?,
            None => d.sleep_time,
        },
        morning_briefing_enabled: b.morning_briefing_enabled.unwrap_or(true),
        afternoon_checkin_enabled: b.afternoon_checkin_enabled.unwrap_or(true),
        evening_switch_enabled: b.evening_switch_enabled.unwrap_or(true),
        closing_ritual_enabled: b.closing_ritual_enabled.unwrap_or(true),
        event_reminders_enabled: b.event_reminders_enabled.unwrap_or(true),
        event_reminder_minutes: i32::try_from(minutes).unwrap_or(15),
        updated_at: shared::time::now_micros(),
    };
    let row = notification_setting::ActiveModel {
        user_id: Set(s.user_id),
        wake_time: Set(s.wake_time.clone()),
        sleep_time: Set(s.sleep_time.clone()),
        morning_briefing_enabled: Set(s.morning_briefing_enabled),
        afternoon_checkin_enabled: Set(s.afternoon_checkin_enabled),
        evening_switch_enabled: Set(s.evening_switch_enabled),
        closing_ritual_enabled: Set(s.closing_ritual_enabled),
        event_reminders_enabled: Set(s.event_reminders_enabled),
        event_reminder_minutes: Set(s.event_reminder_minutes),
        updated_at: Set(s.updated_at),
    };
    use notification_setting::Column as C;
    notification_setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::UserId)
                .update_columns([
                    C::WakeTime,
                    C::SleepTime,
                    C::MorningBriefingEnabled,
                    C::AfternoonCheckinEnabled,
                    C::EveningSwitchEnabled,
                    C::ClosingRitualEnabled,
                    C::EventRemindersEnabled,
                    C::EventReminderMinutes,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&ctx.db)
        .await?;
    let tz = crate::notify::reader(&ctx.db, user).await?.tz;
    crate::checkins::retime(&ctx.db, &s, tz, chrono::Utc::now()).await?;
    Ok(HttpResponse::Ok().json(view(&s)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn times_follow_the_original_pattern_and_come_back_padded() {
        assert_eq!(parse_time("t", "7:30").unwrap(), "07:30");
        assert_eq!(parse_time("t", "23:59").unwrap(), "23:59");
        assert_eq!(parse_time("t", "00:00").unwrap(), "00:00");
        for bad in [
            "24:00", "12:60", "12:5", "1230", "", "12:30:00", "-1:30", "ab:cd", "123:00",
        ] {
            assert!(parse_time("t", bad).is_err(), "{bad}");
        }
    }
}
