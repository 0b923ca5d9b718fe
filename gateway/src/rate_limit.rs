//! Rate limits (GCRA, in memory per instance): login/register per client address and per
//! account name against brute force, one budget per user over all routes, and the same
//! budget per client address on the legacy routes (which act for one shared account).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::ApiError;
use shared::config::RateLimitSettings;
use uuid::Uuid;

pub struct Limits {
    enabled: bool,
    auth_ip: DefaultKeyedRateLimiter<IpAddr>,
    auth_account: DefaultKeyedRateLimiter<String>,
    user: DefaultKeyedRateLimiter<Uuid>,
    legacy_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            enabled: settings.enabled,
            auth_ip: RateLimiter::keyed(per_minute(settings.auth_per_ip_per_minute)),
            auth_account: RateLimiter::keyed(per_minute(settings.auth_per_account_per_minute)),
            user: RateLimiter::keyed(per_minute(settings.user_per_minute)),
            legacy_ip: RateLimiter::keyed(per_minute(settings.user_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    fn verdict<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), ApiError> {
        if !self.enabled {
            return Ok(());
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::too_many_requests(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        })
    }

    pub fn check_auth_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.verdict(&self.auth_ip, &ip)
    }

    pub fn check_auth_account(&self, account: &str) -> Result<(), ApiError> {
        self.verdict(&self.auth_account, &account.to_lowercase())
    }

    pub fn check_user(&self, user: Uuid) -> Result<(), ApiError> {
        self.verdict(&self.user, &user)
    }

    pub fn check_legacy_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.verdict(&self.legacy_ip, &ip)
    }

    /// Forget keys whose budget has fully refilled, so the maps stay small.
    pub fn prune(&self) {
        self.auth_ip.retain_recent();
        self.auth_account.retain_recent();
        self.user.retain_recent();
        self.legacy_ip.retain_recent();
    }
}

/// Prune the limiters once a minute for as long as the returned task lives.
pub fn spawn_pruner(limits: std::sync::Arc<Limits>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.prune();
        }
    })
}
