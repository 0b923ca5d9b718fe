use clap::Parser;
use shared::config::Settings;
use svc_scheduler::cli::{Cli, Command};

/// jemalloc instead of the C library's allocator (musl's in the static builds that ship):
/// every request allocates and frees many small buffers (rows, JSON).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::server::healthcheck_if_asked();
    shared::install_crypto_provider();
    let cli = Cli::parse();
    if let Some(Command::VapidKeys) = cli.command {
        let (private, public) = svc_scheduler::webpush::generate();
        println!(
            "APP__SCHEDULER__VAPID_PRIVATE_KEY={private}\n# public key (browsers get it from GET /api/v1/devices/webpush-key): {public}"
        );
        return Ok(());
    }
    let settings = Settings::load()?;
    let _telemetry = shared::telemetry::init(&settings, "svc-scheduler");
    // In an SCF custom-runtime event function the platform gives the runtime API address.
    let command = match cli.command {
        None if svc_scheduler::scf_runtime::runtime_api_from_env().is_some() => {
            Some(Command::ScfRuntime)
        }
        other => other,
    };
    match command {
        None | Some(Command::Serve) => {
            let app = svc_scheduler::startup::build(&settings).await?;
            tracing::info!(port = app.port(), "svc-scheduler listening");
            app.run_until_stopped(shared::server::shutdown_signal())
                .await?;
        }
        Some(command) => svc_scheduler::cli::run(&settings, command).await?,
    }
    Ok(())
}
