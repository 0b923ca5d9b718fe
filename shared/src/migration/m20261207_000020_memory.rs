//! Memory (#24): `memories` (facts about a user with provenance), `memory_digests` (the
//! active ones in one row per user, for prompts), `memory_runs` (one nightly consolidation
//! per user and day) and `conversation_summaries` (rolling summaries).

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::{conversation_summary, memory, memory_digest, memory_run};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, memory::Entity).await?;
        create_from_entity(manager, memory_run::Entity).await?;
        create_from_entity(manager, memory_digest::Entity).await?;
        create_from_entity(manager, conversation_summary::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(memory_digest::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(conversation_summary::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(memory_run::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(memory::Entity).if_exists().to_owned())
            .await
    }
}
