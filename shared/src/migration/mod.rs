//! Migrations for every table, in one ordered list, applied by whichever service starts first
//! (under an advisory lock on PostgreSQL) or by `migrate` in a deploy step.

use sea_orm_migration::prelude::*;

mod m20261122_000001_users;
mod m20261122_000002_drugs;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_users::Migration),
            Box::new(m20261122_000002_drugs::Migration),
        ]
    }
}
