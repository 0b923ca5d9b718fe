//! Access tokens die with their session. A token names its session (`sid`, the refresh-token
//! family); logout, a detected refresh-token reuse or an account's sessions being ended revoke
//! the family, and from then on its access tokens are refused: at once on the instance that
//! revoked it, within `auth.session_check_secs` on every other (each keeps what it last read
//! for that long, so a busy session costs one indexed lookup per interval, not per request).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::repo::refresh_tokens;

/// Sessions remembered at most; past this, entries older than the interval are dropped.
const REMEMBERED: usize = 50_000;

pub struct SessionCheck {
    ttl: Duration,
    seen: Mutex<HashMap<Uuid, (Instant, bool)>>,
}

impl SessionCheck {
    pub fn new(ttl_secs: u64) -> Self {
        Self {
            ttl: Duration::from_secs(ttl_secs),
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn remembered(&self, session: Uuid) -> Option<bool> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&session)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, live)| *live)
    }

    fn remember(&self, session: Uuid, live: bool) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= REMEMBERED {
            let ttl = self.ttl;
            seen.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        seen.insert(session, (Instant::now(), live));
    }

    /// Whether the session is still open (not revoked).
    pub async fn is_live(&self, db: &DatabaseConnection, session: Uuid) -> Result<bool, DbErr> {
        if let Some(live) = self.remembered(session) {
            return Ok(live);
        }
        let live = !refresh_tokens::family_revoked(db, session).await?;
        self.remember(session, live);
        Ok(live)
    }

    /// This instance revoked the session: refuse its tokens from now on.
    pub fn revoked(&self, session: Uuid) {
        self.remember(session, false);
    }
}
