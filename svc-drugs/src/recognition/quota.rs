//! Daily quotas on the paid vision model: each model call counts once against the account and
//! once against the client's network (an IPv4 address, an IPv6 /64), legacy routes included
//! (their shared account has the per-account quota too, which bounds every anonymous caller
//! together). A repeat of earlier photos reuses the answer and counts nothing. Counted per UTC
//! day in `recognition_quotas`, one statement per key, so concurrent requests cannot overshoot.

use std::net::IpAddr;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use shared::entities::recognition_quota::{self, Column};
use uuid::Uuid;

use super::RecognitionError;
use crate::state::AppState;

/// Who asks for a recognition: whose cabinet it is for, the account asking (whose quota it
/// counts against: a caregiver's, also for a dependent) and, through the gateway, the
/// client's address.
#[derive(Debug, Clone, Copy)]
pub struct Requester {
    pub user: Uuid,
    pub account: Uuid,
    pub address: Option<IpAddr>,
}

/// Which quota ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaScope {
    Account,
    Network,
}

/// The network an address counts for: IPv4 as is, IPv6 by its /64 (one subscriber's prefix).
fn network(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The key of a network: keyed with the internal secret, so the table holds no address and a
/// leaked table cannot be reversed by trying every IPv4 address.
pub fn address_key(secret: &[u8], addr: IpAddr) -> String {
    let mac = crate::state::keyed_hex(secret, "recognition-quota", &network(addr));
    format!("addr:{}", &mac[..32])
}

/// Count one model call for this requester, or say which quota is used up (nothing counted).
pub(super) async fn take(state: &AppState, who: Requester) -> Result<(), RecognitionError> {
    let day = chrono::Utc::now().date_naive();
    let limits = &state.drugs;
    let network_key = who
        .address
        .map(|a| address_key(&state.quota_secret, a))
        .filter(|_| limits.daily_recognitions_per_address > 0);
    if let Some(key) = &network_key
        && !raise(&state.db, key, day, limits.daily_recognitions_per_address).await?
    {
        return Err(exceeded(
            QuotaScope::Network,
            limits.daily_recognitions_per_address,
        ));
    }
    let account_key = format!("user:{}", who.account);
    if limits.daily_recognitions_per_user > 0
        && !raise(
            &state.db,
            &account_key,
            day,
            limits.daily_recognitions_per_user,
        )
        .await?
    {
        if let Some(key) = &network_key {
            give_back(&state.db, key, day).await?;
        }
        return Err(exceeded(
            QuotaScope::Account,
            limits.daily_recognitions_per_user,
        ));
    }
    Ok(())
}

fn exceeded(scope: QuotaScope, limit: u32) -> RecognitionError {
    RecognitionError::QuotaExceeded { scope, limit }
}

/// The day's count of `key` raised by one while under `limit`; `false` when it is not.
async fn raise<C: ConnectionTrait>(
    db: &C,
    key: &str,
    day: chrono::NaiveDate,
    limit: u32,
) -> Result<bool, DbErr> {
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let used = Expr::col((recognition_quota::Entity, Column::Used));
    let raised = recognition_quota::Entity::insert(recognition_quota::ActiveModel {
        key: Set(key.to_owned()),
        day: Set(day),
        used: Set(1),
    })
    .on_conflict(
        OnConflict::columns([Column::Key, Column::Day])
            .value(Column::Used, used.clone().add(1))
            .action_and_where(used.lt(limit))
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(raised > 0)
}

async fn give_back<C: ConnectionTrait>(
    db: &C,
    key: &str,
    day: chrono::NaiveDate,
) -> Result<(), DbErr> {
    recognition_quota::Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).sub(1))
        .filter(Column::Key.eq(key))
        .filter(Column::Day.eq(day))
        .filter(Column::Used.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_subscriber_counts_as_one_network_and_a_mapped_ipv4_as_its_address() {
        let key = |s: &str| address_key(b"k", s.parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert!(!key("203.0.113.7").contains("203"));
        assert_ne!(
            address_key(
                b"k",
                "203.0.113.7".parse().unwrap_or_else(|e| panic!("{e}"))
            ),
            address_key(
                b"other",
                "203.0.113.7".parse().unwrap_or_else(|e| panic!("{e}"))
            )
        );
    }
}
