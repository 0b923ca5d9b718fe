//! `calendar_feeds`: each user's calendar subscription (created from its entity definition,
//! frozen once released).

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::calendar_feed;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, calendar_feed::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(calendar_feed::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
