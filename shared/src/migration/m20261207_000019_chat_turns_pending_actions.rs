//! The assistant (#24): `chat_turns`, one row per streamed turn (resumable streams), and
//! `pending_actions`, destructive actions waiting for the user's yes.

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::{chat_turn, pending_action};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, chat_turn::Entity).await?;
        create_from_entity(manager, pending_action::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(pending_action::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(chat_turn::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
