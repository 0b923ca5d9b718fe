//! `recognition_quotas` (model calls per account and per client network per day),
//! `drug_images.perceptual_hash` (the same picture in other bytes is a repeat; photos stored
//! before keep `NULL` and are matched by their bytes only).

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::{drug_image, recognition_quota};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, recognition_quota::Entity).await?;
        // A database made after this release has it from migration 2 (which creates the
        // table from the entity).
        if !manager.has_column("drug_images", "perceptual_hash").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(drug_image::Entity)
                        .add_column(
                            ColumnDef::new(drug_image::Column::PerceptualHash)
                                .string()
                                .null(),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("drug_images", "perceptual_hash").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(drug_image::Entity)
                        .drop_column(drug_image::Column::PerceptualHash)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(recognition_quota::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
