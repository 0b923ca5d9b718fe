//! The UniLife app's account fields: `apple_sub` (Sign in with Apple; unique), `phone`,
//! `energy_profile` (JSON, null until changed: the original's defaults apply) and
//! `current_energy` (0–100, default 100).

use sea_orm_migration::prelude::*;

use crate::entities::user;

#[derive(DeriveMigrationName)]
pub struct Migration;

const APPLE_SUB_INDEX: &str = "idx_users_apple_sub";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (
                "apple_sub",
                ColumnDef::new(user::Column::AppleSub)
                    .string_len(255)
                    .null()
                    .to_owned(),
            ),
            (
                "phone",
                ColumnDef::new(user::Column::Phone)
                    .string_len(32)
                    .null()
                    .to_owned(),
            ),
            (
                "energy_profile",
                ColumnDef::new(user::Column::EnergyProfile)
                    .json()
                    .null()
                    .to_owned(),
            ),
            (
                "current_energy",
                ColumnDef::new(user::Column::CurrentEnergy)
                    .integer()
                    .not_null()
                    .default(100)
                    .to_owned(),
            ),
        ];
        // SQLite adds one column per statement.
        for (name, mut column) in columns {
            if !manager.has_column("users", name).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(user::Entity)
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        // SQLite cannot add a UNIQUE column; a unique index does the same on both.
        manager
            .create_index(
                Index::create()
                    .name(APPLE_SUB_INDEX)
                    .table(user::Entity)
                    .col(user::Column::AppleSub)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(APPLE_SUB_INDEX)
                    .table(user::Entity)
                    .to_owned(),
            )
            .await?;
        for column in [
            user::Column::AppleSub,
            user::Column::Phone,
            user::Column::EnergyProfile,
            user::Column::CurrentEnergy,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(user::Entity)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
