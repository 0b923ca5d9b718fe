//! Recurrence on event templates: `rrule` (RFC 5545 text) and `exdates` (cancelled
//! occurrences). Templates written before keep only `repeat_pattern`; their rule is derived
//! from it when read, and stored the next time they are written.

use sea_orm_migration::prelude::*;

use crate::entities::event;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (
                "rrule",
                ColumnDef::new(event::Column::Rrule)
                    .text()
                    .null()
                    .to_owned(),
            ),
            (
                "exdates",
                ColumnDef::new(event::Column::Exdates)
                    .json()
                    .null()
                    .to_owned(),
            ),
        ];
        // A database made after this release has them from migration 7 (which creates the
        // table from the entity); SQLite adds one column per statement.
        for (name, mut column) in columns {
            if !manager.has_column("events", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(event::Entity)
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["exdates", "rrule"] {
            if manager.has_column("events", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(event::Entity)
                            .drop_column(Alias::new(name))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
