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

/// An existing database before this release's migrations: the account the system made for
/// the legacy routes (under a configured login) becomes the reserved one, the drugs get
/// their search text, and the accounts the app's fields with their defaults.
#[tokio::test]
async fn an_existing_database_gets_the_reserved_legacy_account_and_search_text() {
    use sea_orm::QueryFilter;
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    use shared::entities::drug;

    let database = TestDatabase::create().await.unwrap();
    let db = database.connect().await.unwrap();
    // Back to the first release (users, drugs, scheduler, chat), whatever came after it.
    let after_first_release = u32::try_from(Migrator::migrations().len() - 4).unwrap();
    Migrator::down(&db, Some(after_first_release))
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let owner = uuid::Uuid::now_v7();
    let insert_user = |id: uuid::Uuid, login: &str, hash: &str| {
        Query::insert()
            .into_table(user::Entity)
            .columns([
                user::Column::Id,
                user::Column::Login,
                user::Column::PasswordHash,
                user::Column::Timezone,
                user::Column::Preferences,
                user::Column::IsAdmin,
                user::Column::CreatedAt,
                user::Column::UpdatedAt,
            ])
            .values_panic([
                id.into(),
                login.into(),
                hash.into(),
                "Asia/Shanghai".into(),
                serde_json::json!({}).into(),
                false.into(),
                now.into(),
                now.into(),
            ])
            .to_owned()
    };
    db.execute(&insert_user(
        owner,
        "drugserve",
        "!legacy-account-no-password",
    ))
    .await
    .unwrap();
    let person = uuid::Uuid::now_v7();
    db.execute(&insert_user(
        person,
        "legacy",
        "$argon2id$v=19$m=19456,t=2,p=1$x$y",
    ))
    .await
    .unwrap();
    let insert_drug = Query::insert()
        .into_table(drug::Entity)
        .columns([
            drug::Column::Id,
            drug::Column::UserId,
            drug::Column::Name,
            drug::Column::Brand,
            drug::Column::CreatedAt,
            drug::Column::UpdatedAt,
        ])
        .values_panic([
            uuid::Uuid::now_v7().into(),
            owner.into(),
            "碳酸钙D3颗粒(Ⅱ)".into(),
            "钙诺".into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&insert_drug).await.unwrap();

    Migrator::up(&db, None).await.unwrap();
    let reserved = user::Entity::find_by_id(owner)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reserved.login, user::LEGACY_LOGIN);
    let untouched = user::Entity::find_by_id(person)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        untouched.login, "legacy",
        "a person's own login stays theirs"
    );
    assert_eq!(untouched.current_energy, 100);
    assert_eq!(untouched.apple_sub, None);
    assert_eq!(untouched.energy_profile, None);
    // One Apple ID, one account.
    for id in [owner, person] {
        let link = Query::update()
            .table(user::Entity)
            .value(user::Column::AppleSub, "000123.same.0001")
            .and_where(Expr::col(user::Column::Id).eq(id))
            .to_owned();
        let result = db.execute(&link).await;
        assert_eq!(result.is_ok(), id == owner, "{result:?}");
    }
    let found = drug::Entity::find()
        .filter(Expr::col(drug::Column::SearchText).like("%(ii)%"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].search_text,
        shared::text::search_text([Some("碳酸钙D3颗粒(Ⅱ)"), Some("钙诺"), None, None])
    );
}

/// Events written before the app's model: the rows come over with the original's vocabulary
/// (a category the app lacks kept as a tag), the day in the owner's zone, and the events a
/// chat snapshot recorded are translated too, so an earlier turn can still be undone.
#[tokio::test]
async fn existing_events_and_snapshots_move_to_the_apps_model() {
    use sea_orm::ActiveModelTrait;
    use sea_orm::sea_query::Query;
    use shared::entities::{event, snapshot};

    let database = TestDatabase::create().await.unwrap();
    let db = database.connect().await.unwrap();
    let after_six = u32::try_from(Migrator::migrations().len() - 6).unwrap();
    Migrator::down(&db, Some(after_six)).await.unwrap();
    // The users table as it was then (later migrations add columns the entity has now).
    let user_id = uuid::Uuid::now_v7();
    let add_user = Query::insert()
        .into_table(user::Entity)
        .columns([
            user::Column::Id,
            user::Column::Login,
            user::Column::PasswordHash,
            user::Column::Timezone,
            user::Column::Preferences,
            user::Column::IsAdmin,
            user::Column::CreatedAt,
            user::Column::UpdatedAt,
        ])
        .values_panic([
            user_id.into(),
            "nyc".into(),
            "!".into(),
            "America/New_York".into(),
            serde_json::json!({}).into(),
            false.into(),
            chrono::Utc::now().into(),
            chrono::Utc::now().into(),
        ])
        .to_owned();
    db.execute(&add_user).await.unwrap();
    let id = uuid::Uuid::now_v7();
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T03:30:00Z")
        .unwrap()
        .to_utc();
    let old_columns = [
        "id",
        "user_id",
        "title",
        "description",
        "start_time",
        "end_time",
        "duration",
        "event_type",
        "category",
        "tags",
        "location",
        "status",
        "completed_at",
        "created_at",
        "updated_at",
    ];
    let insert = Query::insert()
        .into_table(sea_orm::sea_query::Alias::new("events"))
        .columns(old_columns.map(sea_orm::sea_query::Alias::new))
        .values_panic([
            id.into(),
            user_id.into(),
            "Run".into(),
            sea_orm::Value::String(None).into(),
            start.into(),
            sea_orm::Value::ChronoDateTimeUtc(None).into(),
            45.into(),
            "task".into(),
            "exercise".into(),
            serde_json::json!(["morning"]).into(),
            "Park".into(),
            "completed".into(),
            start.into(),
            start.into(),
            start.into(),
        ])
        .to_owned();
    db.execute(&insert).await.unwrap();
    let before = serde_json::json!({
        "id": id, "user_id": user_id, "title": "Walk", "description": null,
        "start_time": start, "end_time": null, "duration": null, "event_type": "meeting",
        "category": "other", "tags": [], "location": null, "status": "pending",
        "completed_at": null, "created_at": start, "updated_at": start,
    });
    let snap = uuid::Uuid::now_v7();
    snapshot::ActiveModel {
        id: sea_orm::Set(snap),
        user_id: sea_orm::Set(user_id),
        conversation_id: sea_orm::Set(None),
        summary: sea_orm::Set("rename".into()),
        changes: sea_orm::Set(serde_json::json!([
            {"event_id": id, "before": before},
            {"event_id": uuid::Uuid::now_v7(), "before": null},
        ])),
        reverted_at: sea_orm::Set(None),
        created_at: sea_orm::Set(start),
    }
    .insert(&db)
    .await
    .unwrap();

    Migrator::up(&db, None).await.unwrap();
    let row = event::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, user_id);
    assert_eq!(row.status, event::EventStatus::Completed);
    assert_eq!(row.category, event::Category::Health);
    assert_eq!(row.event_type, event::EventType::Schedule);
    assert_eq!(row.tags, serde_json::json!(["morning", "exercise"]));
    assert_eq!(row.start_time, Some(start));
    assert_eq!(row.completed_at, Some(start));
    assert_eq!(row.duration, Some(45));
    // 03:30 UTC on March 2 is the evening of March 1 in New York.
    assert_eq!(
        row.event_date.unwrap().to_rfc3339(),
        "2026-03-01T05:00:00+00:00"
    );
    assert_eq!(
        (row.urgency, row.importance, row.habit_total_count),
        (3, 3, 21)
    );
    assert_eq!(row.changed_at, start);
    // The owner's change clock starts at their newest row, so /sync hands the rows out.
    let clock = shared::entities::sync_clock::Entity::find_by_id(user_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(clock.changed_at, start);
    let snap = snapshot::Entity::find_by_id(snap)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let restored: event::Model = serde_json::from_value(snap.changes[0]["before"].clone()).unwrap();
    assert_eq!(restored.title, "Walk");
    assert_eq!(restored.event_type, event::EventType::Schedule);
    assert_eq!(restored.category, event::Category::Life);
    assert_eq!(restored.tags, serde_json::json!(["other"]));
    assert_eq!(restored.status, event::EventStatus::Pending);
    assert!(snap.changes[1]["before"].is_null());
    // The new table takes an event without a start time.
    let mut floating = row.clone();
    floating.id = uuid::Uuid::now_v7();
    floating.start_time = None;
    event::Entity::insert(sea_orm::IntoActiveModel::into_active_model(floating).reset_all())
        .exec_without_returning(&db)
        .await
        .unwrap();
}
