//! drug-serve's `drugs` table: one shared cabinet (drug-serve had no accounts), which goes to
//! one account here, and each drug's photos from its `uploads/` directory.

use std::path::Path;

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde_json::Value;
use shared::entities::{drug, user};
use uuid::Uuid;

use super::photos::{self, Rules};
use super::source::{Row, Source};
use super::summary::{Summary, TableSummary};
use super::{ids, values};

/// The password hash the gateway gives the reserved legacy account it creates (no password
/// verifies against it; migration 5 recognises it).
const LEGACY_NO_PASSWORD: &str = "!legacy-account-no-password";

/// The name drug-serve gave a drug it could not read.
const UNKNOWN_DRUG: &str = "未知药品";

/// The account the drugs go to: the one with `login`, else the reserved legacy account (made
/// as the gateway makes it, if it does not exist yet).
pub async fn owner(txn: &DatabaseTransaction, login: Option<&str>) -> anyhow::Result<Uuid> {
    let wanted = login.unwrap_or(user::LEGACY_LOGIN);
    let found = user::Entity::find()
        .filter(user::Column::Login.eq(wanted))
        .one(txn)
        .await?;
    match (found, login) {
        (Some(u), _) => Ok(u.id),
        (None, Some(login)) => anyhow::bail!("--drugs-owner {login}: no account has that login"),
        (None, None) => {
            let now = Utc::now();
            let mut account = user::ActiveModel::new();
            account.id = Set(Uuid::now_v7());
            account.login = Set(user::LEGACY_LOGIN.to_owned());
            account.email = Set(None);
            account.password_hash = Set(LEGACY_NO_PASSWORD.to_owned());
            account.nickname = Set(Some("drug-serve".to_owned()));
            account.timezone = Set(shared::DEFAULT_TIMEZONE.to_owned());
            account.avatar_url = Set(None);
            account.preferences = Set(serde_json::json!({}));
            account.is_admin = Set(false);
            account.created_at = Set(now);
            account.updated_at = Set(now);
            account.last_active_at = Set(Some(now));
            let made = account.insert(txn).await?;
            Ok(made.id)
        }
    }
}

pub async fn import(
    src: &Source,
    uploads: &Path,
    owner: Uuid,
    txn: &DatabaseTransaction,
    rules: &Rules,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let Some(rows) = src.rows("drugs").await? else {
        summary.table("drugs").absent = true;
        return Ok(());
    };
    summary.table("drug photos");
    for row in rows {
        let table = summary.table("drugs");
        table.read += 1;
        let Some(original) = row.get("id") else {
            table.skip("?", "no id");
            continue;
        };
        let (drug, created_at) = one(&row, original, owner, txn, table).await?;
        let files = photo_files(&row, original, table);
        let table = summary.table("drug photos");
        for file in files {
            photos::import(uploads, &file, &drug, created_at, txn, rules, table).await?;
        }
    }
    Ok(())
}

/// The drug, found or created.
async fn one(
    row: &Row,
    original: &str,
    owner: Uuid,
    txn: &DatabaseTransaction,
    table: &mut TableSummary,
) -> Result<(drug::Model, chrono::DateTime<Utc>), DbErr> {
    let id = ids::our_id("drug", original);
    if let Some(existing) = drug::Entity::find_by_id(id).one(txn).await? {
        table.existing += 1;
        let at = existing.created_at;
        return Ok((existing, at));
    }
    let mut date = |column: &str| {
        let raw = row.get(column)?;
        let parsed = values::date(raw);
        if parsed.is_none() {
            table.note(
                original,
                format!("{column} {raw:?} is not a date; left empty"),
            );
        }
        parsed
    };
    let production_date = date("production_date");
    let expiry_date = date("expiry_date");
    let created_at = row
        .get("created_at")
        .and_then(|v| values::instant(v, Tz::UTC))
        .unwrap_or_else(Utc::now);
    let name = row.get("name").map_or(UNKNOWN_DRUG, str::trim);
    // Field by field: what drug-serve did not have stays unset (NULL, or the column's
    // default), except the searched fields `search_text` is computed from on save.
    let mut row_here = drug::ActiveModel::new();
    row_here.id = Set(id);
    row_here.user_id = Set(owner);
    row_here.name = Set(name.to_owned());
    row_here.brand = Set(None);
    row_here.generic_name = Set(None);
    row_here.manufacturer = Set(None);
    row_here.production_date = Set(production_date);
    row_here.expiry_date = Set(expiry_date);
    row_here.created_at = Set(created_at);
    row_here.updated_at = Set(created_at);
    let made = row_here.insert(txn).await?;
    table.created += 1;
    Ok((made, created_at))
}

/// The file names of the drug's photos: `image_urls` (a JSON list of `/uploads/<file>`),
/// and `image_url`, which older rows have alone.
fn photo_files(row: &Row, original: &str, table: &mut TableSummary) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    if let Some(raw) = row.get("image_urls") {
        match values::json(raw) {
            Ok(Value::Array(list)) => {
                urls.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            Ok(Value::Null) => {}
            Ok(_) => table.note(original, "image_urls is not a list; image_url used"),
            Err(e) => table.note(original, format!("image_urls {e}; image_url used")),
        }
    }
    urls.extend(row.get("image_url").map(str::to_owned));
    let mut files: Vec<String> = Vec::new();
    for url in urls {
        let name = url.trim().rsplit('/').next().unwrap_or_default().to_owned();
        if name.is_empty() || name == "." || name == ".." || name.contains('\\') {
            table.note(original, format!("photo {url:?} is not a file in uploads/"));
        } else if !files.contains(&name) {
            files.push(name);
        }
    }
    files
}
