//! `events.recurrence_date`: the day of its series an instance stands for (RFC 5545
//! `RECURRENCE-ID`). Instances made before keep `NULL`; their own local day is theirs.

use sea_orm_migration::prelude::*;

use crate::entities::event;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A database made after this release has it from migration 7 (which creates the
        // table from the entity).
        if !manager.has_column("events", "recurrence_date").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(event::Entity)
                        .add_column(ColumnDef::new(event::Column::RecurrenceDate).date().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("events", "recurrence_date").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(event::Entity)
                        .drop_column(event::Column::RecurrenceDate)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
