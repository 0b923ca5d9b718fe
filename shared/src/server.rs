//! Binding and running an actix server the same way in every service: an explicit listener
//! (port 0 in tests), our own shutdown future instead of actix's signal handling.

use std::future::Future;
use std::net::TcpListener;

use actix_web::dev::Server;

/// Bind `host:port`; port 0 picks a free port, which `local_port` then reports.
pub fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind((host, port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Refuses a listener on a non-loopback address while a secret this service signs or checks
/// with is the built-in development value: anyone who has read the source could forge its
/// tokens. The gateway checks both secrets, an internal service only the internal one.
pub fn check_secrets_for(
    settings: &crate::config::Settings,
    listener: &TcpListener,
) -> Result<(), StartupError> {
    check_secrets(settings, listener, true)
}

fn check_secrets(
    settings: &crate::config::Settings,
    listener: &TcpListener,
    user_tokens: bool,
) -> Result<(), StartupError> {
    use secrecy::ExposeSecret;
    let addr = listener.local_addr()?;
    if addr.ip().is_loopback() {
        return Ok(());
    }
    let dev = |s: &secrecy::SecretString| s.expose_secret() == crate::config::DEV_SECRET;
    let variable = if user_tokens && dev(&settings.auth.jwt_secret) {
        "JWT_SECRET_KEY (or APP__AUTH__JWT_SECRET)"
    } else if dev(&settings.auth.internal_secret) {
        "APP__AUTH__INTERNAL_SECRET"
    } else {
        return Ok(());
    };
    Err(StartupError::Other(format!(
        "refusing to listen on {addr} with the built-in development secret: anyone who has \
         read the source could forge tokens. Set {variable} to a random value of 32+ \
         characters, or listen on 127.0.0.1"
    )))
}

pub fn local_port(listener: &TcpListener) -> u16 {
    listener.local_addr().map(|a| a.port()).unwrap_or_default()
}

/// Worker threads: configured, or one per core (at most 4: instances are small).
pub fn workers(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    }
}

/// Run until the server stops on its own or `shutdown` resolves; then drain gracefully.
pub async fn run_until(server: Server, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let handle = server.handle();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = shutdown => {
            // The server future processes the stop command, so keep polling it meanwhile.
            let ((), result) = tokio::join!(handle.stop(true), &mut server);
            result
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what platforms send before reclaiming an instance).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The HTTP server of an internal service: request context and envelope, the internal-token
/// guard, lifecycle routes, the service's own routes, and a 404 envelope for the rest.
///
/// `open_paths` are served without an internal token, in addition to the lifecycle routes.
pub fn internal_service<F>(
    name: &'static str,
    settings: &crate::config::Settings,
    listener: TcpListener,
    open_paths: &'static [&'static str],
    untimed_paths: &'static [&'static str],
    configure: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
{
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpServer, web};
    use std::sync::Arc;

    use crate::internal_auth::{InternalGuard, InternalTokens, require_internal_token};

    check_secrets(settings, &listener, false).map_err(std::io::Error::other)?;

    let tokens = Arc::new(InternalTokens::new(
        &settings.auth.internal_secret,
        settings.auth.internal_token_ttl_secs,
    ));
    let guard = InternalGuard::new(tokens, name, open_paths);
    let (json, path, query) = crate::error::extractor_configs(settings.server.json_limit);
    let budget = crate::middleware::RequestBudget {
        limit: std::time::Duration::from_secs(settings.server.request_timeout_secs),
        untimed: untimed_paths,
    };
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(crate::middleware::deadline))
            .wrap(from_fn(require_internal_token))
            .wrap(from_fn(crate::middleware::request_context))
            .app_data(json.clone())
            .app_data(path.clone())
            .app_data(query.clone())
            .app_data(web::Data::new(guard.clone()))
            .app_data(budget)
            .configure(crate::lifecycle::configure)
            .configure(configure.clone())
            .default_service(web::to(crate::error::not_found))
    })
    // Replies are often small chunks (SSE deltas, JSON): no Nagle delay on them.
    .tcp_nodelay(true)
    // HTTP/1.1, or HTTP/2 with prior knowledge when the gateway is set to use it
    // (`services.h2c`); the connection's first bytes tell which.
    .listen_auto_h2c(listener)?
    .workers(workers(settings.server.workers))
    .disable_signals()
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("binding the listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// A built service, bound and ready to run: what `main` runs and what tests start on port 0.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn new(port: u16, server: Server) -> Self {
        Self { port, server }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        run_until(self.server, shutdown).await
    }
}

/// Connect to the database and, when configured, apply pending migrations first.
///
/// A cold start usually finds nothing pending: the check runs on the pool's own connection,
/// and only when something is pending (or the check cannot tell) does the locked migration
/// take its dedicated connection. Each new PostgreSQL connection costs a TLS handshake, so
/// this keeps a warm deploy's cold start to one.
pub async fn database(
    settings: &crate::config::Settings,
) -> Result<sea_orm::DatabaseConnection, StartupError> {
    use sea_orm_migration::MigratorTrait;
    let db = crate::db::connect(&settings.database).await?;
    if settings.database.migrate_on_start {
        let pending = match crate::migration::Migrator::get_pending_migrations(&db).await {
            Ok(list) => !list.is_empty(),
            Err(_) => true,
        };
        if pending {
            crate::db::migrate(&settings.database).await?;
        }
    }
    Ok(db)
}

/// `<binary> healthcheck`: GET `/healthz` on this instance's port and exit 0 on a 200, 1
/// otherwise. Container images are `FROM scratch` (no shell, no curl), so the compose health
/// check runs the binary itself. Returns normally when the first argument is not
/// `healthcheck`.
pub fn healthcheck_if_asked() {
    if std::env::args().nth(1).as_deref() != Some("healthcheck") {
        return;
    }
    let port = crate::config::Settings::load().map_or(8080, |s| s.server.port);
    let healthy = (|| -> std::io::Result<bool> {
        use std::io::{Read, Write};
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream =
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2))?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(3)))?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200"))
    })()
    .unwrap_or(false);
    std::process::exit(if healthy { 0 } else { 1 });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn the_built_in_secret_is_refused_off_loopback_only() {
        let mut settings = crate::config::Settings::load_from(None, &Default::default()).unwrap();
        let loopback = bind("127.0.0.1", 0).unwrap();
        assert!(check_secrets_for(&settings, &loopback).is_ok());
        let everywhere = bind("0.0.0.0", 0).unwrap();
        let err = check_secrets_for(&settings, &everywhere)
            .unwrap_err()
            .to_string();
        assert!(err.contains("JWT_SECRET_KEY"), "{err}");
        // An internal service checks the secret it uses.
        let err = check_secrets(&settings, &everywhere, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("APP__AUTH__INTERNAL_SECRET"), "{err}");
        settings.auth.jwt_secret = "j".repeat(40).into();
        settings.auth.internal_secret = "i".repeat(40).into();
        assert!(check_secrets_for(&settings, &everywhere).is_ok());
    }
}
