//! Channels (#22): `delivery_attempts` (every try of a delivery, the channel's log) and the
//! webhook secret's rotation (`devices.previous_secret`, `devices.previous_secret_until`).

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::{delivery_attempt, device};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, delivery_attempt::Entity).await?;
        // A database made after this release has them from migration 3 (which creates the
        // table from the entity).
        if !manager.has_column("devices", "previous_secret").await? {
            for column in [
                ColumnDef::new(device::Column::PreviousSecret)
                    .string()
                    .null()
                    .to_owned(),
                ColumnDef::new(device::Column::PreviousSecretUntil)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(device::Entity)
                            .add_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("devices", "previous_secret").await? {
            for column in [
                device::Column::PreviousSecret,
                device::Column::PreviousSecretUntil,
            ] {
                manager
                    .alter_table(
                        Table::alter()
                            .table(device::Entity)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager
            .drop_table(
                Table::drop()
                    .table(delivery_attempt::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
