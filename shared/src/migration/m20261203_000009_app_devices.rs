//! svc-scheduler's tables for the UniLife app: phones registered for push (`app_devices`,
//! apart from the webhook targets in `devices`, which deliveries go to) and the app's
//! notification settings. Created from their entity definitions (frozen once released).

use sea_orm_migration::prelude::*;

use super::create_from_entity as create;

use crate::entities::{app_device, notification_setting};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, app_device::Entity).await?;
        create(manager, notification_setting::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["notification_settings", "app_devices"] {
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
