//! `stack import` as a user runs it: original databases built with the originals' layouts,
//! imported into a fresh database (SQLite, or PostgreSQL with `TEST_DATABASE_URL`), through
//! the function the CLI calls and through the built binary.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

#[path = "import/originals.rs"]
mod originals;

use std::path::{Path, PathBuf};
use std::process::Command;

use originals::*;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use shared::config::Settings;
use shared::entities::event::{Category, EnergyLevel, EventStatus, EventType, TimePeriod};
use shared::entities::{
    conversation, diary, drug, drug_image, event, message, profile, sync_clock, user,
};
use shared::testing::TestDatabase;
use stack::import::{ImportArgs, Summary, our_id, run};
use uuid::Uuid;

struct Env {
    db: TestDatabase,
    settings: Settings,
    dir: PathBuf,
}

impl Env {
    async fn new() -> Self {
        let db = TestDatabase::create().await.unwrap();
        let dir = std::env::temp_dir().join(format!("import-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut settings = db.settings();
        settings.storage.backend = "fs".into();
        settings.storage.upload_dir = dir.join("store");
        Self { db, settings, dir }
    }

    async fn conn(&self) -> DatabaseConnection {
        self.db.connect().await.unwrap()
    }

    async fn import(&self, args: &ImportArgs) -> Summary {
        run(&self.settings, args).await.unwrap()
    }
}

fn unilife_args(path: &Path) -> ImportArgs {
    ImportArgs {
        unilife_db: Some(path.to_owned()),
        ..ImportArgs::default()
    }
}

fn drug_args(db: &Path, uploads: &Path) -> ImportArgs {
    ImportArgs {
        drug_serve_db: Some(db.to_owned()),
        drug_serve_uploads: Some(uploads.to_owned()),
        ..ImportArgs::default()
    }
}

/// (read, created, already there, skipped) of a table.
fn counts(summary: &Summary, table: &str) -> (usize, usize, usize, usize) {
    let t = summary
        .get(table)
        .unwrap_or_else(|| panic!("no {table} in {summary}"));
    (t.read, t.created, t.existing, t.skipped_count())
}

fn skip_reasons(summary: &Summary, table: &str) -> Vec<String> {
    summary
        .get(table)
        .unwrap()
        .skipped
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_unilife_database_becomes_users_conversations_messages_diaries_and_profiles() {
    let env = Env::new().await;
    let source = unilife(&env.dir).await;

    let summary = env.import(&unilife_args(&source)).await;

    assert_eq!(counts(&summary, "users"), (2, 2, 0, 0), "{summary}");
    assert_eq!(counts(&summary, "conversations"), (3, 2, 0, 1), "{summary}");
    assert_eq!(counts(&summary, "messages"), (7, 4, 0, 3), "{summary}");
    assert_eq!(counts(&summary, "diaries"), (2, 2, 0, 0), "{summary}");
    assert_eq!(counts(&summary, "profiles"), (2, 1, 0, 1), "{summary}");
    assert_eq!(counts(&summary, "events"), (4, 3, 0, 1), "{summary}");
    assert_eq!(
        skip_reasons(&summary, "conversations"),
        ["user quit is not in the users table"]
    );
    let reasons = skip_reasons(&summary, "messages");
    assert!(
        reasons.iter().any(|r| r.starts_with("role \"tool\"")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("no text")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r == "its conversation was skipped: user quit is not in the users table"),
        "{reasons:?}"
    );

    let db = env.conn().await;
    // A UUID id is kept; the Apple user id is the login; the account has no password.
    let alice = user::Entity::find_by_id(Uuid::parse_str(ALICE).unwrap())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.login, ALICE_SUB);
    // Signing in with Apple finds the account by its `sub`.
    assert_eq!(alice.apple_sub.as_deref(), Some(ALICE_SUB));
    assert_eq!(alice.nickname.as_deref(), Some("小明"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.timezone, "Asia/Shanghai");
    assert_eq!(
        alice.preferences,
        json!({"notification_enabled": true, "working_hours_start": 9})
    );
    assert_eq!(
        alice.created_at.to_rfc3339(),
        "2026-01-20T08:00:00.123456+00:00"
    );
    assert!(!alice.password_hash.starts_with("$argon2"));
    // A non-UUID id gets a derived one; no Apple id, so a login made from it; a bad zone and
    // bad JSON fall back, with a note.
    let bob = user::Entity::find_by_id(our_id("user", BOB))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.login, format!("unilife-{}", bob.id));
    assert_eq!(bob.timezone, "Asia/Shanghai");
    assert_eq!(bob.preferences, json!({}));
    let notes = &summary.get("users").unwrap().notes;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("user-123: preferences not JSON")),
        "{notes:?}"
    );

    // A conversation without a title is named by its first words, as a new one is.
    let conv = conversation::Entity::find_by_id(Uuid::parse_str(CONV_ALICE).unwrap())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.user_id, alice.id);
    assert_eq!(
        conv.title,
        "你好，帮我安排明天下午三点复习高数，大概两个小时"
    );
    let texts: Vec<(String, String)> = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conv.id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.role, m.content))
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.contains(&(
        "assistant".into(),
        "好的，已为你安排明天 15:00–17:00 复习高数。".into()
    )));
    let bobs = message::Entity::find_by_id(our_id("message", "msg-bob-1"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (bobs.user_id, bobs.content.as_str()),
        (bob.id, "周六想去爬山 ⛰️")
    );
    assert_eq!(bobs.conversation_id, our_id("conversation", "conv-bob"));
    let nul = message::Entity::find_by_id(our_id("message", "msg-bob-2"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(nul.content, "记得带水和零食", "NUL dropped");

    // The diary's signals keep their shape and gain the `key` the profile job reads; bad
    // JSON becomes empty, with a note.
    let diary = diary::Entity::find()
        .filter(diary::Column::UserId.eq(alice.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(diary.diary_date.to_string(), "2026-01-22");
    assert_eq!((diary.conversation_count, diary.message_count), (3, 12));
    assert_eq!(diary.key_insights["activities"], json!(["学习", "跑步"]));
    assert_eq!(
        diary.extracted_signals,
        json!([{"type": "habit", "key": "habit", "value": "晚上跑步", "confidence": 0.8, "evidence": "连续三天"}])
    );
    let bob_diary = diary::Entity::find()
        .filter(diary::Column::UserId.eq(bob.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            bob_diary.key_insights.clone(),
            bob_diary.extracted_signals.clone()
        ),
        (json!({}), json!([]))
    );

    // The profile: each known value a trait at its section's confidence; `unknown`, empty
    // lists and bookkeeping left out.
    let p = profile::Entity::find_by_id(alice.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let traits = p.data.as_object().unwrap();
    let mut keys: Vec<&str> = traits.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "habits.sleep_schedule",
            "identity.occupation",
            "preferences.work_style",
            "relationships.status"
        ]
    );
    assert_eq!(traits["identity.occupation"]["value"], "学生");
    assert_eq!(traits["identity.occupation"]["confidence"], 0.9);
    assert_eq!(traits["preferences.work_style"]["confidence"], 1.0);
    assert_eq!(
        skip_reasons(&summary, "profiles"),
        ["profile_data not JSON (expected value at line 1 column 1)"]
    );
}

#[tokio::test]
async fn events_come_over_one_to_one_with_offsetless_times_read_as_shanghai_time_and_a_sync_stamp()
{
    let env = Env::new().await;
    let source = unilife(&env.dir).await;

    let summary = env.import(&unilife_args(&source)).await;

    assert_eq!(
        skip_reasons(&summary, "events"),
        ["user quit is not in the users table"]
    );
    let db = env.conn().await;
    let alice = Uuid::parse_str(ALICE).unwrap();
    let e = event::Entity::find_by_id(Uuid::parse_str(EVENT_ALICE).unwrap())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.user_id, alice);
    assert_eq!(
        (e.title.as_str(), e.description.as_deref()),
        ("复习高数", Some("第三章 多元函数"))
    );
    // Stored without an offset, in Asia/Shanghai (the original's zone for every user).
    let t = |v: Option<chrono::DateTime<chrono::Utc>>| v.map(|t| t.to_rfc3339());
    assert_eq!(
        t(e.start_time).as_deref(),
        Some("2026-01-24T07:00:00+00:00")
    );
    assert_eq!(t(e.end_time).as_deref(), Some("2026-01-24T09:00:00+00:00"));
    assert_eq!(
        t(e.event_date).as_deref(),
        Some("2026-01-23T16:00:00+00:00"),
        "local midnight"
    );
    assert_eq!(
        e.created_at.to_rfc3339(),
        "2026-01-23T03:08:36.000001+00:00"
    );
    assert_eq!(e.duration, Some(120));
    assert_eq!(e.energy_required, Some(EnergyLevel::High));
    assert_eq!((e.urgency, e.importance, e.is_deep_work), (4, 5, true));
    assert_eq!(
        (e.event_type, e.category, e.status),
        (EventType::Schedule, Category::Study, EventStatus::Pending)
    );
    assert_eq!(
        (e.tags.clone(), e.participants.clone()),
        (json!(["考试"]), json!(["小红"]))
    );
    assert_eq!(e.location.as_deref(), Some("图书馆"));
    assert_eq!(
        e.energy_consumption.as_ref().unwrap()["mental"]["score"],
        80
    );
    assert_eq!(
        (
            e.is_physically_demanding,
            e.is_mentally_demanding,
            e.is_template
        ),
        (false, true, Some(false))
    );
    assert_eq!((e.created_by.as_str(), e.ai_confidence), ("agent", 0.85));
    assert_eq!(e.ai_reasoning.as_deref(), Some("用户明确给出了时间"));
    // Stamped from the owner's change clock, so /sync sees it.
    let clock = sync_clock::Entity::find_by_id(alice)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(e.changed_at > chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    assert!(clock.changed_at >= e.changed_at);

    // A floating habit: a day and a part of it, no time; lower-case category read; bad tags
    // left empty with a note; the routine parent's id derived as the parent's own would be.
    let bob = our_id("user", BOB);
    let h = event::Entity::find_by_id(our_id("event", "evt-bob-2"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.user_id, bob);
    assert_eq!(h.start_time, None);
    assert_eq!(
        t(h.event_date).as_deref(),
        Some("2026-01-24T16:00:00+00:00")
    );
    assert_eq!(h.time_period, Some(TimePeriod::Morning));
    assert_eq!(
        (h.event_type, h.category, h.status),
        (EventType::Habit, Category::Health, EventStatus::Completed)
    );
    assert_eq!(
        t(h.completed_at).as_deref(),
        Some("2026-01-25T02:00:00+00:00")
    );
    assert_eq!(
        h.repeat_pattern,
        Some(json!({"type": "weekly", "weekdays": [1, 3, 5]}))
    );
    assert_eq!(h.parent_event_id, Some(our_id("event", "evt-bob-template")));
    assert_eq!(
        (
            h.urgency,
            h.importance,
            h.habit_total_count,
            h.ai_confidence
        ),
        (3, 3, 21, 0.5)
    );
    assert_eq!(h.tags, json!([]));

    // Owned by the Apple user id; a time with an offset is that instant; a category the app
    // does not have becomes LIFE and a tag.
    let m = event::Entity::find_by_id(our_id("event", "evt-alice-3"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.user_id, alice);
    assert_eq!(
        t(m.start_time).as_deref(),
        Some("2026-01-26T11:30:00+00:00")
    );
    assert_eq!(
        (m.category, m.tags.clone()),
        (Category::Life, json!(["ENTERTAINMENT"]))
    );
    let notes = summary.get("events").unwrap().notes.join("\n");
    assert!(notes.contains("evt-bob-2: tags not JSON"), "{notes}");
    assert!(
        notes.contains("evt-alice-3: category \"ENTERTAINMENT\""),
        "{notes}"
    );
}

#[tokio::test]
async fn a_second_import_creates_nothing_and_finds_everything_already_there() {
    let env = Env::new().await;
    let source = unilife(&env.dir).await;
    let (drugs_db, uploads) = drug_serve(&env.dir).await;
    let args = ImportArgs {
        drug_serve_db: Some(drugs_db),
        drug_serve_uploads: Some(uploads),
        ..unilife_args(&source)
    };
    let first = env.import(&args).await;
    let db = env.conn().await;
    let users_after_first = user::Entity::find().count(&db).await.unwrap();
    let stored_after_first = files_under(&env.settings.storage.upload_dir);

    let second = env.import(&args).await;

    assert_eq!(second.created(), 0, "{second}");
    for t in &first.tables {
        let again = second.get(t.name).unwrap();
        assert_eq!(again.read, t.read, "{}", t.name);
        assert_eq!(again.existing, t.created + t.existing, "{}", t.name);
        assert_eq!(again.skipped_count(), t.skipped_count(), "{}", t.name);
    }
    assert_eq!(
        user::Entity::find().count(&db).await.unwrap(),
        users_after_first
    );
    assert_eq!(drug_image::Entity::find().count(&db).await.unwrap(), 1);
    assert_eq!(
        files_under(&env.settings.storage.upload_dir),
        stored_after_first
    );
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_reports_what_a_real_run_then_does() {
    let env = Env::new().await;
    let source = unilife(&env.dir).await;
    let (drugs_db, uploads) = drug_serve(&env.dir).await;
    let args = ImportArgs {
        drug_serve_db: Some(drugs_db),
        drug_serve_uploads: Some(uploads),
        ..unilife_args(&source)
    };

    let dry = env
        .import(&ImportArgs {
            dry_run: true,
            ..args.clone()
        })
        .await;

    assert!(
        dry.to_string()
            .starts_with("Import summary (dry run: nothing was written)"),
        "{dry}"
    );
    let db = env.conn().await;
    assert_eq!(user::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(message::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(drug::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(drug_image::Entity::find().count(&db).await.unwrap(), 0);
    assert!(
        !env.settings.storage.upload_dir.exists(),
        "a dry run stores no photo"
    );

    let real = env.import(&args).await;
    assert!(real.created() > 0);
    for t in &real.tables {
        let d = dry.get(t.name).unwrap();
        assert_eq!(
            (d.read, d.created, d.existing, d.skipped_count()),
            (t.read, t.created, t.existing, t.skipped_count()),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn drug_serve_drugs_go_to_the_legacy_account_with_photos_stored_as_new_uploads_are() {
    let env = Env::new().await;
    let (drugs_db, uploads) = drug_serve(&env.dir).await;

    let summary = env.import(&drug_args(&drugs_db, &uploads)).await;

    assert_eq!(counts(&summary, "drugs"), (3, 3, 0, 0), "{summary}");
    assert_eq!(counts(&summary, "drug photos"), (3, 1, 0, 2), "{summary}");
    let reasons = skip_reasons(&summary, "drug photos");
    assert!(
        reasons
            .iter()
            .any(|r| r == "no such file in the uploads directory"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("image could not be decoded")),
        "{reasons:?}"
    );
    let notes = summary.get("drugs").unwrap().notes.join("\n");
    assert!(
        notes.contains("legacy-2: expiry_date \"见包装\" is not a date"),
        "{notes}"
    );
    assert!(notes.contains("legacy-2: image_urls not JSON"), "{notes}");

    let db = env.conn().await;
    let legacy = user::Entity::find()
        .filter(user::Column::Login.eq(user::LEGACY_LOGIN))
        .one(&db)
        .await
        .unwrap()
        .expect("the reserved legacy account is made");
    let calcium = drug::Entity::find_by_id(Uuid::parse_str(DRUG_CALCIUM).unwrap())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(calcium.user_id, legacy.id);
    assert_eq!(calcium.name, "医用棉签");
    assert_eq!(
        calcium.production_date.map(|d| d.to_string()).as_deref(),
        Some("2025-01-01")
    );
    assert_eq!(
        calcium.expiry_date.map(|d| d.to_string()).as_deref(),
        Some("2027-12-31")
    );
    assert_eq!(calcium.created_at.to_rfc3339(), "2025-12-20T15:31:02+00:00");
    assert!(!calcium.search_text.is_empty(), "searchable like any drug");
    let second = drug::Entity::find_by_id(our_id("drug", "legacy-2"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.name.as_str(), second.expiry_date),
        ("布洛芬缓释胶囊", None)
    );

    // The photo: normalised as a new upload is — turned upright by its EXIF orientation,
    // re-encoded as JPEG with no EXIF left — in the store under the usual key.
    let image = drug_image::Entity::find()
        .filter(drug_image::Column::DrugId.eq(calcium.id))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(image.user_id, legacy.id);
    assert_eq!(
        image.storage_key,
        format!("drugs/{}/{}.jpg", legacy.id, image.id)
    );
    let original = with_exif_orientation_6(&photo_bytes());
    assert_eq!(image.content_hash, sha256_hex(&original));
    let stored = std::fs::read(env.settings.storage.upload_dir.join(&image.storage_key)).unwrap();
    assert_eq!(image.size_bytes, i64::try_from(stored.len()).unwrap());
    assert_eq!(&stored[..2], b"\xFF\xD8");
    assert!(
        !stored.windows(4).any(|w| w == b"Exif"),
        "no EXIF in the stored photo"
    );
    let decoded = image::load_from_memory_with_format(&stored, image::ImageFormat::Jpeg).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (1279, 1534),
        "turned upright"
    );
    assert_eq!((image.width, image.height), (1279, 1534));
}

#[tokio::test]
async fn drugs_go_to_the_account_drugs_owner_names_and_an_unknown_one_stops_the_run() {
    let env = Env::new().await;
    let source = unilife(&env.dir).await;
    let (drugs_db, uploads) = drug_serve(&env.dir).await;

    let unknown = run(
        &env.settings,
        &ImportArgs {
            drugs_owner: Some("nobody".into()),
            ..drug_args(&drugs_db, &uploads)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "--drugs-owner nobody: no account has that login"
    );
    let db = env.conn().await;
    assert_eq!(drug::Entity::find().count(&db).await.unwrap(), 0);

    env.import(&ImportArgs {
        drug_serve_db: Some(drugs_db),
        drug_serve_uploads: Some(uploads),
        drugs_owner: Some(ALICE_SUB.into()),
        ..unilife_args(&source)
    })
    .await;

    let alice = Uuid::parse_str(ALICE).unwrap();
    assert_eq!(
        drug::Entity::find()
            .filter(drug::Column::UserId.eq(alice))
            .count(&db)
            .await
            .unwrap(),
        3
    );
    let legacy = user::Entity::find()
        .filter(user::Column::Login.eq(user::LEGACY_LOGIN))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(
        legacy, 0,
        "no legacy account is made when the drugs go elsewhere"
    );
}

#[tokio::test]
async fn an_older_database_without_later_columns_and_tables_imports_what_it_has() {
    let env = Env::new().await;
    let source = old_unilife(&env.dir).await;

    let summary = env.import(&unilife_args(&source)).await;

    assert_eq!(counts(&summary, "users"), (1, 1, 0, 0), "{summary}");
    assert_eq!(counts(&summary, "messages"), (1, 1, 0, 0), "{summary}");
    assert_eq!(counts(&summary, "events"), (1, 1, 0, 0), "{summary}");
    assert!(summary.get("diaries").unwrap().absent);
    assert!(summary.get("profiles").unwrap().absent);
    assert!(
        summary
            .to_string()
            .contains("diaries        (no such table in the source)"),
        "{summary}"
    );
    let db = env.conn().await;
    let old = user::Entity::find_by_id(our_id("user", "old-user-1"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.login, format!("unilife-{}", old.id));
    let conv = conversation::Entity::find_by_id(our_id("conversation", "old-conv"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (conv.user_id, conv.title.as_str()),
        (old.id, "明天提醒我交作业")
    );
    let e = event::Entity::find_by_id(our_id("event", "old-event"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.event_type, e.status),
        (EventType::Deadline, EventStatus::Pending)
    );
    assert_eq!(
        e.event_date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-01-09T16:00:00+00:00")
    );
    assert_eq!((e.notes, e.time_period, e.is_template), (None, None, None));
}

#[tokio::test]
async fn a_source_that_is_not_there_stops_the_run_before_anything_is_written() {
    let env = Env::new().await;
    let missing = env.dir.join("nope.db");

    let err = run(&env.settings, &unilife_args(&missing))
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        format!("{}: no such file", missing.display())
    );
}

#[tokio::test]
async fn the_stack_binary_imports_and_prints_the_summary_and_a_second_run_creates_nothing() {
    let env = Env::new().await;
    let source = unilife(&env.dir).await;
    let (drugs_db, uploads) = drug_serve(&env.dir).await;
    let run_binary = |extra: &[&str]| {
        let mut args = vec![
            "import".to_owned(),
            "--unilife-db".into(),
            source.display().to_string(),
            "--drug-serve-db".into(),
            drugs_db.display().to_string(),
            "--drug-serve-uploads".into(),
            uploads.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let out = Command::new(env!("CARGO_BIN_EXE_stack"))
            .args(&args)
            .current_dir(&env.dir)
            .env_clear()
            .env("DATABASE_URL", &env.db.url)
            .env("UPLOAD_DIR", &env.settings.storage.upload_dir)
            .env("LOG_LEVEL", "warn")
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };

    let dry = run_binary(&["--dry-run"]);
    let first = run_binary(&[]);
    let second = run_binary(&[]);

    assert!(
        dry.starts_with("Import summary (dry run: nothing was written)\n"),
        "{dry}"
    );
    assert!(first.starts_with("Import summary\n"), "{first}");
    let row = |out: &str, table: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no {table} line in\n{out}"));
        line.split_whitespace().skip(1).map(str::to_owned).collect()
    };
    // read, created, already there, skipped
    assert_eq!(row(&dry, "users"), ["2", "2", "0", "0"], "{dry}");
    assert_eq!(row(&first, "users"), ["2", "2", "0", "0"], "{first}");
    assert_eq!(row(&first, "messages"), ["7", "4", "0", "3"], "{first}");
    assert_eq!(row(&first, "drugs"), ["3", "3", "0", "0"], "{first}");
    assert_eq!(row(&second, "users"), ["2", "0", "2", "0"], "{second}");
    assert_eq!(row(&second, "messages"), ["7", "0", "4", "3"], "{second}");
    assert_eq!(row(&second, "drugs"), ["3", "0", "3", "0"], "{second}");
    assert!(
        first.contains("skipped 1 conversations: user quit is not in the users table (conv-ghost)"),
        "{first}"
    );
    let db = env.conn().await;
    assert_eq!(drug_image::Entity::find().count(&db).await.unwrap(), 1);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}
