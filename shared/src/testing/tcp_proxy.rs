//! A TCP proxy a test puts between a service and PostgreSQL, to take the database away in
//! the ways networks do:
//! - [`TcpProxy::cut`]: every open connection is closed at once and new ones are refused until
//!   [`TcpProxy::restore`];
//! - [`TcpProxy::stall`]: connections stay open but no byte moves either way (new ones too)
//!   until [`TcpProxy::resume`], which delivers what was held;
//! - [`TcpProxy::cut_on`] / [`TcpProxy::stall_on`]: the same, the moment the client sends bytes
//!   containing a pattern (an SQL statement's text, which PostgreSQL's protocol carries as
//!   is, on a connection without TLS: `sslmode=disable`), so a test can take the database
//!   away in the middle of a transaction.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    Cut,
    Stall,
}

struct Shared {
    down: AtomicBool,
    stalled: watch::Sender<bool>,
    trip: Mutex<Option<(Vec<u8>, Trip)>>,
    links: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for link in self
            .links
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            link.abort();
        }
    }

    /// The trip set for bytes containing its pattern, taken (it fires once).
    fn tripped(&self, bytes: &[u8]) -> Option<Trip> {
        let mut trip = self.trip.lock().unwrap_or_else(|p| p.into_inner());
        let hit = trip.as_ref().is_some_and(|(pattern, _)| {
            !pattern.is_empty()
                && bytes
                    .windows(pattern.len())
                    .any(|w| w == pattern.as_slice())
        });
        if hit {
            trip.take().map(|(_, t)| t)
        } else {
            None
        }
    }
}

pub struct TcpProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    /// Listen on a free loopback port and forward every connection to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            down: AtomicBool::new(false),
            stalled: watch::channel(false).0,
            trip: Mutex::new(None),
            links: Mutex::default(),
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if s.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let up = tokio::spawn(pump(client_read, server_write, s.clone(), true));
                let down = tokio::spawn(pump(server_read, client_write, s.clone(), false));
                s.links
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend([up, down]);
            }
        });
        Ok(Self {
            addr,
            shared,
            accept,
        })
    }

    /// A proxy to the PostgreSQL server of `TEST_DATABASE_URL`; None when tests run on
    /// SQLite (the faults these proxies make are PostgreSQL's).
    pub async fn to_test_postgres() -> Option<Self> {
        let admin = std::env::var(super::TEST_DATABASE_URL)
            .ok()
            .filter(|u| u.starts_with("postgres"))?;
        let url = reqwest::Url::parse(&admin).ok()?;
        let host = url.host_str()?;
        let target = tokio::net::lookup_host((host, url.port().unwrap_or(5432)))
            .await
            .ok()?
            .next()?;
        Self::start(target).await.ok()
    }

    /// Send `settings`' database connections through this proxy, in clear (`sslmode=disable`)
    /// so that [`TcpProxy::cut_on`] and [`TcpProxy::stall_on`] can read the statements.
    pub fn route(&self, settings: &mut crate::config::Settings) {
        use secrecy::ExposeSecret;
        let Ok(mut url) = reqwest::Url::parse(settings.database.url.expose_secret()) else {
            return;
        };
        if url.set_ip_host(self.addr.ip()).is_err() || url.set_port(Some(self.addr.port())).is_err()
        {
            return;
        }
        url.query_pairs_mut().append_pair("sslmode", "disable");
        settings.database.url = url.to_string().into();
        settings.database.acquire_timeout_secs = 2;
        settings.database.connect_timeout_secs = 2;
    }

    /// The database is gone: open connections are closed, new ones refused.
    pub fn cut(&self) {
        self.shared.cut();
    }

    /// The database is back.
    pub fn restore(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// Nothing moves, on open connections and new ones, until [`TcpProxy::resume`].
    pub fn stall(&self) {
        self.shared.stalled.send_replace(true);
    }

    /// Whether bytes are held now (by [`TcpProxy::stall`] or a tripped [`TcpProxy::stall_on`]).
    pub fn is_stalled(&self) -> bool {
        *self.shared.stalled.borrow()
    }

    /// Bytes move again, what was held first.
    pub fn resume(&self) {
        self.shared.stalled.send_replace(false);
    }

    /// Cut everything the moment a client sends bytes containing `pattern` (those bytes are
    /// not delivered).
    pub fn cut_on(&self, pattern: &str) {
        *self.shared.trip.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((pattern.as_bytes().to_vec(), Trip::Cut));
    }

    /// Stall everything the moment a client sends bytes containing `pattern` (held, with all
    /// that follows, until [`TcpProxy::resume`]).
    pub fn stall_on(&self, pattern: &str) {
        *self.shared.trip.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((pattern.as_bytes().to_vec(), Trip::Stall));
    }
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    shared: Arc<Shared>,
    client_side: bool,
) {
    let mut stalled = shared.stalled.subscribe();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if client_side {
            match shared.tripped(&buf[..n]) {
                Some(Trip::Cut) => {
                    shared.cut();
                    break;
                }
                Some(Trip::Stall) => {
                    shared.stalled.send_replace(true);
                }
                None => {}
            }
        }
        if stalled.wait_for(|s| !*s).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.cut();
        self.accept.abort();
    }
}
