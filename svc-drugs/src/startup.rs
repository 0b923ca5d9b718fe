use std::net::TcpListener;

use actix_web::web;
use shared::config::Settings;
use shared::server::{Application, StartupError, bind, internal_service, local_port};

use crate::SERVICE_NAME;
use crate::state::AppState;
use crate::storage::Store;

/// Connect, migrate if configured, bind and build the server; `run_until_stopped` runs it.
pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
    build_on(settings, bind(&settings.server.host, settings.server.port)?).await
}

/// The same on a listener bound beforehand (the one-process stack binds every service first,
/// so each is built knowing the others' real addresses).
pub async fn build_on(
    settings: &Settings,
    listener: TcpListener,
) -> Result<Application, StartupError> {
    settings
        .check_storage_for_uploads()
        .map_err(|e| StartupError::Other(e.to_string()))?;
    // The interaction table is part of the build: a broken one stops the start.
    crate::safety::Table::get()
        .map_err(|e| StartupError::Other(format!("interaction table: {e}")))?;
    let db = shared::server::database(settings).await?;
    let store =
        Store::from_settings(&settings.storage).map_err(|e| StartupError::Other(e.to_string()))?;
    let port = local_port(&listener);
    let state = web::Data::new(
        AppState::new(settings, db.clone(), store)
            .map_err(|e| StartupError::Other(e.to_string()))?,
    );
    let db = web::Data::new(db);
    let server = internal_service(SERVICE_NAME, settings, listener, &[], &[], move |cfg| {
        cfg.app_data(db.clone())
            .app_data(state.clone())
            .configure(crate::routes::configure);
    })?;
    Ok(Application::new(port, server))
}
