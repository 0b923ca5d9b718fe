//! `chat_feedback`: ratings of assistant messages.

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::chat_feedback;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, chat_feedback::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(chat_feedback::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
