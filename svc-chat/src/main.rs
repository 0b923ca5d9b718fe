use shared::config::Settings;

/// See `gateway/src/main.rs`: jemalloc for speed under musl and prompt return of large blocks;
/// here freed pages also go back at once (`svc_chat::alloc`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    svc_chat::alloc::return_freed_pages_promptly();
    shared::server::healthcheck_if_asked();
    shared::install_crypto_provider();
    let settings = Settings::load()?;
    let _telemetry = shared::telemetry::init(&settings, "svc-chat");
    let app = svc_chat::startup::build(&settings).await?;
    tracing::info!(port = app.port(), "svc-chat listening");
    app.run_until_stopped(shared::server::shutdown_signal())
        .await?;
    Ok(())
}
