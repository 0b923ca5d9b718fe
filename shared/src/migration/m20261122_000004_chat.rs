//! svc-chat's tables, created from their entity definitions (frozen once released).

use sea_orm_migration::prelude::*;

use super::create_from_entity as create;
use crate::entities::{chat_usage, conversation, diary, message, profile, profile_log, snapshot};

/// The `events` table as this migration made it; `m20261203_000007_events_app_model` turns it
/// into the app's model. Frozen here so this migration keeps making the same table.
pub(super) mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(indexed)]
        pub user_id: Uuid,
        pub title: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        pub start_time: DateTimeUtc,
        pub end_time: Option<DateTimeUtc>,
        pub duration: Option<i32>,
        pub event_type: String,
        pub category: String,
        pub tags: Json,
        pub location: Option<String>,
        pub status: String,
        pub completed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
