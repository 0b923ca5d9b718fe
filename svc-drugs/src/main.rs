use shared::config::Settings;

/// jemalloc instead of the C library's allocator (musl's in the static builds that ship):
/// every request allocates and frees many small buffers (rows, JSON).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::server::healthcheck_if_asked();
    shared::install_crypto_provider();
    let settings = Settings::load()?;
    let _telemetry = shared::telemetry::init(&settings, "svc-drugs");
    let app = svc_drugs::startup::build(&settings).await?;
    tracing::info!(port = app.port(), "svc-drugs listening");
    app.run_until_stopped(shared::server::shutdown_signal())
        .await?;
    Ok(())
}
