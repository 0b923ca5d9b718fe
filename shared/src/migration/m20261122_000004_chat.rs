//! svc-chat's tables, created from their entity definitions (frozen once released).

use sea_orm_migration::prelude::*;

use super::create_from_entity as create;
use crate::entities::{
    chat_usage, conversation, diary, event, message, profile, profile_log, snapshot,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, conversation::Entity).await?;
        create(manager, message::Entity).await?;
        create(manager, event::Entity).await?;
        create(manager, snapshot::Entity).await?;
        create(manager, diary::Entity).await?;
        create(manager, profile::Entity).await?;
        create(manager, profile_log::Entity).await?;
        create(manager, chat_usage::Entity).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_messages_user_time")
                    .table(message::Entity)
                    .col(message::Column::UserId)
                    .col(message::Column::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_events_user_start")
                    .table(event::Entity)
                    .col(event::Column::UserId)
                    .col(event::Column::StartTime)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "chat_usage",
            "profile_logs",
            "profiles",
            "diaries",
            "snapshots",
            "events",
            "messages",
            "conversations",
        ] {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
