//! Notifications (the in-app inbox) and their delivery to a user's channels.
//!
//! A notification is written once (its dedupe key) in the user's language, and queued as one
//! delivery per channel of the user's (`devices`) and per active iPhone when APNs is
//! configured; what can wait is queued for the user's next wake time while they sleep
//! (`crate::awake`). Each delivery is tried until the far end
//! takes it, with backoff (longer when the far end asks with `Retry-After`), then `dead`; a
//! far end that says the target is gone (404, 410) ends it at once. Every try is a row of
//! `delivery_attempts`, the channel's log. How each channel is spoken to: `crate::channels`.
//!
//! Webhook deliveries are JSON POSTs signed as Standard Webhooks 1.0 (`webhook-id`, the same
//! on every retry; `webhook-timestamp`; `webhook-signature: v1,<base64>`), and, for receivers
//! written before, `X-UniLife-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<body>")>` with `X-UniLife-Delivery` and `X-UniLife-Event`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use sha2::Sha256;
use shared::entities::app_device::{self, Platform};
use shared::entities::delivery::DeliveryStatus;
use shared::entities::{
    delivery, delivery_attempt, device, notification, notification_setting, user,
};
use uuid::Uuid;

use crate::awake;
use crate::channels::{self, Attempt, Channel, Outcome};
use crate::sealed::Field;
use crate::state::Ctx;
use crate::texts::{Lang, Reader, Text};

pub struct NewNotification<'a> {
    pub user: Uuid,
    pub kind: &'a str,
    pub text: Text,
    pub data: serde_json::Value,
    pub dedupe_key: String,
    pub routing: Routing,
}

/// Where and when a notification's deliveries go. The default (the jobs'): every channel and
/// active iPhone of the user's, now or, for what can wait, at the user's next wake time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Routing {
    /// Only this channel or phone of the user's.
    pub only: Option<Uuid>,
    /// Only the user's phones of this platform (no channel).
    pub platform: Option<Platform>,
    /// Not before this time (a scheduled send).
    pub at: Option<DateTime<Utc>>,
    /// Whatever the hour: the user asked for it.
    pub asked: bool,
}

/// Create the notification unless one with the same key exists; queue a delivery to each of
/// the user's devices. True when it was new. One transaction: an instance that dies between
/// the two would otherwise leave a notification that no retry ever delivers (its key exists).
pub async fn create(ctx: &Ctx, n: NewNotification<'_>) -> Result<bool, sea_orm::DbErr> {
    Ok(create_returning(ctx, n).await?.is_some())
}

/// The same, answering the new notification's id (none when its key existed).
pub async fn create_returning(
    ctx: &Ctx,
    n: NewNotification<'_>,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    Ok(create_many(ctx, vec![n]).await?.pop().flatten())
}

/// Notifications a transaction writes at most: a batch is a handful of statements whatever
/// its size (a tick's 10 000 dose reminders are 20 batches, not 10 000 transactions).
const BATCH: usize = 500;

/// Create many at once, each as [`create`] would: for each, its id when it was new.
pub async fn create_many(
    ctx: &Ctx,
    list: Vec<NewNotification<'_>>,
) -> Result<Vec<Option<Uuid>>, sea_orm::DbErr> {
    let mut out = Vec::with_capacity(list.len());
    let mut list = list.into_iter().peekable();
    while list.peek().is_some() {
        let chunk: Vec<NewNotification<'_>> = list.by_ref().take(BATCH).collect();
        // Read before the transaction: on SQLite a deferred transaction that reads, then
        // writes after another connection's commit, fails at once (`SQLITE_BUSY_SNAPSHOT`).
        let about = Recipients::of(&ctx.db, &chunk).await?;
        let txn = ctx.db.begin().await?;
        out.extend(create_in(&txn, chunk, &about, ctx.apns.is_some()).await?);
        txn.commit().await?;
    }
    Ok(out)
}

/// The user's language and zone (Chinese and the default zone for an account not found).
pub async fn reader(
    db: &impl sea_orm::ConnectionTrait,
    user: Uuid,
) -> Result<Reader, sea_orm::DbErr> {
    Ok(readers(db, &[user])
        .await?
        .remove(&user)
        .unwrap_or(DEFAULT_READER))
}

const DEFAULT_READER: Reader = Reader {
    lang: Lang::Zh,
    tz: shared::DEFAULT_TZ,
};

/// The language and zone of each of `users` found.
async fn readers(
    db: &impl sea_orm::ConnectionTrait,
    users: &[Uuid],
) -> Result<HashMap<Uuid, Reader>, sea_orm::DbErr> {
    let rows: Vec<(Uuid, String, serde_json::Value)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Timezone)
        .column(user::Column::Preferences)
        .filter(user::Column::Id.is_in(users.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, tz, prefs)| {
            let reader = Reader {
                lang: Lang::of(&prefs),
                tz: tz.parse().unwrap_or(shared::DEFAULT_TZ),
            };
            (id, reader)
        })
        .collect())
}

/// A batch's users: languages, zones and (for what can wait) notification settings.
struct Recipients {
    readers: HashMap<Uuid, Reader>,
    settings: HashMap<Uuid, notification_setting::Model>,
}

impl Recipients {
    async fn of(
        db: &impl sea_orm::ConnectionTrait,
        list: &[NewNotification<'_>],
    ) -> Result<Self, sea_orm::DbErr> {
        let mut users: Vec<Uuid> = list.iter().map(|n| n.user).collect();
        users.sort_unstable();
        users.dedup();
        let readers = readers(db, &users).await?;
        let patient: Vec<Uuid> = list
            .iter()
            .filter(|n| n.routing.at.is_none() && !n.routing.asked && !awake::is_urgent(n.kind))
            .map(|n| n.user)
            .collect();
        let settings = if patient.is_empty() {
            HashMap::new()
        } else {
            notification_setting::Entity::find()
                .filter(notification_setting::Column::UserId.is_in(patient))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.user_id, s))
                .collect()
        };
        Ok(Self { readers, settings })
    }
}

/// Write a batch: the notifications, then the deliveries of the new ones to their users'
/// channels and (`phones`: APNs is configured) active iPhones, in a few statements.
async fn create_in(
    db: &impl sea_orm::ConnectionTrait,
    list: Vec<NewNotification<'_>>,
    about: &Recipients,
    phones: bool,
) -> Result<Vec<Option<Uuid>>, sea_orm::DbErr> {
    let now = Utc::now();
    let (readers, settings) = (&about.readers, &about.settings);
    // Each notification's id, when it is to be delivered, and how it is routed.
    let mut planned: Vec<(Uuid, Uuid, DateTime<Utc>, Routing)> = Vec::with_capacity(list.len());
    let mut rows = Vec::with_capacity(list.len());
    for n in list {
        let id = Uuid::now_v7();
        let reader = readers.get(&n.user).copied().unwrap_or(DEFAULT_READER);
        let (title, body) = n.text.render(reader);
        // What can wait is not pushed while the user sleeps: its deliveries wait for the wake
        // time (the inbox has it at once).
        let due = if let Some(at) = n.routing.at {
            std::cmp::Ord::max(at, now)
        } else if n.routing.asked || awake::is_urgent(n.kind) {
            now
        } else {
            let defaults;
            let s = match settings.get(&n.user) {
                Some(s) => s,
                None => {
                    defaults = crate::routes::notification_settings::defaults(n.user);
                    &defaults
                }
            };
            let wake = awake::clock(&s.wake_time, chrono::NaiveTime::MIN);
            let sleep = awake::clock(&s.sleep_time, chrono::NaiveTime::MIN);
            awake::next_wake(now, reader.tz, wake, sleep).unwrap_or(now)
        };
        planned.push((id, n.user, due, n.routing));
        rows.push(notification::ActiveModel {
            id: Set(id),
            user_id: Set(n.user),
            kind: Set(n.kind.to_owned()),
            title: Set(title),
            body: Set(body),
            data: Set(n.data),
            dedupe_key: Set(n.dedupe_key),
            read_at: Set(None),
            created_at: Set(now),
        });
    }
    notification::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(notification::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    // A notification whose key existed was not written: its id is not there.
    let written: HashSet<Uuid> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::Id.is_in(planned.iter().map(|p| p.0)))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let owners: Vec<Uuid> = planned
        .iter()
        .filter(|p| written.contains(&p.0))
        .map(|p| p.1)
        .collect();
    let mut channels: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut iphones: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if !owners.is_empty() {
        let found: Vec<(Uuid, Uuid)> = device::Entity::find()
            .select_only()
            .column(device::Column::UserId)
            .column(device::Column::Id)
            .filter(device::Column::UserId.is_in(owners.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (user, id) in found {
            channels.entry(user).or_default().push(id);
        }
        // Phones can be pushed to through APNs only: iPhones, where it is configured. A
        // delivery names a channel or a phone by its id (UUIDs, unique across both).
        if phones {
            let found: Vec<(Uuid, Uuid)> = app_device::Entity::find()
                .select_only()
                .column(app_device::Column::UserId)
                .column(app_device::Column::Id)
                .filter(app_device::Column::UserId.is_in(owners.iter().copied()))
                .filter(app_device::Column::IsActive.eq(true))
                .filter(app_device::Column::Platform.eq(Platform::Ios))
                .into_tuple()
                .all(db)
                .await?;
            for (user, id) in found {
                iphones.entry(user).or_default().push(id);
            }
        }
    }
    let mut deliveries = Vec::new();
    let mut out = Vec::with_capacity(planned.len());
    for (id, user, due, routing) in planned {
        if !written.contains(&id) {
            out.push(None);
            continue;
        }
        out.push(Some(id));
        let mut targets: Vec<Uuid> = Vec::new();
        if routing.platform.is_none() {
            targets.extend(channels.get(&user).into_iter().flatten());
        }
        if routing.platform.is_none_or(|p| p == Platform::Ios) {
            targets.extend(iphones.get(&user).into_iter().flatten());
        }
        if let Some(only) = routing.only {
            targets.retain(|t| *t == only);
        }
        deliveries.extend(targets.into_iter().map(|target| delivery::ActiveModel {
            id: Set(Uuid::now_v7()),
            notification_id: Set(id),
            device_id: Set(target),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(due),
            claimed_until: Set(None),
            last_error: Set(None),
            sent_at: Set(None),
            created_at: Set(now),
        }));
    }
    // In slices: a statement has a bounded number of parameters.
    let mut deliveries = deliveries.into_iter().peekable();
    while deliveries.peek().is_some() {
        let slice: Vec<delivery::ActiveModel> = deliveries.by_ref().take(BATCH).collect();
        delivery::Entity::insert_many(slice)
            .on_conflict(
                OnConflict::columns([delivery::Column::NotificationId, delivery::Column::DeviceId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(out)
}

/// `t=<ts>,v1=<hex>` for this body.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Why a receiver refuses a delivery's `X-UniLife-Signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    #[error("the signature's timestamp is too far from now")]
    Stale,
    #[error("no signature matches the body")]
    Mismatch,
}

/// What a receiver does with a delivery, as the reference for receivers and tests: read
/// `t=<unix seconds>,v1=<hex>` (more than one `v1` is accepted, for a secret being rotated),
/// refuse a timestamp more than `tolerance` seconds from `now`, and compare the HMAC-SHA256
/// of `"<t>.<body>"` in constant time.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                let at = t.parse::<i64>().map_err(|_| SignatureError::Malformed)?;
                timestamp = Some((t, at));
            }
            Some(("v1", v)) => {
                signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?)
            }
            // A scheme this receiver does not know (a later one) is not its business.
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let Some((text, t)) = timestamp else {
        return Err(SignatureError::Malformed);
    };
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(t) > tolerance.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    // Over the timestamp as sent, as a receiver in any language would.
    mac.update(text.as_bytes());
    mac.update(b".");
    mac.update(body);
    if signatures
        .iter()
        .any(|s| mac.clone().verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct DeliveryCounts {
    pub sent: u32,
    pub retried: u32,
    pub dead: u32,
}

/// Send the deliveries that are due, until none is left or the deadline passes: a batch at a
/// time, its notifications and devices read in two queries, sent `scheduler.concurrency` at
/// once, the sent ones recorded in one statement and every try in another.
pub async fn deliver_due(
    ctx: &Ctx,
    deadline: DateTime<Utc>,
) -> Result<DeliveryCounts, sea_orm::DbErr> {
    let mut counts = DeliveryCounts::default();
    while Utc::now() < deadline {
        let batch = claim(ctx).await?;
        if batch.is_empty() {
            break;
        }
        let notifications: HashMap<Uuid, notification::Model> = notification::Entity::find()
            .filter(notification::Column::Id.is_in(batch.iter().map(|d| d.notification_id)))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        let devices: HashMap<Uuid, device::Model> = device::Entity::find()
            .filter(device::Column::Id.is_in(batch.iter().map(|d| d.device_id)))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        let phones: HashMap<Uuid, app_device::Model> = if ctx.apns.is_some() {
            let unknown = batch
                .iter()
                .map(|d| d.device_id)
                .filter(|id| !devices.contains_key(id));
            app_device::Entity::find()
                .filter(app_device::Column::Id.is_in(unknown))
                .all(&ctx.db)
                .await?
                .into_iter()
                .map(|d| (d.id, d))
                .collect()
        } else {
            HashMap::new()
        };
        let results: Vec<(delivery::Model, Attempt, bool)> = futures_util::stream::iter(batch)
            .map(|d| {
                let target = notifications
                    .get(&d.notification_id)
                    .ok_or("notification deleted")
                    .and_then(|n| {
                        let to = match (devices.get(&d.device_id), phones.get(&d.device_id)) {
                            (Some(dev), _) => Target::Channel(dev),
                            (None, Some(phone)) => Target::Phone(phone),
                            (None, None) => return Err("device deleted"),
                        };
                        Ok((n, to))
                    });
                async move {
                    let (attempt, deactivate) = match target {
                        Ok((n, to)) => send(ctx, &d, n, to).await,
                        Err(e) => (
                            not_sent(Outcome::Gone {
                                error: e.to_owned(),
                            }),
                            false,
                        ),
                    };
                    (d, attempt, deactivate)
                }
            })
            .buffer_unordered(ctx.settings.concurrency.max(1))
            .collect()
            .await;
        let now = Utc::now();
        // What the far ends took is recorded first: a failure of a later statement must not
        // leave taken deliveries `sending`, to be claimed and sent again after the lease.
        let sent: Vec<Uuid> = results
            .iter()
            .filter(|(_, a, _)| a.outcome == Outcome::Taken)
            .map(|(d, _, _)| d.id)
            .collect();
        if !sent.is_empty() {
            delivery::Entity::update_many()
                .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Sent))
                .col_expr(delivery::Column::SentAt, Expr::value(now))
                .col_expr(
                    delivery::Column::LastError,
                    Expr::value(Option::<String>::None),
                )
                .filter(delivery::Column::Id.is_in(sent.iter().copied()))
                .filter(delivery::Column::Status.eq(DeliveryStatus::Sending))
                .exec(&ctx.db)
                .await?;
            counts.sent += sent.len() as u32;
        }
        let gone_phones: Vec<Uuid> = results
            .iter()
            .filter(|(_, _, deactivate)| *deactivate)
            .map(|(d, _, _)| d.device_id)
            .collect();
        if !gone_phones.is_empty() {
            app_device::Entity::update_many()
                .col_expr(app_device::Column::IsActive, Expr::value(false))
                .col_expr(app_device::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(app_device::Column::Id.is_in(gone_phones.iter().copied()))
                .exec(&ctx.db)
                .await?;
            device::Entity::delete_many()
                .filter(device::Column::Id.is_in(gone_phones))
                .filter(device::Column::Channel.eq("webpush"))
                .exec(&ctx.db)
                .await?;
        }
        let mut log = Vec::with_capacity(results.len());
        for (d, attempt, _) in &results {
            let (status, retry_at) = match &attempt.outcome {
                Outcome::Taken => (DeliveryStatus::Sent, None),
                Outcome::Gone { .. } => (DeliveryStatus::Dead, None),
                Outcome::Failed { retry_after, .. } => {
                    if d.attempts >= ctx.settings.max_attempts {
                        (DeliveryStatus::Dead, None)
                    } else {
                        let base = i64::try_from(ctx.settings.retry_base_secs).unwrap_or(30);
                        let backoff =
                            Duration::seconds(base * (1i64 << (d.attempts - 1).clamp(0, 16)));
                        let asked = retry_after
                            .and_then(|w| Duration::from_std(w).ok())
                            .unwrap_or_default();
                        (DeliveryStatus::Pending, Some(now + backoff.max(asked)))
                    }
                }
            };
            log.push(delivery_attempt::ActiveModel {
                id: Set(Uuid::now_v7()),
                delivery_id: Set(d.id),
                device_id: Set(d.device_id),
                attempt: Set(d.attempts),
                status_code: Set(attempt.status.map(i32::from)),
                error: Set(attempt.error().map(str::to_owned)),
                retry_at: Set(retry_at),
                duration_ms: Set(i32::try_from(attempt.took.as_millis()).unwrap_or(i32::MAX)),
                created_at: Set(now),
            });
            if status == DeliveryStatus::Sent {
                continue;
            }
            delivery::Entity::update_many()
                .col_expr(delivery::Column::Status, Expr::value(status))
                .col_expr(
                    delivery::Column::NextAttemptAt,
                    Expr::value(retry_at.unwrap_or(now)),
                )
                .col_expr(
                    delivery::Column::LastError,
                    Expr::value(attempt.error().map(str::to_owned)),
                )
                .filter(delivery::Column::Id.eq(d.id))
                // Unless another instance took it over after our lease lapsed (and may have
                // sent it since): a failure of ours must not undo that.
                .filter(delivery::Column::Status.eq(DeliveryStatus::Sending))
                .filter(delivery::Column::ClaimedUntil.eq(d.claimed_until))
                .exec(&ctx.db)
                .await?;
            if status == DeliveryStatus::Dead {
                counts.dead += 1;
            } else {
                counts.retried += 1;
            }
        }
        delivery_attempt::Entity::insert_many(log)
            .exec_without_returning(&ctx.db)
            .await?;
    }
    Ok(counts)
}

fn not_sent(outcome: Outcome) -> Attempt {
    Attempt {
        status: None,
        outcome,
        took: std::time::Duration::ZERO,
    }
}

async fn claim(ctx: &Ctx) -> Result<Vec<delivery::Model>, sea_orm::DbErr> {
    let now = Utc::now();
    let mut pick = Query::select();
    pick.column(delivery::Column::Id)
        .from(delivery::Entity)
        .cond_where(
            Condition::any()
                .add(
                    Condition::all()
                        .add(delivery::Column::Status.eq(DeliveryStatus::Pending))
                        .add(delivery::Column::NextAttemptAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(delivery::Column::Status.eq(DeliveryStatus::Sending))
                        .add(delivery::Column::ClaimedUntil.lt(now)),
                ),
        )
        .limit(ctx.settings.batch_size);
    if ctx.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let lease = now + Duration::seconds(i64::try_from(ctx.settings.lease_secs).unwrap_or(300));
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Sending),
        )
        .col_expr(delivery::Column::ClaimedUntil, Expr::value(lease))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .filter(delivery::Column::Id.in_subquery(pick))
        .exec_with_returning(&ctx.db)
        .await
}

/// Seal what is still stored in plain text (rows written before sealing existed, or by
/// hand): run once when an instance starts. Each row is rewritten only if it is unchanged
/// since it was read. The number of rows sealed.
pub async fn seal_plain_rows(ctx: &Ctx) -> Result<u64, sea_orm::DbErr> {
    let plain = |c: device::Column| c.not_like("sealed:v1:%");
    let rows = device::Entity::find()
        .filter(
            Condition::any()
                .add(plain(device::Column::Url))
                .add(plain(device::Column::Secret))
                .add(
                    Condition::all()
                        .add(device::Column::PreviousSecret.is_not_null())
                        .add(plain(device::Column::PreviousSecret)),
                ),
        )
        .all(&ctx.db)
        .await?;
    let mut sealed = 0;
    for row in rows {
        let seal = |field, text: &str| {
            if text.starts_with("sealed:v1:") {
                text.to_owned()
            } else {
                ctx.sealer.seal(field, text)
            }
        };
        let res = device::Entity::update_many()
            .col_expr(device::Column::Url, Expr::value(seal(Field::Url, &row.url)))
            .col_expr(
                device::Column::Secret,
                Expr::value(seal(Field::Secret, &row.secret)),
            )
            .col_expr(
                device::Column::PreviousSecret,
                Expr::value(
                    row.previous_secret
                        .as_deref()
                        .map(|p| seal(Field::Secret, p)),
                ),
            )
            .filter(device::Column::Id.eq(row.id))
            .filter(device::Column::Url.eq(row.url.as_str()))
            .filter(device::Column::Secret.eq(row.secret.as_str()))
            .exec(&ctx.db)
            .await?;
        sealed += res.rows_affected;
    }
    Ok(sealed)
}

/// A device's channel and webhook secrets, unsealed.
pub struct Opened {
    pub channel: Channel,
    pub secret: String,
    pub previous: Option<String>,
}

/// Open a stored device: its sealed URL and secrets, the URL parsed (as stored: the check of
/// internal addresses is made again when sending).
pub fn open(ctx: &Ctx, dev: &device::Model) -> Result<Opened, String> {
    let unreadable = |e: crate::sealed::Unreadable| e.to_string();
    let url = ctx.sealer.open(Field::Url, &dev.url).map_err(unreadable)?;
    let channel = channels::parse(None, &url, true)?;
    let secret = ctx
        .sealer
        .open(Field::Secret, &dev.secret)
        .map_err(unreadable)?;
    let previous = match (&dev.previous_secret, dev.previous_secret_until) {
        (Some(p), Some(until)) if until > Utc::now() => {
            Some(ctx.sealer.open(Field::Secret, p).map_err(unreadable)?)
        }
        _ => None,
    };
    Ok(Opened {
        channel,
        secret,
        previous,
    })
}

/// Send one message through a device's channel.
pub async fn send_to(ctx: &Ctx, dev: &device::Model, msg: &channels::Message<'_>) -> Attempt {
    let opened = match open(ctx, dev) {
        Ok(o) => o,
        Err(error) => {
            return not_sent(Outcome::Failed {
                error,
                retry_after: None,
            });
        }
    };
    let secrets = channels::Secrets {
        current: &opened.secret,
        previous: opened.previous.as_deref(),
    };
    channels::send(
        &ctx.webhooks,
        &ctx.settings,
        ctx.vapid.as_deref(),
        ctx.settings.webhook_allow_private,
        &opened.channel,
        &secrets,
        msg,
    )
    .await
}

/// Where a delivery goes: one of the user's channels, or an iPhone of the app's.
enum Target<'a> {
    Channel(&'a device::Model),
    Phone(&'a app_device::Model),
}

/// Send one delivery; true beside the attempt when the phone is to be deactivated (or the
/// browser's Web Push subscription deleted).
async fn send(
    ctx: &Ctx,
    d: &delivery::Model,
    n: &notification::Model,
    to: Target<'_>,
) -> (Attempt, bool) {
    let payload = match serde_json::to_vec(&serde_json::json!({
        "id": n.id, "kind": &n.kind, "title": n.title, "body": n.body,
        "data": n.data, "created_at": n.created_at, "delivery_id": d.id,
    })) {
        Ok(p) => p,
        Err(e) => {
            return (
                not_sent(Outcome::Gone {
                    error: e.to_string(),
                }),
                false,
            );
        }
    };
    let msg = channels::Message {
        id: d.id.to_string(),
        notification_id: n.id.to_string(),
        kind: &n.kind,
        title: &n.title,
        body: &n.body,
        // Due at a time the user set, or sent as high priority.
        urgent: awake::is_urgent(&n.kind) || n.data["push"]["priority"] == "high",
        payload: &payload,
    };
    match to {
        Target::Channel(dev) => {
            let attempt = send_to(ctx, dev, &msg).await;
            // A browser that dropped its subscription: its endpoint answers 404 or 410.
            let dropped = dev.channel == "webpush" && matches!(attempt.status, Some(404 | 410));
            (attempt, dropped)
        }
        Target::Phone(phone) => push_to(ctx, phone, &msg, &n.data).await,
    }
}

/// Push one message to an iPhone of the app's through APNs; true beside the attempt when
/// Apple says the phone's token is no longer valid.
pub async fn push_to(
    ctx: &Ctx,
    phone: &app_device::Model,
    msg: &channels::Message<'_>,
    data: &serde_json::Value,
) -> (Attempt, bool) {
    let Some(apns) = &ctx.apns else {
        return (
            not_sent(Outcome::Failed {
                error: "APNs is not configured".to_owned(),
                retry_after: None,
            }),
            false,
        );
    };
    if !phone.is_active {
        return (
            not_sent(Outcome::Gone {
                error: "the phone was deactivated".to_owned(),
            }),
            false,
        );
    }
    let pushed = apns.push(&phone.token, msg, data).await;
    (pushed.attempt, pushed.deactivate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Reference computed independently, as a receiver would:
        // python3 -c "import hmac,hashlib;print(hmac.new(b'k',b'1700000000.{}',hashlib.sha256).hexdigest())"
        assert_eq!(
            signature("k", 1_700_000_000, b"{}"),
            "t=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"
        );
        let header = signature("k", 1_700_000_000, b"{}");
        assert_eq!(verify("k", &header, b"{}", 1_700_000_100, 300), Ok(()));
        // During a rotation a receiver may be sent two; one matching is enough.
        let rotated = format!("{header},v1={},v2=later-scheme", "00".repeat(32));
        assert_eq!(verify("k", &rotated, b"{}", 1_700_000_000, 300), Ok(()));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{SignatureError, signature, verify};

        proptest! {
            #[test]
            fn what_we_sign_verifies_and_any_change_does_not(
                secret in "\\PC{0,40}",
                t in 0i64..4_000_000_000,
                body in prop::collection::vec(any::<u8>(), 0..200),
                flip in any::<prop::sample::Index>(),
            ) {
                let header = signature(&secret, t, &body);
                prop_assert_eq!(verify(&secret, &header, &body, t + 299, 300), Ok(()));
                prop_assert_eq!(verify(&secret, &header, &body, t - 301, 300), Err(SignatureError::Stale));
                let other = format!("{secret}x");
                prop_assert_eq!(verify(&other, &header, &body, t, 300), Err(SignatureError::Mismatch));
                if !body.is_empty() {
                    let mut changed = body.clone();
                    let i = flip.index(changed.len());
                    changed[i] ^= 1;
                    prop_assert_eq!(verify(&secret, &header, &changed, t, 300), Err(SignatureError::Mismatch));
                }
                let later = header.replacen(&format!("t={t}"), &format!("t={}", t + 1), 1);
                prop_assert_eq!(verify(&secret, &later, &body, t, 300), Err(SignatureError::Mismatch));
            }

            #[test]
            fn any_header_is_refused_cleanly(header in "\\PC{0,120}", body in "\\PC{0,40}") {
                prop_assert!(verify("k", &header, body.as_bytes(), 1_700_000_000, 300).is_err());
            }
        }
    }
}
