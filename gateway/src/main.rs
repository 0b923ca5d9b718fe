use shared::config::Settings;

/// jemalloc instead of the C library's allocator: the gateway allocates and frees small buffers
/// on every request, and the static musl builds that ship would otherwise use musl's slow
/// malloc. Allocations of 8 MiB and more (an argon2 hash takes 19 MiB) come from jemalloc's
/// oversize arena, which hands them back to the system when freed.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::server::healthcheck_if_asked();
    shared::install_crypto_provider();
    let settings = Settings::load()?;
    gateway::admin::run_if_asked(&settings).await;
    let _telemetry = shared::telemetry::init(&settings, "gateway");
    let app = gateway::startup::build(&settings).await?;
    tracing::info!(port = app.port(), "gateway listening");
    app.run_until_stopped(shared::server::shutdown_signal())
        .await?;
    Ok(())
}
