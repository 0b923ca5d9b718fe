//! Phones (and browsers) of the UniLife app registered for push: what a registration may
//! contain, and the registration itself, where a push token belongs to one account at a time.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set, SqlErr, TransactionTrait,
};
use shared::entities::app_device::{self, Platform};
use uuid::Uuid;

/// Registrations one account may hold (a phone that re-registers updates its row).
pub const MAX_APP_DEVICES: u64 = 20;
const MAX_METADATA_BYTES: usize = 4096;

/// A registration that passed validation: the body of `POST /devices/register`.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub platform: Platform,
    pub token: String,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub device_model: Option<String>,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub metadata: serde_json::Value,
}

/// `ios`, `android` or `web`, in any case (the original compared lower case).
pub fn parse_platform(raw: &str) -> Result<Platform, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "ios" => Ok(Platform::Ios),
        "android" => Ok(Platform::Android),
        "web" => Ok(Platform::Web),
        _ => Err(format!(
            "platform must be one of ios, android, web (got {raw:?})"
        )),
    }
}

/// The push token as the platform's push service takes it. APNs: the device token in hex
/// (32 bytes today; Apple allows longer), kept in lower case so the same phone is one row
/// whatever case the app used. FCM (android, and web through Firebase) and Web Push: no
/// whitespace or control characters, at most 4096 characters.
pub fn parse_token(platform: Platform, raw: &str) -> Result<String, String> {
    let token = raw.trim();
    match platform {
        Platform::Ios => {
            let hex = token.len().is_multiple_of(2) && token.chars().all(|c| c.is_ascii_hexdigit());
            if !hex || !(64..=200).contains(&token.len()) {
                return Err(
                    "token of an ios device must be the APNs device token in hex (64 to 200 hex digits)"
                        .to_owned(),
                );
            }
            Ok(token.to_ascii_lowercase())
        }
        Platform::Android | Platform::Web => {
            let printable = token.chars().all(|c| c.is_ascii_graphic());
            if !printable || !(16..=4096).contains(&token.len()) {
                return Err(format!(
                    "token of an {} device must be 16 to 4096 printable ASCII characters without spaces",
                    platform_name(platform)
                ));
            }
            Ok(token.to_owned())
        }
    }
}

pub fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Ios => "ios",
        Platform::Android => "android",
        Platform::Web => "web",
    }
}

/// An optional text field: trimmed, blank as absent, at most `max` characters.
pub fn optional_text(
    field: &str,
    raw: Option<String>,
    max: usize,
) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(format!(
            "{field} must be at most {max} characters, without control characters"
        ));
    }
    Ok(Some(text.to_owned()))
}

/// `metadata`: a JSON object (absent or null is `{}`), at most 4 KiB serialised.
pub fn parse_metadata(raw: Option<serde_json::Value>) -> Result<serde_json::Value, String> {
    match raw {
        None | Some(serde_json::Value::Null) => Ok(serde_json::json!({})),
        Some(v @ serde_json::Value::Object(_)) => {
            if v.to_string().len() > MAX_METADATA_BYTES {
                return Err(format!(
                    "metadata must be at most {MAX_METADATA_BYTES} bytes of JSON"
                ));
            }
            Ok(v)
        }
        Some(_) => Err("metadata must be a JSON object".to_owned()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(
        "最多可以登记 {MAX_APP_DEVICES} 台设备，请先删除不用的。At most {MAX_APP_DEVICES} devices; remove one first."
    )]
    TooMany,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Register a phone for `user`, or refresh its registration.
///
/// The user's own row is found by `device_id` (when given), else by token, and updated in
/// place (same id, re-activated). A row holding the same token under any other account is
/// removed: the token now reaches a phone signed in to this account, so the old account's
/// notifications must stop going there; its row is deleted rather than handed over, so nothing
/// the old account registered (name, metadata, id) shows up in the new one's list.
pub async fn register(
    db: &DatabaseConnection,
    user: Uuid,
    reg: &Registration,
) -> Result<app_device::Model, RegisterError> {
    // Two registrations of one token at once: the loser of the unique index tries again and
    // then finds the winner's row.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match register_once(db, user, reg).await {
            Err(RegisterError::Db(e))
                if attempt < 3
                    && matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                continue;
            }
            other => return other,
        }
    }
}

async fn register_once(
    db: &DatabaseConnection,
    user: Uuid,
    reg: &Registration,
) -> Result<app_device::Model, RegisterError> {
    let txn = db.begin().await?;
    let mut own = None;
    if let Some(device_id) = &reg.device_id {
        own = app_device::Entity::find()
            .filter(app_device::Column::UserId.eq(user))
            .filter(app_device::Column::DeviceId.eq(device_id.as_str()))
            .one(&txn)
            .await?;
    }
    if own.is_none() {
        own = app_device::Entity::find()
            .filter(app_device::Column::UserId.eq(user))
            .filter(app_device::Column::Token.eq(reg.token.as_str()))
            .one(&txn)
            .await?;
    }
    // Whoever else holds this token (another account, or another row of this one) lets go.
    let mut others =
        app_device::Entity::delete_many().filter(app_device::Column::Token.eq(reg.token.as_str()));
    if let Some(own) = &own {
        others = others.filter(app_device::Column::Id.ne(own.id));
    }
    others.exec(&txn).await?;
    let now = Utc::now();
    let saved = match own {
        Some(own) => {
            let device_id = reg.device_id.clone().or(own.device_id.clone());
            let mut row: app_device::ActiveModel = own.into();
            row.platform = Set(reg.platform);
            row.token = Set(reg.token.clone());
            row.device_id = Set(device_id);
            row.device_name = Set(reg.device_name.clone());
            row.device_model = Set(reg.device_model.clone());
            row.os_version = Set(reg.os_version.clone());
            row.app_version = Set(reg.app_version.clone());
            row.metadata = Set(reg.metadata.clone());
            row.is_active = Set(true);
            row.last_used_at = Set(Some(now));
            row.updated_at = Set(now);
            row.update(&txn).await?
        }
        None => {
            let held = app_device::Entity::find()
                .filter(app_device::Column::UserId.eq(user))
                .count(&txn)
                .await?;
            if held >= MAX_APP_DEVICES {
                return Err(RegisterError::TooMany);
            }
            app_device::ActiveModel {
                id: Set(Uuid::new_v4()),
                user_id: Set(user),
                platform: Set(reg.platform),
                token: Set(reg.token.clone()),
                device_id: Set(reg.device_id.clone()),
                device_name: Set(reg.device_name.clone()),
                device_model: Set(reg.device_model.clone()),
                os_version: Set(reg.os_version.clone()),
                app_version: Set(reg.app_version.clone()),
                metadata: Set(reg.metadata.clone()),
                is_active: Set(true),
                last_used_at: Set(Some(now)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn an_apns_token_is_hex_of_at_least_32_bytes_and_kept_in_lower_case() {
        let token = "AB".repeat(32);
        assert_eq!(parse_token(Platform::Ios, &token).unwrap(), "ab".repeat(32));
        assert!(parse_token(Platform::Ios, &"ab".repeat(31)).is_err());
        assert!(parse_token(Platform::Ios, &"zz".repeat(32)).is_err());
        assert!(parse_token(Platform::Ios, &format!("{}a", "ab".repeat(32))).is_err());
    }

    #[test]
    fn an_fcm_token_is_printable_without_spaces() {
        let fcm = "dGVzdA:APA91bH-abc_def".repeat(4);
        assert_eq!(parse_token(Platform::Android, &fcm).unwrap(), fcm);
        assert!(parse_token(Platform::Android, "short").is_err());
        assert!(parse_token(Platform::Web, &format!("{fcm} x")).is_err());
    }

    #[test]
    fn the_platform_is_one_of_three_in_any_case() {
        assert_eq!(parse_platform("iOS").unwrap(), Platform::Ios);
        assert_eq!(parse_platform("android").unwrap(), Platform::Android);
        assert!(parse_platform("windows").is_err());
    }

    #[test]
    fn metadata_is_an_object_and_null_is_empty() {
        assert_eq!(parse_metadata(None).unwrap(), serde_json::json!({}));
        assert_eq!(
            parse_metadata(Some(serde_json::Value::Null)).unwrap(),
            serde_json::json!({})
        );
        assert!(parse_metadata(Some(serde_json::json!([1]))).is_err());
    }
}
