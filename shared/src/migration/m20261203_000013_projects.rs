//! `projects`: the UniLife app's life projects (created from its entity definition, frozen
//! once released), and an index on `events (user_id, project_id)` for a project's tasks and
//! statistics.

use sea_orm_migration::prelude::*;

use super::create_from_entity;
use crate::entities::project;

#[derive(DeriveMigrationName)]
pub struct Migration;

const EVENTS_PROJECT_INDEX: &str = "idx_events_user_project";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_from_entity(manager, project::Entity).await?;
        manager
            .create_index(
                Index::create()
                    .name(EVENTS_PROJECT_INDEX)
                    .table(Alias::new("events"))
                    .col(Alias::new("user_id"))
                    .col(Alias::new("project_id"))
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(EVENTS_PROJECT_INDEX)
                    .table(Alias::new("events"))
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(project::Entity).if_exists().to_owned())
            .await
    }
}
