//! Run-out dates, refills and as-needed plans: `medication_plans.as_needed`,
//! `min_interval_minutes`, `max_per_24h`, `refill_lead_days`, `pharmacy_closed`,
//! `refill_due_on`, and the `refills` log.

use sea_orm_migration::prelude::*;

use super::{add_missing_columns, create_from_entity, drop_columns};
use crate::entities::{medication_plan, refill};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> Vec<(medication_plan::Column, ColumnDef)> {
    use medication_plan::Column as C;
    vec![
        (
            C::AsNeeded,
            ColumnDef::new(C::AsNeeded)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ),
        (
            C::MinIntervalMinutes,
            ColumnDef::new(C::MinIntervalMinutes)
                .integer()
                .null()
                .to_owned(),
        ),
        (
            C::MaxPer24h,
            ColumnDef::new(C::MaxPer24h).double().null().to_owned(),
        ),
        (
            C::RefillLeadDays,
            ColumnDef::new(C::RefillLeadDays)
                .integer()
                .null()
                .to_owned(),
        ),
        (
            C::PharmacyClosed,
            ColumnDef::new(C::PharmacyClosed).json().null().to_owned(),
        ),
        (
            C::RefillDueOn,
            ColumnDef::new(C::RefillDueOn).date().null().to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let defs = columns().into_iter().map(|(_, def)| def).collect();
        add_missing_columns(manager, medication_plan::Entity, defs).await?;
        create_from_entity(manager, refill::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(refill::Entity).if_exists().to_owned())
            .await?;
        let names = columns().into_iter().map(|(column, _)| column);
        drop_columns(manager, medication_plan::Entity, names).await
    }
}
