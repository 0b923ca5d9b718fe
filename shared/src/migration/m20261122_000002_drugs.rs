//! The medicine cabinet's tables (owner: svc-drugs), created from their entity definitions.
//!
//! This migration is frozen once released: a later change to an entity gets its own migration
//! with explicit `ALTER`s, never an edit here.

use sea_orm_migration::prelude::*;

use super::create_from_entity as create;

use crate::entities::{dose_log, drug, drug_image, medication_plan, product, recognition};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, drug::Entity).await?;
        create(manager, drug_image::Entity).await?;
        create(manager, recognition::Entity).await?;
        create(manager, product::Entity).await?;
        create(manager, medication_plan::Entity).await?;
        create(manager, dose_log::Entity).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_drugs_user_expiry")
                    .table(drug::Entity)
                    .col(drug::Column::UserId)
                    .col(drug::Column::ExpiryDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "dose_logs",
            "medication_plans",
            "products",
            "recognitions",
            "drug_images",
            "drugs",
        ] {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
