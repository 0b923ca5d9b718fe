//! Test support shared by every crate's tests: a fresh database per test.
//!
//! `TEST_DATABASE_URL` unset: a new SQLite file in a temporary directory.
//! `TEST_DATABASE_URL=postgres://...`: a new PostgreSQL database per test, cloned from a
//! template that is migrated once per migration set (under an advisory lock, so parallel
//! test binaries agree).

pub mod load;
pub mod shape;
pub mod tcp_proxy;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};
use sea_orm_migration::MigratorTrait;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::config::{DatabaseSettings, Settings};
use crate::migration::Migrator;

pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A migrated, empty database that no other test uses.
pub struct TestDatabase {
    pub url: String,
    pub backend: DbBackend,
}

impl TestDatabase {
    pub async fn create() -> Result<Self, DbErr> {
        match std::env::var(TEST_DATABASE_URL)
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin) => postgres(&admin).await,
            None => sqlite().await,
        }
    }

    /// Settings with this database and local defaults everything else.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::load_from(None, &Default::default())
            .unwrap_or_else(|e| panic!("default settings: {e}"));
        settings.database = self.database_settings();
        settings.server.host = "127.0.0.1".into();
        settings.server.port = 0;
        settings.server.workers = 1;
        // Tests' webhook receivers listen on loopback; the SSRF tests turn this off again.
        settings.scheduler.webhook_allow_private = true;
        // A check-in is due at the users' own hours of the day: off unless a test is about it.
        settings.scheduler.checkins = false;
        settings
    }

    pub fn database_settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from(self.url.clone()),
            max_connections: 5,
            min_connections: 0,
            connect_timeout_secs: 5,
            acquire_timeout_secs: 10,
            migrate_on_start: false,
        }
    }

    pub async fn connect(&self) -> Result<DatabaseConnection, DbErr> {
        crate::db::connect(&self.database_settings()).await
    }
}

async fn sqlite() -> Result<TestDatabase, DbErr> {
    let dir = std::env::temp_dir().join("unilife-tests");
    std::fs::create_dir_all(&dir).map_err(|e| DbErr::Custom(e.to_string()))?;
    let path = dir.join(format!("{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = TestDatabase {
        url,
        backend: DbBackend::Sqlite,
    };
    let conn = db.connect().await?;
    Migrator::up(&conn, None).await?;
    conn.close().await?;
    Ok(db)
}

fn migration_fingerprint() -> String {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    hex::encode(&Sha256::digest(names.join(",").as_bytes())[..6])
}

fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

async fn postgres(admin_url: &str) -> Result<TestDatabase, DbErr> {
    let template = format!("unilife_tpl_{}", migration_fingerprint());
    // One connection: the advisory lock below is a session's, and a pool could take it on
    // one connection and release it on another.
    let mut options = sea_orm::ConnectOptions::new(admin_url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    let admin = Database::connect(options).await?;
    let exec = |sql: String| Statement::from_string(DbBackend::Postgres, sql);
    admin
        .execute_raw(exec("SELECT pg_advisory_lock(4242)".into()))
        .await?;
    let exists = admin
        .query_one_raw(exec(format!(
            "SELECT 1 AS one FROM pg_database WHERE datname = '{template}'"
        )))
        .await?
        .is_some();
    let prepared = async {
        if !exists {
            admin
                .execute_raw(exec(format!("CREATE DATABASE {template}")))
                .await?;
            let tpl = Database::connect(with_database(admin_url, &template)).await?;
            let migrated = Migrator::up(&tpl, None).await;
            tpl.close().await?;
            if let Err(e) = migrated {
                admin
                    .execute_raw(exec(format!("DROP DATABASE {template}")))
                    .await?;
                return Err(e);
            }
        }
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_raw(exec(format!("CREATE DATABASE {name} TEMPLATE {template}")))
            .await?;
        Ok::<_, DbErr>(name)
    }
    .await;
    admin
        .execute_raw(exec("SELECT pg_advisory_unlock(4242)".into()))
        .await?;
    admin.close().await?;
    let name = prepared?;
    Ok(TestDatabase {
        url: with_database(admin_url, &name),
        backend: DbBackend::Postgres,
    })
}

/// A user row as the gateway would write it (the gateway owns `users`; the other services'
/// tests write it directly). Returns the account id.
pub async fn insert_user(db: &DatabaseConnection, timezone: &str) -> Result<uuid::Uuid, DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    let id = uuid::Uuid::now_v7();
    let now = chrono::Utc::now();
    crate::entities::user::ActiveModel {
        id: Set(id),
        login: Set(format!("u{}", id.simple())),
        email: Set(None),
        password_hash: Set("!".into()),
        nickname: Set(None),
        timezone: Set(timezone.into()),
        avatar_url: Set(None),
        preferences: Set(serde_json::json!({})),
        is_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        last_active_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// A user's chat message at `at`, in a conversation of its own (svc-chat's tables).
pub async fn insert_user_message(
    db: &DatabaseConnection,
    user: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    text: &str,
) -> Result<(), DbErr> {
    use crate::entities::{conversation, message};
    use sea_orm::{ActiveModelTrait, Set};
    let conv = uuid::Uuid::now_v7();
    conversation::ActiveModel {
        id: Set(conv),
        user_id: Set(user),
        title: Set("t".into()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await?;
    message::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        conversation_id: Set(conv),
        user_id: Set(user),
        role: Set("user".into()),
        content: Set(text.into()),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A throwaway certificate authority and a server certificate it signed for `127.0.0.1` and
/// `localhost`: for tests that speak TLS to a fake peer, such as a model endpoint behind a
/// private CA (`llm_chat.ca_file`).
pub struct TestTls {
    /// The authority's certificate, PEM: what the client is told to trust.
    pub ca_pem: String,
    /// A server configuration that presents the signed certificate (ALPN is left to the
    /// server that uses it; actix offers `h2` and `http/1.1`).
    pub server: rustls::ServerConfig,
}

impl TestTls {
    pub fn new() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "medicine-cabinet test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
        let leaf_key = KeyPair::generate()?;
        let mut leaf =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        leaf.distinguished_name
            .push(DnType::CommonName, "fake model");
        let leaf = leaf.signed_by(&leaf_key, &ca)?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let server = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)?;
        Ok(Self {
            ca_pem: ca.pem(),
            server,
        })
    }

    /// Write the authority's certificate to a new file in the temporary directory.
    pub fn write_ca_file(&self) -> std::io::Result<std::path::PathBuf> {
        let path = std::env::temp_dir().join(format!("test-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, &self.ca_pem)?;
        Ok(path)
    }
}

/// A fake OpenAI-compatible model over HTTPS with a certificate from a throwaway CA (HTTP/2
/// or HTTP/1.1, as the client's ALPN offers): every POST is answered with `tokens` streamed
/// deltas (`t0 `, `t1 `, …) `gap_ms` apart, then `[DONE]`.
pub struct TlsModel {
    /// `https://127.0.0.1:<port>`
    pub url: String,
    /// The CA's certificate, to give the client as `llm_chat.ca_file`.
    pub ca_file: std::path::PathBuf,
    /// The gap between tokens, changeable while the model runs.
    pub gap_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// (HTTP version, client address) of every request, in arrival order.
    pub requests:
        std::sync::Arc<std::sync::Mutex<Vec<(actix_web::http::Version, std::net::SocketAddr)>>>,
    handle: actix_web::dev::ServerHandle,
}

impl TlsModel {
    /// Start it on a free port (in a Tokio runtime).
    pub fn start(
        tokens: usize,
        gap_ms: u64,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::{Arc, Mutex};

        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

        let tls = TestTls::new()?;
        let ca_file = tls.write_ca_file()?;
        let gap = Arc::new(AtomicU64::new(gap_ms));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("https://{}", listener.local_addr()?);
        let (g, r) = (gap.clone(), requests.clone());
        let server = HttpServer::new(move || {
            let (gap, requests) = (g.clone(), r.clone());
            App::new().default_service(web::to(move |req: HttpRequest| {
                let gap = gap.clone();
                if let Some(peer) = req.peer_addr() {
                    requests
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((req.version(), peer));
                }
                async move {
                    let body = futures_util::stream::unfold(0, move |i| {
                        let gap = gap.clone();
                        async move {
                            if i > tokens {
                                return None;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(
                                gap.load(Ordering::Relaxed),
                            ))
                            .await;
                            let event = if i == tokens {
                                "data: [DONE]\n\n".to_owned()
                            } else {
                                format!(
                                    "data: {}\n\n",
                                    serde_json::json!({"choices": [{"index": 0, "delta": {"content": format!("t{i} ")}}]})
                                )
                            };
                            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(event)), i + 1))
                        }
                    });
                    HttpResponse::Ok()
                        .content_type("text/event-stream")
                        .streaming(body)
                }
            }))
        })
        .workers(1)
        // Without it, the first token waits for the client's delayed ACK of the head.
        .tcp_nodelay(true)
        .disable_signals()
        .listen_rustls_0_23(listener, tls.server)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            url,
            ca_file,
            gap_ms: gap,
            requests,
            handle,
        })
    }

    /// How many requests came, over how many distinct connections, and whether all spoke
    /// HTTP/2.
    pub fn seen(&self) -> (usize, usize, bool) {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let peers: std::collections::HashSet<_> = requests.iter().map(|(_, p)| *p).collect();
        let all_h2 = requests
            .iter()
            .all(|(v, _)| *v == actix_web::http::Version::HTTP_2);
        (requests.len(), peers.len(), all_h2)
    }
}

impl Drop for TlsModel {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
        drop(self.handle.stop(false));
    }
}

/// A chat model's streamed answer (OpenAI-compatible SSE) that writes `parts` as text.
pub fn sse_text(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": p}}]});
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    let stop = serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    out.push_str(&format!("data: {stop}\n\n"));
    out.push_str("data: [DONE]\n\n");
    out
}

/// A chat model's streamed answer that calls one tool, its arguments split over two chunks
/// (as vendors send them), after some `reasoning_content` that must never be sent back.
pub fn sse_tool_call(name: &str, args: &serde_json::Value) -> String {
    let args = args.to_string();
    let mut mid = args.len() / 2;
    while !args.is_char_boundary(mid) {
        mid -= 1;
    }
    let (a, b) = args.split_at(mid);
    let chunks = [
        serde_json::json!({"choices": [{"index": 0, "delta": {"reasoning_content": "let me think"}}]}),
        serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": a}}]}}]}),
        serde_json::json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": b}}]}}]}),
    ];
    let mut out = String::new();
    for chunk in chunks {
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out
}

/// A fake OpenAI-compatible model over raw HTTP/1.1 (chunked SSE, `TCP_NODELAY`): every
/// request is answered with `tokens` deltas (`t0 `, `t1 `, …), each followed by a pause of
/// `gap_ms` (changeable while it runs), then `[DONE]`. It counts what it sent and notices a
/// client that went away, so tests can tell whether an answer was cut off.
#[derive(Clone)]
pub struct RawModel {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    pub gap_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Deltas written, over all answers.
    pub sent: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// An answer was written to its end.
    pub completed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// A write failed: the client had gone.
    pub aborted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl RawModel {
    /// Start it on a free port (in a Tokio runtime).
    pub async fn start(tokens: usize, gap_ms: u64) -> std::io::Result<Self> {
        use std::sync::atomic::Ordering;

        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let model = Self {
            url: format!("http://{}", listener.local_addr()?),
            gap_ms: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(gap_ms)),
            sent: std::sync::Arc::default(),
            completed: std::sync::Arc::default(),
            aborted: std::sync::Arc::default(),
        };
        let shared = model.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let _ = sock.set_nodelay(true);
                let m = shared.clone();
                tokio::spawn(async move {
                    // The request head and its body (Content-Length).
                    let mut buf = vec![0u8; 65536];
                    let mut got = Vec::new();
                    loop {
                        let n = sock.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        if request_complete(&got) {
                            break;
                        }
                    }
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for i in 0..tokens {
                        // Multi-byte characters in every delta: ids count bytes, not characters.
                        let event = format!(
                            "data: {}\n\n",
                            serde_json::json!({"choices": [{"index": 0, "delta": {"content": format!("t{i}·药 ")}}]})
                        );
                        let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                        if sock.write_all(chunk.as_bytes()).await.is_err()
                            || sock.flush().await.is_err()
                        {
                            m.aborted.store(true, Ordering::SeqCst);
                            return;
                        }
                        m.sent.fetch_add(1, Ordering::SeqCst);
                        let gap = m.gap_ms.load(Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(gap)).await;
                    }
                    let done = "data: [DONE]\n\n";
                    let end = format!("{:x}\r\n{done}\r\n0\r\n\r\n", done.len());
                    if sock.write_all(end.as_bytes()).await.is_ok() {
                        m.completed.store(true, Ordering::SeqCst);
                    }
                });
            }
        });
        Ok(model)
    }
}

/// Whether `got` holds a whole HTTP/1.1 request: the head and `Content-Length` bytes of body.
fn request_complete(got: &[u8]) -> bool {
    request_head(got).is_some_and(|(body_at, length)| got.len() >= body_at + length)
}

/// Where an HTTP/1.1 request's body starts in `got` and its `Content-Length` (0 without one),
/// once the head has arrived: for fake servers that read requests off a raw socket.
pub fn request_head(got: &[u8]) -> Option<(usize, usize)> {
    let text = String::from_utf8_lossy(got);
    let end = text.find("\r\n\r\n")?;
    let length = text[..end]
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    Some((end + 4, length))
}

/// A loopback port free just now, for a process the test starts and tells its port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}
