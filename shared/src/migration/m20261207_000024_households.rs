//! Households and caregivers: `households`, `household_members`, `household_invitations`,
//! `caregiver_actions`, and `medication_plans.escalate_after_minutes`.

use sea_orm::EntityName;
use sea_orm_migration::prelude::*;

use super::{add_missing_columns, create_from_entity, drop_columns};
use crate::entities::{
    caregiver_action, household, household_invitation, household_member, medication_plan,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_missing_columns(
            manager,
            medication_plan::Entity,
            vec![
                ColumnDef::new(medication_plan::Column::EscalateAfterMinutes)
                    .integer()
                    .null()
                    .to_owned(),
            ],
        )
        .await?;
        create_from_entity(manager, household::Entity).await?;
        create_from_entity(manager, household_member::Entity).await?;
        create_from_entity(manager, household_invitation::Entity).await?;
        create_from_entity(manager, caregiver_action::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            caregiver_action::Entity.table_name(),
            household_invitation::Entity.table_name(),
            household_member::Entity.table_name(),
            household::Entity.table_name(),
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
        drop_columns(
            manager,
            medication_plan::Entity,
            [medication_plan::Column::EscalateAfterMinutes],
        )
        .await
    }
}
