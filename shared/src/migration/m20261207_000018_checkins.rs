//! Daily check-ins (#22): `checkins`, one row per (user, kind, local date), sent or skipped.

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::checkin;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, checkin::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(checkin::Entity).if_exists().to_owned())
            .await
    }
}
