//! svc-scheduler's tables, created from their entity definitions (frozen once released, as
//! the drugs migration).

use sea_orm_migration::prelude::*;

use super::create_from_entity as create;

use crate::entities::{delivery, device, job_item, job_run, notification};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, job_run::Entity).await?;
        create(manager, job_item::Entity).await?;
        create(manager, notification::Entity).await?;
        create(manager, device::Entity).await?;
        create(manager, delivery::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "deliveries",
            "devices",
            "notifications",
            "job_items",
            "job_runs",
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
