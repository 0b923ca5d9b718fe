//! `cargo run --release -p stack`: the whole system on one machine.
//!
//! SQLite and the filesystem store under `./data`, every service in this one process on its
//! own loopback port, talking to the others over the same internal HTTP (with internal
//! tokens) as in production. Ctrl-C stops everything cleanly.

use clap::Parser;
use shared::config::Settings;
use shared::server::Application;
use tokio::sync::watch;

#[derive(Parser)]
#[command(about = "Run the complete system locally")]
struct Cli {
    /// Public port of the gateway.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address the gateway binds (the services always bind 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::install_crypto_provider();
    let cli = Cli::parse();
    let base = Settings::load()?;
    let _telemetry = shared::telemetry::init(&base, "stack");

    shared::db::migrate(&base.database).await?;

    let internal = |mut s: Settings| {
        s.server.host = "127.0.0.1".into();
        s.server.port = 0;
        s.server.workers = 1;
        s.database.migrate_on_start = false;
        s.database.max_connections = 4;
        s
    };
    let drugs = svc_drugs::startup::build(&internal(base.clone())).await?;
    let chat = svc_chat::startup::build(&internal(base.clone())).await?;
    let scheduler = svc_scheduler::startup::build(&internal(base.clone())).await?;

    let mut public = base.clone();
    public.server.host = cli.host.clone();
    public.server.port = cli.port;
    public.database.migrate_on_start = false;
    public.services.drugs = format!("http://127.0.0.1:{}", drugs.port());
    public.services.chat = format!("http://127.0.0.1:{}", chat.port());
    public.services.scheduler = format!("http://127.0.0.1:{}", scheduler.port());
    // The services here are ours, so they speak HTTP/2 with prior knowledge: one connection
    // per gateway worker carries every request, open chat streams included.
    public.services.h2c = true;
    let gateway = gateway::startup::build(&public).await?;

    let shown_host = if cli.host == "0.0.0.0" {
        "127.0.0.1"
    } else {
        cli.host.as_str()
    };
    println!("UniLife stack is up.");
    println!("  open      http://{shown_host}:{}/docs", gateway.port());
    println!(
        "  health    http://{shown_host}:{}/api/v1/health",
        gateway.port()
    );
    println!(
        "  services  drugs :{}  chat :{}  scheduler :{} (loopback only)",
        drugs.port(),
        chat.port(),
        scheduler.port()
    );
    println!("Press Ctrl-C to stop.");

    let (stop_tx, stop_rx) = watch::channel(false);
    let run = |app: Application| {
        let mut rx = stop_rx.clone();
        async move {
            app.run_until_stopped(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await
        }
    };
    let all = futures_join(run(gateway), run(drugs), run(chat), run(scheduler));
    tokio::pin!(all);
    tokio::select! {
        results = &mut all => report(results),
        () = shared::server::shutdown_signal() => {
            println!("Stopping…");
            let _ = stop_tx.send(true);
            report(all.await);
        }
    }
    println!("Stopped.");
    Ok(())
}

async fn futures_join<A, B, C, D>(a: A, b: B, c: C, d: D) -> [std::io::Result<()>; 4]
where
    A: Future<Output = std::io::Result<()>>,
    B: Future<Output = std::io::Result<()>>,
    C: Future<Output = std::io::Result<()>>,
    D: Future<Output = std::io::Result<()>>,
{
    let (a, b, c, d) = tokio::join!(a, b, c, d);
    [a, b, c, d]
}

fn report(results: [std::io::Result<()>; 4]) {
    for (name, result) in ["gateway", "drugs", "chat", "scheduler"]
        .iter()
        .zip(results)
    {
        if let Err(e) = result {
            eprintln!("{name} stopped with an error: {e}");
        }
    }
}
