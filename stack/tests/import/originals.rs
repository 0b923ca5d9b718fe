//! Original databases built the way the originals left them: the tables as the UniLife
//! backend's SQLAlchemy models and migrations laid them out (`app/services/db.py`,
//! `app/models/conversation.py`, the diary and profile migrations), and drug-serve's `drugs`
//! table (`backend/app/models.py`). Written from those layouts; no code of theirs.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};

pub const ALICE: &str = "0b7c1f8e-3a52-4c1e-9d7a-6f1e2b3c4d5e";
pub const ALICE_SUB: &str = "001234.9f8e7d6c5b4a39281706f5e4d3c2b1a0.0815";
pub const BOB: &str = "user-123";
pub const CONV_ALICE: &str = "596aa93c-08a6-4acf-8e12-35976211b4b0";
pub const DRUG_CALCIUM: &str = "c5b0ec02-0568-489e-b2a5-6731f3e5a2e9";
pub const PHOTO: &str = "fe7e02cc-82eb-4d72-86dd-40364737304a.jpg";

/// The users table of the latest original (Apple sign-in, AI request limits).
const USERS: &str = "CREATE TABLE users (
    id VARCHAR NOT NULL, email VARCHAR, phone VARCHAR, user_id VARCHAR, nickname VARCHAR NOT NULL,
    avatar_url VARCHAR, timezone VARCHAR, energy_profile JSON NOT NULL, current_energy INTEGER,
    preferences JSON NOT NULL, chat_cleared_at DATETIME, daily_ai_request_count INTEGER,
    last_ai_request_date VARCHAR, created_at DATETIME, last_active_at DATETIME,
    PRIMARY KEY (id), UNIQUE (user_id))";

/// The users table before Apple sign-in (a WeChat id, no `user_id`).
const OLD_USERS: &str = "CREATE TABLE users (
    id VARCHAR NOT NULL, email VARCHAR, phone VARCHAR, wechat_id VARCHAR, nickname VARCHAR NOT NULL,
    avatar_url VARCHAR, timezone VARCHAR, energy_profile JSON NOT NULL, current_energy INTEGER,
    preferences JSON NOT NULL, created_at DATETIME, last_active_at DATETIME,
    PRIMARY KEY (id), UNIQUE (wechat_id))";

const CONVERSATIONS: &str = "CREATE TABLE conversations (
    id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, title VARCHAR, created_at DATETIME,
    updated_at DATETIME, message_count INTEGER, extra_metadata TEXT, PRIMARY KEY (id))";

const MESSAGES: &str = "CREATE TABLE messages (
    id VARCHAR NOT NULL, conversation_id VARCHAR NOT NULL, role VARCHAR NOT NULL, content TEXT,
    tool_calls TEXT, tool_call_id VARCHAR, created_at DATETIME, tokens_used INTEGER,
    extra_metadata TEXT, PRIMARY KEY (id),
    FOREIGN KEY(conversation_id) REFERENCES conversations (id))";

const DIARIES: &str = "CREATE TABLE user_diaries (
    id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, diary_date DATE NOT NULL,
    summary TEXT NOT NULL, key_insights JSON, extracted_signals JSON,
    conversation_count INTEGER DEFAULT 0, message_count INTEGER DEFAULT 0,
    tool_calls_count INTEGER DEFAULT 0, created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (user_id, diary_date))";

const PROFILES: &str = "CREATE TABLE user_profiles (
    id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, profile_data TEXT, updated_at DATETIME,
    created_at DATETIME, UNIQUE(user_id))";

/// The latest original's events (`EventModel`, every column its migrations added).
const EVENTS: &str = "CREATE TABLE events (
    id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, title VARCHAR NOT NULL, description VARCHAR,
    notes VARCHAR, event_date DATETIME, time_period VARCHAR, start_time DATETIME, end_time DATETIME,
    duration INTEGER, energy_required VARCHAR NOT NULL, urgency INTEGER, importance INTEGER,
    is_deep_work BOOLEAN, event_type VARCHAR NOT NULL, category VARCHAR NOT NULL, tags JSON NOT NULL,
    location VARCHAR, participants JSON NOT NULL, status VARCHAR NOT NULL, completed_at DATETIME,
    started_at DATETIME, created_at DATETIME, updated_at DATETIME, created_by VARCHAR,
    ai_confidence NUMERIC(3, 2), ai_reasoning VARCHAR, repeat_rule JSON, repeat_pattern JSON,
    routine_batch_id VARCHAR, is_flexible BOOLEAN, preferred_time_slots JSON, makeup_strategy VARCHAR,
    parent_routine_id VARCHAR, routine_completed_dates JSON, habit_completed_count INTEGER,
    habit_total_count INTEGER, energy_consumption JSON, is_physically_demanding BOOLEAN,
    is_mentally_demanding BOOLEAN, is_template BOOLEAN, project_id VARCHAR, anchor_time DATETIME,
    energy_cost VARCHAR, PRIMARY KEY (id))";

/// The events table before `notes`, `event_date`, `time_period`, completion tracking, energy
/// consumption, templates and projects.
const OLD_EVENTS: &str = "CREATE TABLE events (
    id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, title VARCHAR NOT NULL, description VARCHAR,
    start_time DATETIME, end_time DATETIME, duration INTEGER, energy_required VARCHAR NOT NULL,
    urgency INTEGER, importance INTEGER, is_deep_work BOOLEAN, event_type VARCHAR NOT NULL,
    category VARCHAR NOT NULL, tags JSON NOT NULL, location VARCHAR, participants JSON NOT NULL,
    status VARCHAR NOT NULL, created_at DATETIME, updated_at DATETIME, created_by VARCHAR,
    ai_confidence NUMERIC(3, 2), ai_reasoning VARCHAR, repeat_rule JSON, is_flexible BOOLEAN,
    preferred_time_slots JSON, makeup_strategy VARCHAR, parent_routine_id VARCHAR,
    routine_completed_dates JSON, PRIMARY KEY (id))";

pub const EVENT_ALICE: &str = "7d9e8f10-3b4c-4d5e-8f60-718293a4b5c6";

/// drug-serve's one table, `image_urls` added by its own migration.
const DRUGS: &str = "CREATE TABLE drugs (
    id VARCHAR NOT NULL, name VARCHAR NOT NULL, production_date VARCHAR, expiry_date VARCHAR,
    image_url VARCHAR, image_urls TEXT, created_at DATETIME DEFAULT (CURRENT_TIMESTAMP),
    analysis_result TEXT, PRIMARY KEY (id))";

pub async fn create(path: &Path, tables: &[&str]) -> DatabaseConnection {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    for t in tables {
        db.execute_unprepared(t).await.unwrap();
    }
    db
}

pub async fn insert(db: &DatabaseConnection, table: &str, row: &[(&str, Option<&str>)]) {
    let columns: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; row.len()].join(", ");
    let values: Vec<Value> = row
        .iter()
        .map(|(_, v)| v.map(str::to_owned).into())
        .collect();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!(
            "INSERT INTO {table} ({}) VALUES ({marks})",
            columns.join(", ")
        ),
        values,
    ))
    .await
    .unwrap();
}

/// The latest original's database: two users (one with a UUID id and an Apple user id, one
/// with neither, a bad time zone and bad JSON), a user that does not exist, tool steps, a
/// diary with bad JSON, a profile that is not JSON, Chinese text throughout.
pub async fn unilife(dir: &Path) -> PathBuf {
    let path = dir.join("unilife.db");
    let db = create(
        &path,
        &[USERS, CONVERSATIONS, MESSAGES, DIARIES, PROFILES, EVENTS],
    )
    .await;
    let energy = Some(r#"{"hourly_baseline": {"9": 80}}"#);
    insert(
        &db,
        "users",
        &[
            ("id", Some(ALICE)),
            ("email", Some("alice@example.com")),
            ("user_id", Some(ALICE_SUB)),
            ("nickname", Some("小明")),
            ("timezone", Some("Asia/Shanghai")),
            ("energy_profile", energy),
            ("current_energy", Some("100")),
            (
                "preferences",
                Some(r#"{"notification_enabled": true, "working_hours_start": 9}"#),
            ),
            ("created_at", Some("2026-01-20 08:00:00.123456")),
            ("last_active_at", Some("2026-01-23 03:08:32.940778")),
        ],
    )
    .await;
    insert(
        &db,
        "users",
        &[
            ("id", Some(BOB)),
            ("nickname", Some("Bob")),
            ("timezone", Some("Mars/Olympus")),
            ("energy_profile", energy),
            ("preferences", Some("{not json")),
            ("created_at", Some("2026-01-21 10:00:00")),
        ],
    )
    .await;
    insert(
        &db,
        "conversations",
        &[
            ("id", Some(CONV_ALICE)),
            ("user_id", Some(ALICE)),
            ("title", None),
            ("created_at", Some("2026-01-23 03:08:32.940778")),
            ("updated_at", Some("2026-01-23 03:08:37.578197")),
            ("message_count", Some("4")),
        ],
    )
    .await;
    insert(
        &db,
        "conversations",
        &[
            ("id", Some("conv-bob")),
            ("user_id", Some(BOB)),
            ("title", Some("周末计划")),
            ("created_at", Some("2026-01-23 04:00:00")),
        ],
    )
    .await;
    insert(
        &db,
        "conversations",
        &[
            ("id", Some("conv-ghost")),
            ("user_id", Some("quit")),
            ("title", Some("你好")),
            ("created_at", Some("2026-01-23 04:21:12")),
        ],
    )
    .await;
    let message = |id: &'static str,
                   conv: &'static str,
                   role: &'static str,
                   content: Option<&'static str>,
                   at: &'static str| {
        vec![
            ("id", Some(id)),
            ("conversation_id", Some(conv)),
            ("role", Some(role)),
            ("content", content),
            ("created_at", Some(at)),
        ]
    };
    insert(
        &db,
        "messages",
        &message(
            "338bcc35-52af-42c1-b874-7b813eab4400",
            CONV_ALICE,
            "user",
            Some("你好，帮我安排明天下午三点复习高数，大概两个小时"),
            "2026-01-23 03:08:32.952717",
        ),
    )
    .await;
    let mut tool_call = message(
        "c1401501-dcb4-4ac3-aafe-29e08cba8f0a",
        CONV_ALICE,
        "assistant",
        None,
        "2026-01-23 03:08:34",
    );
    tool_call.push(("tool_calls", Some(r#"[{"id":"call_1","type":"function","function":{"name":"create_event","arguments":"{}"}}]"#)));
    insert(&db, "messages", &tool_call).await;
    let mut tool = message(
        "9baaea0c-ec49-4266-a140-9b2ab53c9cbf",
        CONV_ALICE,
        "tool",
        Some(r#"{"success": true}"#),
        "2026-01-23 03:08:35",
    );
    tool.push(("tool_call_id", Some("call_1")));
    insert(&db, "messages", &tool).await;
    insert(
        &db,
        "messages",
        &message(
            "6563213a-9531-4878-8a76-7a37e4d59fca",
            CONV_ALICE,
            "assistant",
            Some("好的，已为你安排明天 15:00–17:00 复习高数。"),
            "2026-01-23 03:08:37.581135",
        ),
    )
    .await;
    insert(
        &db,
        "messages",
        &message(
            "msg-bob-1",
            "conv-bob",
            "user",
            Some("周六想去爬山 ⛰️"),
            "2026-01-23 04:00:01",
        ),
    )
    .await;
    // A NUL character, which SQLite keeps and PostgreSQL text cannot hold.
    insert(
        &db,
        "messages",
        &message(
            "msg-bob-2",
            "conv-bob",
            "assistant",
            Some("记得带水\u{0}和零食"),
            "2026-01-23 04:00:05",
        ),
    )
    .await;
    insert(
        &db,
        "messages",
        &message(
            "msg-ghost-1",
            "conv-ghost",
            "user",
            Some("你好"),
            "2026-01-23 04:21:12",
        ),
    )
    .await;
    insert(&db, "user_diaries", &[
        ("id", Some("d1f0c2a4-1111-4c2b-9a3e-000000000001")), ("user_id", Some(ALICE)), ("diary_date", Some("2026-01-22")),
        ("summary", Some("用户今天主要在复习高数，晚上去跑步。")),
        ("key_insights", Some(r#"{"activities": ["学习", "跑步"], "emotions": ["专注"], "patterns": [], "time_preference": "morning", "decision_style": "decisive"}"#)),
        ("extracted_signals", Some(r#"[{"type": "habit", "value": "晚上跑步", "confidence": 0.8, "evidence": "连续三天"}]"#)),
        ("conversation_count", Some("3")), ("message_count", Some("12")), ("tool_calls_count", Some("4")),
        ("created_at", Some("2026-01-23T00:05:00")),
    ]).await;
    insert(
        &db,
        "user_diaries",
        &[
            ("id", Some("diary-bob-1")),
            ("user_id", Some(BOB)),
            ("diary_date", Some("2026-01-22")),
            ("summary", Some("Bob 计划周末爬山。")),
            ("key_insights", Some("{oops")),
            ("extracted_signals", None),
        ],
    )
    .await;
    insert(&db, "user_profiles", &[
        ("id", Some("p-alice")), ("user_id", Some(ALICE)),
        ("profile_data", Some(r#"{"user_id": "x", "relationships": {"status": ["has_friends"], "confidence": 0.6}, "identity": {"occupation": "学生", "industry": "unknown", "position": "unknown", "confidence": 0.9, "evidence_count": 3}, "preferences": {"activity_types": [], "work_style": "deep_work"}, "habits": {"sleep_schedule": "night_owl"}, "total_points": 7}"#)),
        ("updated_at", Some("2026-01-22 12:00:00")),
    ]).await;
    insert(
        &db,
        "user_profiles",
        &[
            ("id", Some("p-bob")),
            ("user_id", Some(BOB)),
            ("profile_data", Some("画像")),
        ],
    )
    .await;
    insert(&db, "events", &[
        ("id", Some(EVENT_ALICE)), ("user_id", Some(ALICE)), ("title", Some("复习高数")),
        ("description", Some("第三章 多元函数")), ("event_date", Some("2026-01-24 00:00:00")),
        ("start_time", Some("2026-01-24 15:00:00")), ("end_time", Some("2026-01-24 17:00:00")),
        ("duration", Some("120")), ("energy_required", Some("HIGH")), ("urgency", Some("4")),
        ("importance", Some("5")), ("is_deep_work", Some("1")), ("event_type", Some("schedule")),
        ("category", Some("STUDY")), ("tags", Some(r#"["考试"]"#)), ("location", Some("图书馆")),
        ("participants", Some(r#"["小红"]"#)), ("status", Some("PENDING")),
        ("created_at", Some("2026-01-23 03:08:36.000001")), ("updated_at", Some("2026-01-23 03:08:36.000001")),
        ("created_by", Some("agent")), ("ai_confidence", Some("0.85")), ("ai_reasoning", Some("用户明确给出了时间")),
        ("energy_consumption", Some(r#"{"physical": {"level": "low", "score": 10, "description": "坐着", "factors": []}, "mental": {"level": "high", "score": 80, "description": "高强度思考", "factors": ["数学"]}, "evaluated_at": "2026-01-23T03:08:36", "evaluated_by": "energy_evaluator_agent"}"#)),
        ("is_physically_demanding", Some("0")), ("is_mentally_demanding", Some("1")), ("is_template", Some("0")),
        ("habit_completed_count", Some("0")), ("habit_total_count", Some("21")),
    ]).await;
    insert(
        &db,
        "events",
        &[
            ("id", Some("evt-bob-2")),
            ("user_id", Some(BOB)),
            ("title", Some("晨跑")),
            ("event_date", Some("2026-01-25 00:00:00")),
            ("time_period", Some("MORNING")),
            ("energy_required", Some("MEDIUM")),
            ("event_type", Some("habit")),
            ("category", Some("health")),
            ("tags", Some("not json")),
            ("participants", Some("[]")),
            ("status", Some("COMPLETED")),
            ("completed_at", Some("2026-01-25 02:00:00")),
            (
                "repeat_pattern",
                Some(r#"{"type": "weekly", "weekdays": [1, 3, 5]}"#),
            ),
            ("parent_routine_id", Some("evt-bob-template")),
            ("created_at", Some("2026-01-24 12:00:00")),
        ],
    )
    .await;
    insert(
        &db,
        "events",
        &[
            ("id", Some("evt-alice-3")),
            ("user_id", Some(ALICE_SUB)),
            ("title", Some("看电影")),
            ("start_time", Some("2026-01-26T19:30:00+08:00")),
            ("energy_required", Some("LOW")),
            ("event_type", Some("schedule")),
            ("category", Some("ENTERTAINMENT")),
            ("tags", Some("[]")),
            ("participants", Some("[]")),
            ("status", Some("PENDING")),
        ],
    )
    .await;
    insert(
        &db,
        "events",
        &[
            ("id", Some("evt-ghost")),
            ("user_id", Some("quit")),
            ("title", Some("开会")),
            ("energy_required", Some("MEDIUM")),
            ("event_type", Some("floating")),
            ("category", Some("WORK")),
            ("tags", Some("[]")),
            ("participants", Some("[]")),
            ("status", Some("PENDING")),
        ],
    )
    .await;
    db.close().await.unwrap();
    path
}

/// A database from before Apple sign-in: no `user_id` column in `users`, no diary or profile
/// tables.
pub async fn old_unilife(dir: &Path) -> PathBuf {
    let path = dir.join("old-unilife.db");
    let db = create(&path, &[OLD_USERS, CONVERSATIONS, MESSAGES, OLD_EVENTS]).await;
    insert(
        &db,
        "users",
        &[
            ("id", Some("old-user-1")),
            ("wechat_id", Some("wx_42")),
            ("nickname", Some("老用户")),
            ("energy_profile", Some("{}")),
            ("preferences", Some("{}")),
        ],
    )
    .await;
    insert(
        &db,
        "conversations",
        &[("id", Some("old-conv")), ("user_id", Some("old-user-1"))],
    )
    .await;
    insert(
        &db,
        "messages",
        &[
            ("id", Some("old-msg")),
            ("conversation_id", Some("old-conv")),
            ("role", Some("user")),
            ("content", Some("明天提醒我交作业")),
        ],
    )
    .await;
    insert(
        &db,
        "events",
        &[
            ("id", Some("old-event")),
            ("user_id", Some("old-user-1")),
            ("title", Some("交作业")),
            ("start_time", Some("2026-01-10 09:00:00")),
            ("energy_required", Some("MEDIUM")),
            ("event_type", Some("deadline")),
            ("category", Some("STUDY")),
            ("tags", Some("[]")),
            ("participants", Some("[]")),
            ("status", Some("pending")),
            ("created_at", Some("2026-01-09 12:00:00")),
        ],
    )
    .await;
    db.close().await.unwrap();
    path
}

/// drug-serve's `drugs.db` and `uploads/`: a drug with a real phone photo (given an EXIF
/// block that turns it a quarter), one with a file that is no image and a date that is no
/// date, one whose photo is gone.
pub async fn drug_serve(dir: &Path) -> (PathBuf, PathBuf) {
    let uploads = dir.join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    std::fs::write(uploads.join(PHOTO), with_exif_orientation_6(&photo_bytes())).unwrap();
    std::fs::write(uploads.join("broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let path = dir.join("drugs.db");
    let db = create(&path, &[DRUGS]).await;
    let urls = format!(r#"["/uploads/{PHOTO}"]"#);
    let url = format!("/uploads/{PHOTO}");
    insert(&db, "drugs", &[
        ("id", Some(DRUG_CALCIUM)), ("name", Some("医用棉签")), ("production_date", Some("2025-01-01")),
        ("expiry_date", Some("2027/12/31")), ("image_url", Some(&url)), ("image_urls", Some(&urls)),
        ("created_at", Some("2025-12-20 15:31:02")),
        ("analysis_result", Some("{'name': '医用棉签', 'production_date': '2025-01-01', 'expiry_date': '2027-12-31'}")),
    ]).await;
    insert(
        &db,
        "drugs",
        &[
            ("id", Some("legacy-2")),
            ("name", Some("布洛芬缓释胶囊")),
            ("expiry_date", Some("见包装")),
            ("image_url", Some("/uploads/broken.png")),
            ("image_urls", Some("[not json")),
            ("created_at", Some("2025-12-21 09:00:00")),
        ],
    )
    .await;
    insert(
        &db,
        "drugs",
        &[
            ("id", Some("6a1f3b7e-2222-4a8b-8c9d-000000000003")),
            ("name", Some("感冒灵颗粒")),
            ("image_urls", Some(r#"["/uploads/gone.jpg"]"#)),
        ],
    )
    .await;
    db.close().await.unwrap();
    (path, uploads)
}

pub fn photo_bytes() -> Vec<u8> {
    std::fs::read("/work/shared/fixtures/drug-photos/cotton-swab-front.jpg").unwrap()
}

/// The JPEG with an APP1 EXIF block right after its start marker saying "rotate 90° clockwise
/// to show" (orientation 6).
pub fn with_exif_orientation_6(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&[0, 1]); // one entry
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}
