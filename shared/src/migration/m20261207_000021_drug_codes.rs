//! `drugs.serial_number` and `drugs.box_id` (what a scanned GS1 DataMatrix or drug
//! traceability code says about the very box), unique per user.

use sea_orm_migration::prelude::*;

use crate::entities::drug;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_drugs_user_box";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A database made after this release has them from migration 2 (the table is made
        // from the entity).
        for column in [drug::Column::SerialNumber, drug::Column::BoxId] {
            let name = sea_orm::IdenStatic::as_str(&column);
            if !manager.has_column("drugs", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(drug::Entity)
                            .add_column(ColumnDef::new(column).string().null())
                            .to_owned(),
                    )
                    .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(INDEX)
                    .table(drug::Entity)
                    .col(drug::Column::UserId)
                    .col(drug::Column::BoxId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name(INDEX)
                    .table(drug::Entity)
                    .to_owned(),
            )
            .await?;
        for column in [drug::Column::SerialNumber, drug::Column::BoxId] {
            let name = sea_orm::IdenStatic::as_str(&column);
            if manager.has_column("drugs", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(drug::Entity)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
