//! Migrations for every table, in one ordered list, applied by whichever service starts first
//! (under an advisory lock on PostgreSQL) or by `migrate` in a deploy step.

use sea_orm_migration::prelude::*;

mod m20261122_000001_users;
mod m20261122_000002_drugs;
mod m20261122_000003_scheduler;
mod m20261122_000004_chat;
mod m20261203_000005_reserved_legacy_account;
mod m20261203_000006_drug_search_text;
mod m20261203_000007_events_app_model;
mod m20261203_000008_user_app_fields;
mod m20261203_000009_app_devices;
mod m20261203_000010_chat_user_state;
mod m20261203_000011_chat_feedback;
mod m20261203_000012_event_recurrence;
mod m20261203_000013_projects;
mod m20261203_000014_calendar_feeds;
mod m20261205_000015_event_recurrence_date;
mod m20261206_000016_recognition_quotas;
mod m20261206_000017_channels;
mod m20261207_000018_checkins;
mod m20261207_000019_chat_turns_pending_actions;
mod m20261207_000020_memory;
mod m20261207_000021_drug_codes;
mod m20261207_000022_supply;
mod m20261207_000023_feed_medications;
mod m20261207_000024_households;

pub struct Migrator;

/// Create a table and its indexes from an entity definition (used by migrations written
/// entity-first; each such migration is frozen once released).
async fn create_from_entity<E: sea_orm::EntityTrait>(
    manager: &SchemaManager<'_>,
    entity: E,
) -> Result<(), DbErr> {
    let schema = sea_orm::Schema::new(manager.get_database_backend());
    let mut table = schema.create_table_from_entity(entity);
    manager
        .create_table(table.if_not_exists().to_owned())
        .await?;
    for mut index in schema.create_index_from_entity(entity) {
        manager
            .create_index(index.if_not_exists().to_owned())
            .await?;
    }
    Ok(())
}

/// Add each column a table made before a release lacks (a table made after it has them from
/// its entity).
async fn add_missing_columns<T: sea_orm::EntityTrait>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut def in columns {
        let name = def.get_column_name();
        if !manager.has_column(table.table_name(), &name).await? {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut def).to_owned())
                .await?;
        }
    }
    Ok(())
}

/// Drop each of `columns` that `table` has (the `down` of [`add_missing_columns`]).
async fn drop_columns<T: sea_orm::EntityTrait, C: sea_orm::IdenStatic>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    for column in columns {
        if manager
            .has_column(table.table_name(), column.as_str())
            .await?
        {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
    }
    Ok(())
}

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_users::Migration),
            Box::new(m20261122_000002_drugs::Migration),
            Box::new(m20261122_000003_scheduler::Migration),
            Box::new(m20261122_000004_chat::Migration),
            Box::new(m20261203_000005_reserved_legacy_account::Migration),
            Box::new(m20261203_000006_drug_search_text::Migration),
            Box::new(m20261203_000007_events_app_model::Migration),
            Box::new(m20261203_000008_user_app_fields::Migration),
            Box::new(m20261203_000009_app_devices::Migration),
            Box::new(m20261203_000010_chat_user_state::Migration),
            Box::new(m20261203_000011_chat_feedback::Migration),
            Box::new(m20261203_000012_event_recurrence::Migration),
            Box::new(m20261203_000013_projects::Migration),
            Box::new(m20261203_000014_calendar_feeds::Migration),
            Box::new(m20261205_000015_event_recurrence_date::Migration),
            Box::new(m20261206_000016_recognition_quotas::Migration),
            Box::new(m20261206_000017_channels::Migration),
            Box::new(m20261207_000018_checkins::Migration),
            Box::new(m20261207_000019_chat_turns_pending_actions::Migration),
            Box::new(m20261207_000020_memory::Migration),
            Box::new(m20261207_000021_drug_codes::Migration),
            Box::new(m20261207_000022_supply::Migration),
            Box::new(m20261207_000023_feed_medications::Migration),
            Box::new(m20261207_000024_households::Migration),
        ]
    }
}
