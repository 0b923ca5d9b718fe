use clap::Parser;
use shared::config::Settings;
use svc_scheduler::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::install_crypto_provider();
    let cli = Cli::parse();
    let settings = Settings::load()?;
    let _telemetry = shared::telemetry::init(&settings, "svc-scheduler");
    match cli.command {
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
