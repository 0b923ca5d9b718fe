//! Which public path goes to which service, with what deadline and what access: a table of
//! path prefixes, longest first. Built once from the settings; the proxy looks requests up
//! in it.

use std::time::Duration;

use shared::config::Settings;
use shared::internal_client::Peer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A user's access token is required; the call is made for that user.
    User,
    /// Legacy drug-serve routes: no token, acting as the reserved legacy account.
    Legacy,
    /// No token and no user: the service's own key decides (the calendar feed's address).
    /// Only GET and HEAD pass.
    Public,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub prefix: String,
    pub peer: Peer,
    pub timeout: Duration,
    pub access: Access,
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Route `prefix` to `peer`; a prefix added again replaces the earlier entry (the chat
    /// prefix gets the long streaming timeout this way).
    pub fn add(&mut self, prefix: &str, peer: &Peer, timeout: Duration, access: Access) {
        self.routes.retain(|r| r.prefix != prefix);
        self.routes.push(Route {
            prefix: prefix.to_owned(),
            peer: peer.clone(),
            timeout,
            access,
        });
        // Longest prefix first, so `/api/v1/drugs/recognize` beats `/api/v1/drugs`.
        self.routes
            .sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
    }

    pub fn find(&self, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| {
            path.strip_prefix(r.prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

/// Public prefixes and the service behind each.
const DRUGS_PREFIXES: &[&str] = &[
    "/api/v1/drugs",
    "/api/v1/medications",
    "/api/v1/doses",
    "/api/v1/export",
    "/api/v1/households",
];
const CHAT_PREFIXES: &[&str] = &[
    "/api/v1/chat",
    "/api/v1/conversations",
    "/api/v1/events",
    "/api/v1/habits",
    "/api/v1/projects",
    "/api/v1/snapshots",
    "/api/v1/diaries",
    "/api/v1/users/me/profile",
    "/api/v1/sync",
    "/api/v1/messages",
    "/api/v1/users/me/stats",
    "/api/v1/users/me/onboarding-status",
    "/api/v1/users/me/ai-identity",
    "/api/v1/calendar",
    "/api/v1/memory",
];
const SCHEDULER_PREFIXES: &[&str] = &[
    "/api/v1/notifications",
    "/api/v1/devices",
    "/api/v1/jobs",
    "/api/v1/users/me/notification-settings",
];
/// The calendar feed (`/ical/{token}.ics`): calendar apps poll it without a token.
pub const FEED_PREFIX: &str = "/ical";
const LEGACY_PREFIXES: &[&str] = &["/api/drugs", "/uploads"];

pub fn route_table(settings: &Settings) -> RouteTable {
    let s = &settings.services;
    let default = Duration::from_secs(s.default_timeout_secs);
    let upload = Duration::from_secs(s.upload_timeout_secs);
    let drugs = Peer::new("drugs", &s.drugs);
    let chat = Peer::new("chat", &s.chat);
    let scheduler = Peer::new("scheduler", &s.scheduler);
    let mut table = RouteTable::default();
    for p in DRUGS_PREFIXES {
        table.add(p, &drugs, default, Access::User);
    }
    // Recognition waits for the vision model.
    table.add("/api/v1/drugs/recognize", &drugs, upload, Access::User);
    table.add("/api/v1/drugs/recognitions", &drugs, upload, Access::User);
    for p in CHAT_PREFIXES {
        table.add(p, &chat, default, Access::User);
    }
    // Chat replies stream for as long as the model writes.
    table.add(
        "/api/v1/chat",
        &chat,
        Duration::from_secs(s.stream_timeout_secs),
        Access::User,
    );
    for p in SCHEDULER_PREFIXES {
        table.add(p, &scheduler, default, Access::User);
    }
    table.add(FEED_PREFIX, &chat, default, Access::Public);
    if settings.legacy.enabled {
        for p in LEGACY_PREFIXES {
            table.add(p, &drugs, upload, Access::Legacy);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn the_longest_matching_prefix_wins_and_boundaries_are_respected() {
        let drugs = Peer::new("drugs", "http://d");
        let chat = Peer::new("chat", "http://c");
        let mut table = RouteTable::default();
        table.add(
            "/api/v1/drugs",
            &drugs,
            Duration::from_secs(1),
            Access::User,
        );
        table.add(
            "/api/v1/drugs/recognize",
            &drugs,
            Duration::from_secs(9),
            Access::User,
        );
        table.add("/api/v1/chat", &chat, Duration::from_secs(5), Access::User);
        table.add(
            "/api/v1/chat",
            &chat,
            Duration::from_secs(600),
            Access::User,
        );
        assert_eq!(
            table.find("/api/v1/chat").unwrap().timeout,
            Duration::from_secs(600),
            "a prefix added again replaces the first entry"
        );
        assert_eq!(table.routes().len(), 3);
        assert_eq!(
            table.find("/api/v1/drugs/recognize").unwrap().timeout,
            Duration::from_secs(9)
        );
        assert_eq!(
            table.find("/api/v1/drugs/42").unwrap().timeout,
            Duration::from_secs(1)
        );
        assert_eq!(table.find("/api/v1/drugs").unwrap().peer.name, "drugs");
        assert!(table.find("/api/v1/drugsx").is_none());
        assert!(table.find("/api/v1/chatty").is_none());
        assert!(table.find("/api/v2/drugs").is_none());
    }
}
