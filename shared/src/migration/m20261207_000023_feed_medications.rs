//! `calendar_feeds.include_medications`: a feed shows the person's medicines only when
//! they asked for it.

use sea_orm_migration::prelude::*;

use crate::entities::calendar_feed;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A database made after this release has it from migration 14 (made from the entity).
        if manager
            .has_column("calendar_feeds", "include_medications")
            .await?
        {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(calendar_feed::Entity)
                    .add_column(
                        ColumnDef::new(calendar_feed::Column::IncludeMedications)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager
            .has_column("calendar_feeds", "include_medications")
            .await?
        {
            manager
                .alter_table(
                    Table::alter()
                        .table(calendar_feed::Entity)
                        .drop_column(calendar_feed::Column::IncludeMedications)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
