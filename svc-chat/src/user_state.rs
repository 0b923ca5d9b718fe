//! Per-user state beside the conversations (`chat_user_state`): when the app cleared the
//! assistant's context, whether onboarding is over, and the assistant's identity.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use shared::entities::chat_user_state::{self, Column as C};
use uuid::Uuid;

/// The assistant's identity when the user has not given it one (the original's defaults).
pub const DEFAULT_AI_NAME: &str = "UniLife";
pub const DEFAULT_AI_EMOJI: &str = "🌟";
pub const DEFAULT_AI_CREATURE: &str = "生活伙伴";
pub const DEFAULT_AI_VIBE: &str = "温暖但不腻，关注效率的同时也会有感性的关怀";

pub async fn get(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> Result<Option<chat_user_state::Model>, DbErr> {
    chat_user_state::Entity::find_by_id(user).one(db).await
}

/// Messages created before this instant are no longer the assistant's context.
pub async fn context_cleared_at(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(get(db, user).await?.and_then(|s| s.context_cleared_at))
}

/// Write `columns` of `row` for `user`, creating the row when there is none.
async fn upsert(
    db: &impl ConnectionTrait,
    user: Uuid,
    mut row: chat_user_state::ActiveModel,
    columns: &[C],
) -> Result<(), DbErr> {
    // Columns left unset stay as they are on an existing row and NULL on a new one.
    row.user_id = Set(user);
    row.updated_at = Set(Utc::now());
    let mut update: Vec<C> = columns.to_vec();
    update.push(C::UpdatedAt);
    chat_user_state::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::UserId)
                .update_columns(update)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The app cleared its chat screen: from `at` on, the assistant starts afresh. Nothing is
/// deleted; the history routes still show every message.
pub async fn clear_context(
    db: &impl ConnectionTrait,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = chat_user_state::ActiveModel {
        context_cleared_at: Set(Some(at)),
        ..Default::default()
    };
    upsert(db, user, row, &[C::ContextClearedAt]).await
}

/// Onboarding is over (the app dismissed it, or the assistant was given its identity).
pub async fn finish_onboarding(db: &impl ConnectionTrait, user: Uuid) -> Result<(), DbErr> {
    let row = chat_user_state::ActiveModel {
        onboarding_done_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    upsert(db, user, row, &[C::OnboardingDoneAt]).await
}

/// The assistant's identity for this user, as the original's `set_agent_identity` tool set
/// it: blank name, emoji or vibe fall back to the defaults, and onboarding is over.
pub async fn set_ai_identity(
    db: &impl ConnectionTrait,
    user: Uuid,
    name: &str,
    emoji: &str,
    vibe: &str,
) -> Result<(), DbErr> {
    let or = |v: &str, default: &str| {
        let v = v.trim();
        if v.is_empty() { default } else { v }.to_owned()
    };
    let row = chat_user_state::ActiveModel {
        ai_name: Set(Some(or(name, DEFAULT_AI_NAME))),
        ai_emoji: Set(Some(or(emoji, DEFAULT_AI_EMOJI))),
        ai_creature: Set(Some(DEFAULT_AI_CREATURE.to_owned())),
        ai_vibe: Set(Some(or(vibe, DEFAULT_AI_VIBE))),
        onboarding_done_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    upsert(
        db,
        user,
        row,
        &[
            C::AiName,
            C::AiEmoji,
            C::AiCreature,
            C::AiVibe,
            C::OnboardingDoneAt,
        ],
    )
    .await
}
