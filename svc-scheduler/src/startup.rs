use std::net::TcpListener;
use std::time::Duration;

use actix_web::web;
use shared::config::Settings;
use shared::server::{Application, StartupError, bind, internal_service, local_port};

use crate::SERVICE_NAME;
use crate::state::Ctx;

/// Connect, migrate if configured, bind and build the server; `run_until_stopped` runs it.
/// In long-running mode (not serverless, `scheduler.clock` on) a clock ticks every minute.
pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
    build_on(settings, bind(&settings.server.host, settings.server.port)?).await
}

/// The same on a listener bound beforehand (see `svc_drugs::startup::build_on`).
pub async fn build_on(
    settings: &Settings,
    listener: TcpListener,
) -> Result<Application, StartupError> {
    let db = shared::server::database(settings).await?;
    let ctx = Ctx::new(settings, db.clone()).map_err(|e| StartupError::Other(e.to_string()))?;
    let port = local_port(&listener);
    // Channels stored in plain text before sealing existed are sealed now, in the background.
    let sealing = ctx.clone();
    tokio::spawn(async move {
        match crate::notify::seal_plain_rows(&sealing).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "sealed channels stored in plain text"),
            Err(e) => tracing::warn!(error = %e, "sealing channels stored in plain text failed"),
        }
    });
    if settings.scheduler.clock && !settings.app.serverless {
        let clock = ctx.clone();
        tokio::spawn(async move { run_clock(clock).await });
    }
    let ctx = web::Data::new(ctx);
    let db = web::Data::new(db);
    let server = internal_service(
        SERVICE_NAME,
        settings,
        listener,
        crate::routes::OPEN_PATHS,
        crate::routes::UNTIMED_PATHS,
        move |cfg| {
            cfg.app_data(db.clone())
                .app_data(ctx.clone())
                .configure(crate::routes::configure);
        },
    )?;
    Ok(Application::new(port, server))
}

async fn run_clock(ctx: Ctx) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match crate::jobs::runner::tick(&ctx, "clock", chrono::Utc::now()).await {
            Ok(summary) => tracing::debug!(deliveries = ?summary.deliveries, "tick"),
            Err(e) => tracing::error!(error = %e, "tick failed"),
        }
    }
}
