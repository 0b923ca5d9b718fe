use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, http, web};
use sea_orm::DatabaseConnection;
use shared::config::Settings;
use shared::internal_auth::InternalTokens;
use shared::internal_client::{InternalClient, Peer};
use shared::server::{Application, StartupError, bind, local_port, workers};

use crate::auth::JwtKeys;
use crate::auth::apple::AppleVerifier;
use crate::auth::legacy::LegacyAccount;
use crate::auth::revocation::SessionCheck;
use crate::rate_limit::{Limits, spawn_pruner};
use crate::routing::route_table;
use crate::state::AppState;
use crate::upstream::UpstreamClient;

pub const SERVICE_NAME: &str = "gateway";

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers(vec![
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::header::ACCEPT,
            http::header::HeaderName::from_static("x-person-id"),
        ])
        .expose_headers(vec!["x-request-id", "retry-after"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}

/// The internal client of one worker: the internal token, trace and request-id headers of
/// every proxied request, and the health probes. Each actix worker runs its own
/// single-threaded runtime, and a pooled connection is driven by the runtime that opened it.
fn internal_client(
    tokens: Arc<InternalTokens>,
    roots: &[reqwest::Certificate],
) -> Result<InternalClient, StartupError> {
    // No client-wide timeout: the health probes set their own (proxied requests go through
    // `upstream_client`, with the route's deadline).
    InternalClient::new(tokens, SERVICE_NAME, Duration::from_secs(3600), roots)
        .map_err(|e| StartupError::Other(format!("http client: {e}")))
}

/// The proxy hop's client of one worker, for the same reason as `internal_client`.
fn upstream_client(
    h2c: bool,
    roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<UpstreamClient, StartupError> {
    UpstreamClient::new(h2c, roots.to_vec())
        .map_err(|e| StartupError::Other(format!("upstream client: {e}")))
}

pub fn state(settings: &Settings, db: DatabaseConnection) -> Result<AppState, StartupError> {
    let s = &settings.services;
    let apple = AppleVerifier::new(&settings.apple)
        .map_err(|e| StartupError::Other(format!("Apple key client: {e}")))?;
    Ok(AppState {
        db,
        jwt: JwtKeys::new(
            &settings.auth.jwt_secret,
            &settings.auth.jwt_algorithm,
            settings.auth.jwt_expire_minutes,
            settings.auth.refresh_expire_days,
        ),
        sessions: SessionCheck::new(settings.auth.session_check_secs),
        limits: Arc::new(Limits::new(&settings.rate_limit)),
        routes: route_table(settings),
        peers: vec![
            ("drugs", Peer::new("drugs", &s.drugs)),
            ("chat", Peer::new("chat", &s.chat)),
            ("scheduler", Peer::new("scheduler", &s.scheduler)),
        ],
        trust_forwarded_for: settings.rate_limit.trust_forwarded_for,
        public_url: settings
            .server
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_owned()),
        legacy: settings.legacy.enabled.then(LegacyAccount::default),
        max_body_bytes: (settings.storage.max_file_size as u64) * 5 + 1024 * 1024,
        apple,
        passwordless_login: settings.compat.passwordless_login,
        apple_web: settings
            .apple
            .web()
            .map(|(id, url)| (id.to_owned(), url.to_owned())),
    })
}

/// Refuse what the sign-in settings forbid (also checked when they load; settings built in
/// code reach here without that), and say loudly what is on.
fn check_sign_in(settings: &Settings) -> Result<(), StartupError> {
    settings
        .check_sign_in()
        .map_err(|e| StartupError::Other(e.to_string()))?;
    if settings.compat.passwordless_login {
        tracing::warn!(
            "compat.passwordless_login is ON: anyone who knows the user_id of an account \
             without a password or Apple link signs in as it, without any proof"
        );
    }
    if settings.apple.audiences().is_empty() {
        tracing::info!("Sign in with Apple is off (no apple.bundle_ids)");
    }
    Ok(())
}

pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
    build_on(settings, bind(&settings.server.host, settings.server.port)?).await
}

/// The same on a listener bound beforehand (the one-process stack binds every listener
/// first, then builds each service knowing the others' real addresses).
pub async fn build_on(
    settings: &Settings,
    listener: TcpListener,
) -> Result<Application, StartupError> {
    shared::server::check_secrets_for(settings, &listener)?;
    check_sign_in(settings)?;
    if settings.legacy.account.is_some() {
        tracing::warn!(
            "legacy.account is no longer used and is ignored: the legacy routes act as a \
             reserved account (the one the system made before moved there on upgrade)"
        );
    }
    if settings.legacy.enabled {
        tracing::warn!(
            "legacy drug-serve routes are ON (/api/drugs, /uploads): anyone who can reach \
             this gateway acts as the one shared drug-serve account, without signing in"
        );
    }
    let db = shared::server::database(settings).await?;
    let db_probe = web::Data::new(db.clone());
    let state = web::Data::new(state(settings, db)?);
    // Proxied requests are logged and traced under their route's prefix, not as "unmatched".
    let routes = state.routes.clone();
    let namer = shared::middleware::RouteNamer(Arc::new(move |path: &str| {
        routes.find(path).map(|r| {
            if path == r.prefix {
                r.prefix.clone()
            } else {
                format!("{}/*", r.prefix)
            }
        })
    }));
    spawn_pruner(state.limits.clone());
    let port = local_port(&listener);
    let (json, path, query) = shared::error::extractor_configs(settings.server.json_limit);
    let origins = settings.cors.allowed_origins.clone();
    let tokens = Arc::new(InternalTokens::new(
        &settings.auth.internal_secret,
        settings.auth.internal_token_ttl_secs,
    ));
    // `services.ca_file`, read once: trusted by the proxy hop and the health probes alike.
    let bad = |e: shared::config::ConfigError| StartupError::Other(e.to_string());
    let roots = shared::certs::services_ca(&settings.services).map_err(bad)?;
    let reqwest_roots = shared::certs::for_reqwest(&roots, "services.ca_file").map_err(bad)?;
    // Fail here, before serving, if a client cannot be built at all.
    internal_client(tokens.clone(), &reqwest_roots)?;
    let h2c = settings.services.h2c;
    upstream_client(h2c, &roots)?;
    let server = HttpServer::new(move || {
        #[expect(
            clippy::expect_used,
            reason = "the same construction succeeded just above"
        )]
        let internal = web::Data::new(
            internal_client(tokens.clone(), &reqwest_roots).expect("internal client"),
        );
        #[expect(
            clippy::expect_used,
            reason = "the same construction succeeded just above"
        )]
        let upstream = web::Data::new(upstream_client(h2c, &roots).expect("upstream client"));
        App::new()
            .app_data(internal)
            .app_data(upstream)
            .app_data(db_probe.clone())
            .wrap(cors(&origins))
            // Photos and every other answer are taken as the type they are sent with.
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("x-content-type-options", "nosniff")),
            )
            .wrap(from_fn(shared::middleware::request_context))
            .app_data(state.clone())
            .app_data(namer.clone())
            .app_data(json.clone())
            .app_data(path.clone())
            .app_data(query.clone())
            .configure(shared::lifecycle::configure)
            .configure(crate::routes::configure)
            .default_service(web::to(crate::proxy::forward))
    })
    // Relayed chunks (SSE deltas) go out as they come: no Nagle delay.
    .tcp_nodelay(true)
    .listen(listener)?
    .workers(workers(settings.server.workers))
    .disable_signals()
    .shutdown_timeout(10)
    .run();
    Ok(Application::new(port, server))
}
