//! The original's `conversations` and `messages`. We keep what the user and the assistant
//! said; the original also stored the model's tool steps (`tool` messages, assistant turns
//! that only called tools), which are not conversation text and are skipped.

use std::collections::HashMap;

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, EntityTrait, Set};
use shared::entities::{conversation, message};
use uuid::Uuid;

use super::owners::Owners;
use super::source::{Row, Source};
use super::summary::Summary;
use super::{ids, values};

/// Characters of the first message a conversation without a title is named by (as a new
/// conversation is).
const TITLE_CHARS: usize = 30;

struct Imported {
    id: Uuid,
    user: Uuid,
}

pub async fn import(
    src: &Source,
    txn: &DatabaseTransaction,
    owners: &Owners,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let messages = src.rows("messages").await?;
    let mut first_words: HashMap<&str, &str> = HashMap::new();
    for m in messages.iter().flatten() {
        if let (Some(c), Some("user"), Some(text)) =
            (m.get("conversation_id"), m.get("role"), m.get("content"))
        {
            first_words.entry(c).or_insert(text);
        }
    }

    let table = summary.table("conversations");
    let mut imported: HashMap<String, Result<Imported, String>> = HashMap::new();
    match src.rows("conversations").await? {
        None => table.absent = true,
        Some(rows) => {
            for row in rows {
                table.read += 1;
                let Some(original) = row.get("id") else {
                    table.skip("?", "no id");
                    continue;
                };
                let owner = match owners.resolve(row.get("user_id")) {
                    Ok(owner) => owner,
                    Err(reason) => {
                        table.skip(original, reason.clone());
                        imported.insert(original.to_owned(), Err(reason));
                        continue;
                    }
                };
                let id = ids::our_id("conversation", original);
                if conversation::Entity::find_by_id(id)
                    .one(txn)
                    .await?
                    .is_some()
                {
                    table.existing += 1;
                } else {
                    let title = row
                        .get("title")
                        .or_else(|| first_words.get(original).copied())
                        .map(|t| t.trim().chars().take(TITLE_CHARS).collect())
                        .unwrap_or_default();
                    let created_at = instant(&row, "created_at");
                    conversation::ActiveModel {
                        id: Set(id),
                        user_id: Set(owner.id),
                        title: Set(title),
                        created_at: Set(created_at),
                        updated_at: Set(row
                            .get("updated_at")
                            .and_then(|v| values::instant(v, Tz::UTC))
                            .unwrap_or(created_at)),
                    }
                    .insert(txn)
                    .await?;
                    table.created += 1;
                }
                imported.insert(original.to_owned(), Ok(Imported { id, user: owner.id }));
            }
        }
    }

    let table = summary.table("messages");
    let Some(rows) = messages else {
        table.absent = true;
        return Ok(());
    };
    for row in rows {
        table.read += 1;
        let Some(original) = row.get("id") else {
            table.skip("?", "no id");
            continue;
        };
        let conversation = match row.get("conversation_id").map(|c| (c, imported.get(c))) {
            Some((_, Some(Ok(c)))) => c,
            Some((_, Some(Err(why)))) => {
                table.skip(original, format!("its conversation was skipped: {why}"));
                continue;
            }
            Some((c, None)) => {
                table.skip(
                    original,
                    format!("conversation {c} is not in the conversations table"),
                );
                continue;
            }
            None => {
                table.skip(original, "no conversation_id");
                continue;
            }
        };
        let role = row.get("role").unwrap_or_default();
        if !matches!(role, "user" | "assistant") {
            table.skip(
                original,
                format!("role {role:?}: only user and assistant text is kept"),
            );
            continue;
        }
        let Some(content) = row.raw("content").filter(|c| !c.trim().is_empty()) else {
            table.skip(original, "no text (a step that only called tools)");
            continue;
        };
        let id = ids::our_id("message", original);
        if message::Entity::find_by_id(id).one(txn).await?.is_some() {
            table.existing += 1;
            continue;
        }
        message::ActiveModel {
            id: Set(id),
            conversation_id: Set(conversation.id),
            user_id: Set(conversation.user),
            role: Set(role.to_owned()),
            content: Set(content.to_owned()),
            created_at: Set(instant(&row, "created_at")),
        }
        .insert(txn)
        .await?;
        table.created += 1;
    }
    Ok(())
}

/// A time the original wrote with `datetime.utcnow()`; now when missing.
fn instant(row: &Row, column: &str) -> chrono::DateTime<Utc> {
    row.get(column)
        .and_then(|v| values::instant(v, Tz::UTC))
        .unwrap_or_else(Utc::now)
}
