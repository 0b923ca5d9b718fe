//! Migrations on the database named by `TEST_DATABASE_URL` (PostgreSQL) or on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use sea_orm_migration::MigratorTrait;
use shared::entities::user;
use shared::migration::Migrator;
use shared::testing::TestDatabase;

#[tokio::test]
async fn migrations_create_the_tables_and_a_second_run_is_a_no_op() {
    let database = TestDatabase::create().await.unwrap();
    let db = database.connect().await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    shared::db::migrate(&database.database_settings())
        .await
        .unwrap();
    let applied = Migrator::get_applied_migrations(&db).await.unwrap();
    assert_eq!(applied.len(), Migrator::migrations().len());
    assert!(user::Entity::find().all(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn migrations_roll_down_and_up_again() {
    let database = TestDatabase::create().await.unwrap();
    let db = database.connect().await.unwrap();
    Migrator::down(&db, None).await.unwrap();
    assert!(
        user::Entity::find().all(&db).await.is_err(),
        "users table is gone"
    );
    Migrator::up(&db, None).await.unwrap();
    assert!(user::Entity::find().all(&db).await.unwrap().is_empty());
}

/// Four instances cold-starting at once on one empty PostgreSQL database: the advisory lock
/// makes them take turns, and every one of them starts.
#[tokio::test]
async fn concurrent_cold_starts_migrate_once_on_postgres() {
    if !std::env::var(shared::testing::TEST_DATABASE_URL).is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("skipped: needs TEST_DATABASE_URL=postgres://...");
        return;
    }
    let database = TestDatabase::create().await.unwrap();
    assert_eq!(database.backend, DbBackend::Postgres);
    // Start from an empty database: roll the template's migrations back.
    let db = database.connect().await.unwrap();
    Migrator::down(&db, None).await.unwrap();
    db.close().await.unwrap();

    let settings = database.database_settings();
    let runs = (0..4).map(|_| {
        let s = settings.clone();
        tokio::spawn(async move { shared::db::migrate(&s).await })
    });
    for run in futures_util::future::join_all(runs).await {
        run.unwrap().unwrap();
    }
    let db = database.connect().await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        Migrator::migrations().len(),
        "each migration recorded once"
    );
}
