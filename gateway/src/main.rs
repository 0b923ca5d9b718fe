use shared::config::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::server::healthcheck_if_asked();
    shared::install_crypto_provider();
    let settings = Settings::load()?;
    let _telemetry = shared::telemetry::init(&settings, "gateway");
    let app = gateway::startup::build(&settings).await?;
    tracing::info!(port = app.port(), "gateway listening");
    app.run_until_stopped(shared::server::shutdown_signal())
        .await?;
    Ok(())
}
