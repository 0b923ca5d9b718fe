//! The original's `users`. Their Apple user id (`user_id`) becomes the login here; they have
//! no password (the original had none: the app signs in with Apple).

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde_json::Value;
use shared::entities::user;

use super::owners::{Owner, Owners};
use super::source::{Row, Source};
use super::summary::{Summary, TableSummary};
use super::{ids, values};

/// The password hash of an imported account: not a PHC string, so no password verifies.
pub const NO_PASSWORD: &str = "!imported-from-unilife-no-password";

pub async fn import(
    src: &Source,
    txn: &DatabaseTransaction,
    owners: &mut Owners,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let table = summary.table("users");
    let Some(rows) = src.rows("users").await? else {
        table.absent = true;
        return Ok(());
    };
    for row in rows {
        table.read += 1;
        let Some(original) = row.get("id") else {
            table.skip("?", "no id");
            continue;
        };
        let apple_sub = row.get("user_id").map(str::trim);
        let owner = one(&row, original, apple_sub, txn, table).await?;
        owners.add(original, apple_sub, owner);
    }
    Ok(())
}

async fn one(
    row: &Row,
    original: &str,
    apple_sub: Option<&str>,
    txn: &DatabaseTransaction,
    table: &mut TableSummary,
) -> Result<Result<Owner, String>, DbErr> {
    let id = ids::our_id("user", original);
    let tz = row
        .get("timezone")
        .and_then(|z| z.trim().parse::<Tz>().ok())
        .unwrap_or(shared::DEFAULT_TZ);
    if let Some(existing) = user::Entity::find_by_id(id).one(txn).await? {
        table.existing += 1;
        let tz = existing.timezone.parse().unwrap_or(tz);
        return Ok(Ok(Owner { id, tz }));
    }
    // The original's `user_id` is the Apple `sub`: an account already linked to it (the user
    // signed in with Apple here first) is theirs, and takes their data.
    if let Some(sub) = apple_sub.filter(|s| !s.is_empty())
        && let Some(linked) = user::Entity::find()
            .filter(user::Column::AppleSub.eq(sub))
            .one(txn)
            .await?
    {
        table.existing += 1;
        let tz = linked.timezone.parse().unwrap_or(tz);
        return Ok(Ok(Owner { id: linked.id, tz }));
    }
    let login = match apple_sub {
        Some(sub) if usable_login(sub) => sub.to_owned(),
        Some(sub) => {
            let login = format!("unilife-{id}");
            table.note(
                original,
                format!("user_id {sub:?} cannot be a login; login {login}"),
            );
            login
        }
        None => format!("unilife-{id}"),
    };
    let taken = user::Entity::find()
        .filter(user::Column::Login.eq(login.as_str()))
        .one(txn)
        .await?;
    if taken.is_some() {
        let reason = format!("login {login} belongs to another account here");
        table.skip(original, reason.clone());
        return Ok(Err(format!("user {original} was skipped: {reason}")));
    }
    let email = match row.get("email").map(str::trim) {
        Some(email) => {
            let used = user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .one(txn)
                .await?;
            if used.is_some() {
                table.note(
                    original,
                    format!("email {email} is another account's; left empty"),
                );
                None
            } else {
                Some(email.to_owned())
            }
        }
        None => None,
    };
    let preferences = match row.get("preferences").map(values::json) {
        Some(Ok(v @ Value::Object(_))) => v,
        Some(Ok(_)) | None => serde_json::json!({}),
        Some(Err(e)) => {
            table.note(original, format!("preferences {e}; left empty"));
            serde_json::json!({})
        }
    };
    let at = |c: &str| row.get(c).and_then(|v| values::instant(v, Tz::UTC));
    let created_at = at("created_at").unwrap_or_else(Utc::now);
    let mut account = user::ActiveModel::new();
    account.id = Set(id);
    // Signing in with Apple later finds the account by its `sub`.
    account.apple_sub = Set(apple_sub
        .filter(|sub| !sub.is_empty() && *sub == login)
        .map(str::to_owned));
    account.phone = Set(row
        .get("phone")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned));
    if let Some(energy) = row.get("current_energy").and_then(values::integer) {
        account.current_energy = Set(i32::try_from(energy.clamp(0, 100)).unwrap_or(100));
    }
    if let Some(Ok(profile @ Value::Object(_))) = row.get("energy_profile").map(values::json) {
        account.energy_profile = Set(Some(profile));
    }
    account.login = Set(login);
    account.email = Set(email);
    account.password_hash = Set(NO_PASSWORD.to_owned());
    account.nickname = Set(row.get("nickname").map(str::to_owned));
    account.timezone = Set(tz.name().to_owned());
    account.avatar_url = Set(row.get("avatar_url").map(str::to_owned));
    account.preferences = Set(preferences);
    account.is_admin = Set(false);
    account.created_at = Set(created_at);
    account.updated_at = Set(created_at);
    account.last_active_at = Set(at("last_active_at"));
    account.insert(txn).await?;
    table.created += 1;
    Ok(Ok(Owner { id, tz }))
}

/// A login as sign-in accepts it: 3 to 64 characters, no spaces or control characters.
fn usable_login(login: &str) -> bool {
    (3..=64).contains(&login.chars().count())
        && !login.chars().any(|c| c.is_whitespace() || c.is_control())
}
