//! Each user's change clock: every write to a user's events takes the next stamp inside its
//! own transaction. Taking it locks the user's clock row until commit, so stamps increase in
//! commit order and a `/sync` reader that stops at the clock's committed value never skips a
//! change that commits later.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::entities::sync_clock;
use uuid::Uuid;

/// The next stamp for `user`: now, or just after the last one if the clock is ahead of now.
/// Call inside the transaction that makes the change.
pub async fn tick<C: ConnectionTrait>(db: &C, user: Uuid) -> Result<DateTime<Utc>, DbErr> {
    let insert = Query::insert()
        .into_table(sync_clock::Entity)
        .columns([
            sync_clock::Column::UserId,
            sync_clock::Column::ChangedAt,
            sync_clock::Column::Writes,
        ])
        .values_panic([user.into(), DateTime::<Utc>::UNIX_EPOCH.into(), 0i64.into()])
        .on_conflict(
            OnConflict::column(sync_clock::Column::UserId)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    // The update takes the row lock before the clock is read.
    let bump = Query::update()
        .table(sync_clock::Entity)
        .value(
            sync_clock::Column::Writes,
            Expr::col(sync_clock::Column::Writes).add(1),
        )
        .and_where(Expr::col(sync_clock::Column::UserId).eq(user))
        .to_owned();
    db.execute(&bump).await?;
    let last = committed(db, user)
        .await?
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let next = Ord::max(shared::time::now_micros(), last + Duration::microseconds(1));
    let set = Query::update()
        .table(sync_clock::Entity)
        .value(sync_clock::Column::ChangedAt, next)
        .and_where(Expr::col(sync_clock::Column::UserId).eq(user))
        .to_owned();
    db.execute(&set).await?;
    Ok(next)
}

/// The clock's value as this connection sees it (outside a write: the last committed stamp).
pub async fn committed<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(sync_clock::Entity::find()
        .filter(sync_clock::Column::UserId.eq(user))
        .one(db)
        .await?
        .map(|c| c.changed_at))
}
