use std::net::TcpListener;

use actix_web::web;
use shared::config::Settings;
use shared::server::{Application, StartupError, bind, internal_service, local_port};

use crate::SERVICE_NAME;
use crate::state::AppState;

/// Connect, migrate if configured, bind and build the server; `run_until_stopped` runs it.
pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
    build_on(settings, bind(&settings.server.host, settings.server.port)?).await
}

/// The same on a listener bound beforehand (see `svc_drugs::startup::build_on`).
pub async fn build_on(
    settings: &Settings,
    listener: TcpListener,
) -> Result<Application, StartupError> {
    let db = shared::server::database(settings).await?;
    let state =
        AppState::new(settings, db.clone()).map_err(|e| StartupError::Other(e.to_string()))?;
    let port = local_port(&listener);
    let state = web::Data::new(state);
    let db = web::Data::new(db);
    let server = internal_service(SERVICE_NAME, settings, listener, &[], &[], move |cfg| {
        cfg.app_data(db.clone())
            .app_data(state.clone())
            .configure(crate::routes::configure);
    })?;
    Ok(Application::new(port, server))
}
