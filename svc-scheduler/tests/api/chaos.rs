//! svc-scheduler killed at random moments: three instances of the real binary on one
//! PostgreSQL database, ticked through three simulated days (across New York's change to
//! summer time) for 500 users, while the test SIGKILLs instances mid-tick and starts them
//! again. At the end of each seeded run:
//! - every (job, user, period) that fell due has one work item, done or skipped;
//! - svc-chat was asked for each of those once, and more than once only for an item taken
//!   again after its claimant was killed (never more often than the item was claimed);
//! - every dose due and every expiry alert is one notification, delivered to the user's
//!   webhook at least once, every copy with the same delivery id and a valid signature (the
//!   receiver dedupes on it).
//!
//! The services the scheduler asks (svc-drugs, svc-chat) are stand-ins that count what they
//! are asked; their own idempotency is their suites' business. The webhook receiver refuses
//! one delivery in 13 (503), so retries run too.
//!
//! PostgreSQL only (`TEST_DATABASE_URL`): SQLite serves one instance. `CHAOS_RUNS` seeded runs
//! (default 50) from `CHAOS_SEED` (default 1): `CHAOS_RUNS=500 CHAOS_SEED=1000 cargo test -p
//! svc-scheduler --test api chaos -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use sha2::Sha256;
use shared::contracts::{CabinetDrug, Dose, DoseStatus, ExpiryStatus, UserDose};
use shared::entities::delivery::DeliveryStatus;
use shared::entities::job_item::JobItemStatus;
use shared::entities::{delivery, device, job_item, notification, notification_setting, user};
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use shared::testing::TestDatabase;
use svc_scheduler::jobs::{ALL, Job};
use uuid::Uuid;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

const USERS: usize = 500;
const ZONES: [Tz; 4] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
];
/// Saturday; New York moves its clocks on Sunday 2027-03-14.
const START: &str = "2027-03-13T00:00:00Z";
const HOURS: i64 = 72;
const INSTANCES: usize = 3;
/// Chance that a tick's instance is killed, and how soon after the tick starts.
const KILL_CHANCE: f64 = 0.3;
const KILL_WITHIN_MS: u64 = 250;
const SECRET: &str = "whsec-chaos";

/// The users and what the stand-ins answer about them.
struct World {
    users: Vec<(Uuid, Tz)>,
    index: HashMap<Uuid, usize>,
}

impl World {
    /// Each user takes one dose a day at 08:00 local time.
    fn doses_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<UserDose> {
        let mut out = Vec::new();
        for (i, (user, tz)) in self.users.iter().enumerate() {
            let first = from.with_timezone(tz).date_naive() - Duration::days(1);
            let last = to.with_timezone(tz).date_naive();
            for date in first.iter_days().take_while(|d| *d <= last) {
                let Some(at) = tz
                    .from_local_datetime(&date.and_time(NaiveTime::MIN + Duration::hours(8)))
                    .single()
                else {
                    continue;
                };
                let at = at.with_timezone(&Utc);
                if at < from || at > to {
                    continue;
                }
                let plan = Uuid::from_u128(i as u128 + 1);
                out.push(UserDose {
                    user_id: *user,
                    dose: Dose {
                        id: format!("{plan}:{date}"),
                        plan_id: plan,
                        drug_id: plan,
                        drug_name: "阿莫西林胶囊".into(),
                        scheduled_at: at.to_rfc3339(),
                        local_date: date,
                        local_time: "08:00".into(),
                        amount: 1.0,
                        unit: "粒".into(),
                        status: DoseStatus::Due,
                        snoozed_until: None,
                        acted_at: None,
                    },
                });
            }
        }
        out
    }

    /// Every other user has a drug about to expire.
    fn has_expiring(&self, user: Uuid) -> bool {
        self.index.get(&user).is_some_and(|i| i % 2 == 0)
    }
}

fn expiring_drug() -> CabinetDrug {
    let now = Utc::now();
    CabinetDrug {
        id: Uuid::now_v7(),
        name: "布洛芬缓释胶囊".into(),
        brand: None,
        generic_name: None,
        manufacturer: None,
        strength: None,
        dosage_form: None,
        package: None,
        approval_number: None,
        barcode: None,
        batch_number: None,
        serial_number: None,
        box_id: None,
        production_date: None,
        expiry_date: None,
        quantity: None,
        unit: None,
        notes: None,
        images: Vec::new(),
        status: ExpiryStatus::Expiring,
        days_to_expiry: Some(3),
        created_at: now,
        updated_at: now,
    }
}

fn query(req: &Request, name: &str) -> Option<DateTime<Utc>> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// svc-drugs' internal routes the scheduler calls.
struct Drugs(Arc<World>);

impl Respond for Drugs {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        let list = |v: Value| ResponseTemplate::new(200).set_body_json(v);
        if path == "/internal/doses/due" {
            let (Some(from), Some(to)) = (query(req, "from"), query(req, "to")) else {
                return ResponseTemplate::new(400);
            };
            return list(json!(self.0.doses_between(from, to)));
        }
        if path == "/internal/doses/mark-missed"
            || path == "/internal/low-stock"
            || path == "/internal/doses/escalations"
        {
            return list(json!([]));
        }
        let user = path
            .strip_prefix("/internal/users/")
            .and_then(|p| p.strip_suffix("/expiring"))
            .and_then(|u| u.parse().ok());
        match user {
            Some(u) if self.0.has_expiring(u) => list(json!([expiring_drug()])),
            Some(_) => list(json!([])),
            None => ResponseTemplate::new(404),
        }
    }
}

type Calls = Arc<Mutex<BTreeMap<(String, Uuid, String), i32>>>;

/// svc-chat's internal routes: counts each (route, user, date) it is asked for.
struct Chat(Calls);

impl Respond for Chat {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path();
        if path == "/internal/events/upcoming" {
            return ResponseTemplate::new(200).set_body_json(json!([]));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return ResponseTemplate::new(400);
        };
        let (Some(user), Some(date)) = (
            body["user_id"].as_str().and_then(|u| u.parse().ok()),
            body["date"].as_str(),
        ) else {
            return ResponseTemplate::new(400);
        };
        *self
            .0
            .lock()
            .unwrap()
            .entry((path.to_owned(), user, date.to_owned()))
            .or_default() += 1;
        let status = if path == "/internal/habits/replenish" {
            "skipped"
        } else {
            "done"
        };
        ResponseTemplate::new(200).set_body_json(json!({"status": status}))
    }
}

#[derive(Default)]
struct Receipts {
    /// notification id → the delivery id of every copy received.
    by_notification: HashMap<Uuid, Vec<Uuid>>,
    bad_signatures: usize,
    seen: u64,
}

/// The users' webhook endpoint: checks the signature, refuses one request in 13.
struct Receiver(Arc<Mutex<Receipts>>);

fn signed(req: &Request) -> bool {
    let Some(header) = req
        .headers
        .get("x-unilife-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let Ok(expected) = hex::decode(v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&req.body);
    mac.verify_slice(&expected).is_ok()
}

impl Respond for Receiver {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut r = self.0.lock().unwrap();
        r.seen += 1;
        if r.seen.is_multiple_of(13) {
            return ResponseTemplate::new(503);
        }
        if !signed(req) {
            r.bad_signatures += 1;
            return ResponseTemplate::new(401);
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let header = req
            .headers
            .get("x-unilife-delivery")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let (Some(notification), Some(delivery)) =
            (body["id"].as_str().and_then(|v| v.parse().ok()), header)
        else {
            return ResponseTemplate::new(400);
        };
        r.by_notification
            .entry(notification)
            .or_default()
            .push(delivery);
        ResponseTemplate::new(204)
    }
}

async fn serve(responder: impl Respond + 'static) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(any())
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

/// One svc-scheduler process.
struct Instance {
    child: Child,
    url: String,
}

/// Start an instance; with `wait`, until it answers (a restarted one joins when it is up, and
/// a tick sent before is refused like one sent to a dead instance).
async fn start(env: &[(&str, String)], client: &reqwest::Client, wait: bool) -> Instance {
    let port = shared::testing::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_svc-scheduler"))
        .arg("serve")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("APP__SERVER__PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while wait
        && !client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            started.elapsed() < StdDuration::from_secs(20),
            "{url} never answered"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    Instance { child, url }
}

impl Instance {
    fn kill(&mut self) {
        // SIGKILL: no shutdown, no rollback by the process itself.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A tick at simulated time `at`; true when it ran to the end.
async fn tick(client: reqwest::Client, url: String, token: String, at: DateTime<Utc>) -> bool {
    client
        .post(format!("{url}/internal/tick"))
        .header(INTERNAL_TOKEN_HEADER, token)
        .json(&json!({ "now": at }))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[derive(Debug, Default)]
struct Stats {
    kills: u32,
    items: usize,
    /// Items claimed more than once (their first claimant was killed holding them).
    taken_again: usize,
    notifications: usize,
    /// Webhook copies beyond the first of a notification (same delivery id, deduped).
    repeated_copies: usize,
}

async fn users(db: &sea_orm::DatabaseConnection) -> World {
    let now = Utc::now();
    let users: Vec<(Uuid, Tz)> = (0..USERS)
        .map(|i| (Uuid::now_v7(), ZONES[i % ZONES.len()]))
        .collect();
    user::Entity::insert_many(users.iter().map(|(id, tz)| user::ActiveModel {
        id: Set(*id),
        login: Set(format!("u{}", id.simple())),
        password_hash: Set("!".into()),
        timezone: Set(tz.name().into()),
        preferences: Set(json!({})),
        is_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await
    .unwrap();
    // Awake around the clock (equal wake and sleep times): the ticks' simulated days and the
    // real clock that dates deliveries differ, and nothing here is about quiet hours.
    notification_setting::Entity::insert_many(users.iter().map(|(id, _)| {
        let mut s = svc_scheduler::routes::notification_settings::defaults(*id);
        s.wake_time = "00:00".into();
        s.sleep_time = "00:00".into();
        notification_setting::ActiveModel::from(s)
    }))
    .exec_without_returning(db)
    .await
    .unwrap();
    let index = users.iter().enumerate().map(|(i, u)| (u.0, i)).collect();
    World { users, index }
}

async fn run(seed: u64) -> Stats {
    let database = TestDatabase::create().await.unwrap();
    let db = database.connect().await.unwrap();
    // The test kills the scheduler, not PostgreSQL: a commit need not wait for the disk.
    let name = database.url.rsplit('/').next().unwrap();
    let name = name.split('?').next().unwrap().to_owned();
    db.execute_unprepared(&format!(
        "ALTER DATABASE {name} SET synchronous_commit TO off"
    ))
    .await
    .unwrap();
    let world = Arc::new(users(&db).await);
    let calls: Calls = Arc::default();
    let receipts = Arc::new(Mutex::new(Receipts::default()));
    let drugs = serve(Drugs(world.clone())).await;
    let chat = serve(Chat(calls.clone())).await;
    let receiver = serve(Receiver(receipts.clone())).await;
    device::Entity::insert_many(world.users.iter().map(|(u, _)| device::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(*u),
        channel: Set("webhook".into()),
        name: Set(None),
        url: Set(format!("{}/hook", receiver.uri())),
        secret: Set(SECRET.into()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        created_at: Set(Utc::now()),
    }))
    .exec_without_returning(&db)
    .await
    .unwrap();

    // Each run its own internal secret: a port another run's instance took over answers 401,
    // never works on the wrong database.
    let secret = format!("chaos-run-{seed}-{}", Uuid::new_v4().simple());
    let env: Vec<(&str, String)> = vec![
        ("APP__AUTH__INTERNAL_SECRET", secret.clone()),
        ("APP__DATABASE__URL", database.url.clone()),
        ("APP__DATABASE__MAX_CONNECTIONS", "4".into()),
        ("APP__SERVER__HOST", "127.0.0.1".into()),
        ("APP__SERVER__WORKERS", "1".into()),
        (
            "APP__APP__LOG_LEVEL",
            std::env::var("CHAOS_LOG").unwrap_or("error".into()),
        ),
        ("APP__SERVICES__DRUGS", drugs.uri()),
        ("APP__SERVICES__CHAT", chat.uri()),
        ("APP__SCHEDULER__CLOCK", "false".into()),
        // Due at the users' own hours of the real day, not of the pretend times run here.
        ("APP__SCHEDULER__CHECKINS", "false".into()),
        // The receiver listens on loopback.
        ("APP__SCHEDULER__WEBHOOK_ALLOW_PRIVATE", "true".into()),
        ("APP__SCHEDULER__LEASE_SECS", "1".into()),
        ("APP__SCHEDULER__RETRY_BASE_SECS", "0".into()),
        ("APP__SCHEDULER__MAX_ATTEMPTS", "10".into()),
        ("APP__SCHEDULER__BATCH_SIZE", "40".into()),
    ];
    let client = reqwest::Client::builder()
        .timeout(StdDuration::from_secs(120))
        .build()
        .unwrap();
    let settings = database.settings();
    let token = InternalTokens::new(
        &secrecy::SecretString::from(secret.clone()),
        settings.auth.internal_token_ttl_secs,
    );
    let mut instances = Vec::new();
    for _ in 0..INSTANCES {
        instances.push(start(&env, &client, true).await);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stats = Stats::default();
    let start_at: DateTime<Utc> = START.parse().unwrap();
    let end_at = start_at + Duration::hours(HOURS);
    let mut at = start_at;
    while at <= end_at {
        if at.hour() == 0 {
            // What autovacuum does for a live database over a day: planner statistics.
            db.execute_unprepared("ANALYZE").await.unwrap();
        }
        // Two instances tick the same minute at once, as two timers or a timer and a retry
        // would; one of them may be killed. Until one tick runs to the end the platform
        // fires again (a minute later: still within the reminders' look-back).
        for attempt in 0.. {
            assert!(attempt < 100, "seed {seed}: no tick at {at} ran to the end");
            let a = rng.random_range(0..INSTANCES);
            let b = (a + rng.random_range(1..INSTANCES)) % INSTANCES;
            let ticks = [a, b].map(|i| {
                tokio::spawn(tick(
                    client.clone(),
                    instances[i].url.clone(),
                    token.mint("scheduler-test", "scheduler", None),
                    at,
                ))
            });
            let victim = rng
                .random_bool(KILL_CHANCE)
                .then(|| if rng.random_bool(0.5) { a } else { b });
            if let Some(v) = victim {
                let after = rng.random_range(0..KILL_WITHIN_MS);
                tokio::time::sleep(StdDuration::from_millis(after)).await;
                instances[v].kill();
                stats.kills += 1;
            }
            let mut finished = false;
            for t in ticks {
                finished |= t.await.unwrap();
            }
            if let Some(v) = victim {
                instances[v] = start(&env, &client, false).await;
            }
            if finished {
                break;
            }
        }
        at += Duration::hours(1);
    }
    // What killed instances held comes free when their leases lapse (1 s); ticks at the end
    // time finish it.
    let open_items = || {
        job_item::Entity::find()
            .filter(
                job_item::Column::Status.is_not_in([JobItemStatus::Done, JobItemStatus::Skipped]),
            )
            .all(&db)
    };
    let open_deliveries = || {
        delivery::Entity::find()
            .filter(delivery::Column::Status.ne(DeliveryStatus::Sent))
            .all(&db)
    };
    for round in 0.. {
        if open_items().await.unwrap().is_empty() && open_deliveries().await.unwrap().is_empty() {
            break;
        }
        assert!(round < 20, "seed {seed}: work left after {round} rounds");
        tokio::time::sleep(StdDuration::from_millis(1100)).await;
        let i = rng.random_range(0..INSTANCES);
        let token = token.mint("scheduler-test", "scheduler", None);
        tick(client.clone(), instances[i].url.clone(), token, end_at).await;
    }
    for i in &mut instances {
        i.kill();
    }

    check(
        seed, &db, &world, start_at, end_at, &calls, &receipts, &mut stats,
    )
    .await;
    db.close().await.unwrap();
    stats
}

fn chat_route(job: Job) -> Option<&'static str> {
    match job {
        Job::DailyDiaries => Some("/internal/diaries/generate"),
        Job::DailyProfiles => Some("/internal/profiles/daily"),
        Job::WeeklyProfiles => Some("/internal/profiles/weekly"),
        Job::HabitReplenish => Some("/internal/habits/replenish"),
        _ => None,
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one run's whole state, checked once"
)]
async fn check(
    seed: u64,
    db: &sea_orm::DatabaseConnection,
    world: &World,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    calls: &Calls,
    receipts: &Mutex<Receipts>,
    stats: &mut Stats,
) {
    // What fell due: every hour's tick, every user, every daily job.
    let mut due: BTreeSet<(&str, Uuid, NaiveDate)> = BTreeSet::new();
    let mut at = start_at;
    while at <= end_at {
        for (u, tz) in &world.users {
            // The check-ins are off here (they go at the users' own real hours).
            for job in ALL
                .into_iter()
                .filter(|j| svc_scheduler::checkins::Kind::of(*j).is_none())
            {
                if let Some(period) = job.period_due(at, *tz) {
                    due.insert((job.name(), *u, period));
                }
            }
        }
        at += Duration::hours(1);
    }
    let items = job_item::Entity::find().all(db).await.unwrap();
    let found: BTreeSet<(&str, Uuid, NaiveDate)> = items
        .iter()
        .map(|i| {
            let job = Job::parse(&i.job).unwrap().name();
            (job, i.user_id, i.period.parse().unwrap())
        })
        .collect();
    assert_eq!(found.len(), items.len(), "seed {seed}: an item twice");
    assert_eq!(found, due, "seed {seed}: items are not what fell due");
    let calls = calls.lock().unwrap().clone();
    let mut asked = BTreeSet::new();
    for item in &items {
        let job = Job::parse(&item.job).unwrap();
        let expiring = world.has_expiring(item.user_id);
        let want = match job {
            Job::HabitReplenish => JobItemStatus::Skipped,
            Job::ExpiryAlerts if !expiring => JobItemStatus::Skipped,
            _ => JobItemStatus::Done,
        };
        assert_eq!(item.status, want, "seed {seed}: {item:?}");
        if item.attempts > 1 {
            stats.taken_again += 1;
        }
        if let Some(route) = chat_route(job) {
            let key = (route.to_owned(), item.user_id, item.period.clone());
            let n = calls.get(&key).copied().unwrap_or(0);
            assert!(
                n >= 1 && n <= item.attempts && (item.attempts > 1 || n == 1),
                "seed {seed}: {route} asked {n} times for an item claimed {} times",
                item.attempts
            );
            asked.insert(key);
        }
    }
    assert_eq!(
        asked.len(),
        calls.len(),
        "seed {seed}: svc-chat asked for work no item stands for"
    );
    stats.items = items.len();

    // Notifications: every dose due in the three days, every expiry alert, nothing else.
    let notifications = notification::Entity::find().all(db).await.unwrap();
    let keys: BTreeSet<String> = notifications.iter().map(|n| n.dedupe_key.clone()).collect();
    let mut want: BTreeSet<String> = world
        .doses_between(
            start_at - svc_scheduler::jobs::reminders::DOSE_LOOKBACK,
            end_at + Duration::minutes(1),
        )
        .into_iter()
        .map(|d| format!("dose:{}", d.dose.id))
        .collect();
    want.extend(
        items
            .iter()
            .filter(|i| i.job == Job::ExpiryAlerts.name() && world.has_expiring(i.user_id))
            .map(|i| format!("expiry:{}:{}", i.user_id, i.period)),
    );
    assert_eq!(keys.len(), notifications.len());
    assert_eq!(
        keys, want,
        "seed {seed}: notifications are not what was due"
    );
    stats.notifications = notifications.len();

    // Deliveries: one per notification (one device each), sent; the receiver has each at
    // least once, every copy under that delivery's id, never more copies than attempts.
    let deliveries: HashMap<Uuid, delivery::Model> = delivery::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.notification_id, d))
        .collect();
    let receipts = receipts.lock().unwrap();
    assert_eq!(receipts.bad_signatures, 0, "seed {seed}");
    assert_eq!(deliveries.len(), notifications.len(), "seed {seed}");
    for n in &notifications {
        let d = &deliveries[&n.id];
        assert_eq!(d.status, DeliveryStatus::Sent, "seed {seed}: {d:?}");
        let copies = receipts
            .by_notification
            .get(&n.id)
            .unwrap_or_else(|| panic!("seed {seed}: {} never arrived", n.dedupe_key));
        assert!(
            copies.iter().all(|c| *c == d.id),
            "seed {seed}: {} arrived under another delivery id",
            n.dedupe_key
        );
        assert!(copies.len() <= d.attempts as usize, "seed {seed}: {d:?}");
        stats.repeated_copies += copies.len() - 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_work_is_lost_or_done_twice_when_instances_are_killed() {
    if !std::env::var(shared::testing::TEST_DATABASE_URL).is_ok_and(|u| u.starts_with("postgres")) {
        eprintln!("PostgreSQL only: set TEST_DATABASE_URL");
        return;
    }
    shared::install_crypto_provider();
    let runs: u64 = std::env::var("CHAOS_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let first: u64 = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let began = Instant::now();
    let mut total = Stats::default();
    // Runs wait on each other's processes more than on the processor: a few at once.
    let parallel: usize = std::env::var("CHAOS_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let results: Vec<Stats> = futures_util::stream::iter(first..first + runs)
        .map(run)
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    for s in results {
        total.kills += s.kills;
        total.items += s.items;
        total.taken_again += s.taken_again;
        total.notifications += s.notifications;
        total.repeated_copies += s.repeated_copies;
    }
    eprintln!(
        "chaos: {runs} runs (seeds {first}..{}) in {:.1} s: {} kills, {} items ({} taken again \
         after a kill), {} notifications ({} copies repeated under the same delivery id)",
        first + runs,
        began.elapsed().as_secs_f64(),
        total.kills,
        total.items,
        total.taken_again,
        total.notifications,
        total.repeated_copies
    );
    // The runs did meet kills that mattered, or they prove nothing.
    assert!(total.kills > 0 && total.taken_again > 0, "{total:?}");
}
