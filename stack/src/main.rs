//! `cargo run --release -p stack`: the whole system on one machine.
//!
//! SQLite and the filesystem store under `./data`, every service in this one process on its
//! own loopback port, talking to the others over the same internal HTTP (with internal
//! tokens) as in production. Ctrl-C stops everything cleanly.
//!
//! `stack import …` instead copies an original UniLife database and a drug-serve cabinet into
//! the configured database (`stack::import`, docs/IMPORT.md).

use clap::Parser;
use shared::config::Settings;
use shared::server::{Application, bind, local_port};

/// jemalloc, as the services that ship: every request allocates and frees many small buffers
/// (malloc was ~15 % of the stack's CPU on `lists_bench`). `--features system-allocator`
/// keeps the C library's, for heaptrack (which does not see jemalloc's prefixed symbols).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Copy an original UniLife database and/or a drug-serve cabinet into the configured
    /// database (and photo store), then print what was read, created, already there and
    /// skipped. Safe to run again: what is there already is left alone.
    Import(stack::import::ImportArgs),
    /// Grant or revoke the admin role (it sees every user's job runs): `admin grant <login>`,
    /// `admin revoke <login>`, against the configured database.
    Admin {
        action: AdminAction,
        /// The account's login name.
        login: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AdminAction {
    Grant,
    Revoke,
}

mod secrets;

/// Where the local stack keeps what it makes: the SQLite file and uploads (by the default
/// settings) and its signing secrets.
const DATA_DIR: &str = "data";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared::install_crypto_provider();
    let cli = Cli::parse();
    let mut base = Settings::load()?;
    let _telemetry = shared::telemetry::init(&base, "stack");
    match cli.command {
        Some(Command::Import(args)) => {
            let summary = stack::import::run(&base, &args).await?;
            print!("{summary}");
            return Ok(());
        }
        Some(Command::Admin { action, login }) => {
            let command = match action {
                AdminAction::Grant => gateway::admin::AdminCommand::Grant(login),
                AdminAction::Revoke => gateway::admin::AdminCommand::Revoke(login),
            };
            let db = shared::db::connect(&base.database).await?;
            match gateway::admin::run(&db, &command).await {
                Ok(line) => println!("{line}"),
                Err(why) => {
                    eprintln!("{why}");
                    std::process::exit(2);
                }
            }
            return Ok(());
        }
        None => {}
    }
    let secrets = secrets::ensure(&mut base, std::path::Path::new(DATA_DIR))?;

    shared::db::migrate(&base.database).await?;

    // Every listener first, so that each service is built knowing every other's real address:
    // the settings below are the only source of the service URLs, for all four.
    let gateway_listener = bind(&cli.host, cli.port)?;
    let drugs_listener = bind("127.0.0.1", 0)?;
    let chat_listener = bind("127.0.0.1", 0)?;
    let scheduler_listener = bind("127.0.0.1", 0)?;
    let url = |l: &std::net::TcpListener| format!("http://127.0.0.1:{}", local_port(l));
    base.services.drugs = url(&drugs_listener);
    base.services.chat = url(&chat_listener);
    base.services.scheduler = url(&scheduler_listener);
    // The services here are ours, so they speak HTTP/2 with prior knowledge: one connection
    // per gateway worker carries every request, open chat streams included.
    base.services.h2c = true;
    base.database.migrate_on_start = false;

    let internal = |mut s: Settings| {
        s.server.host = "127.0.0.1".into();
        s.server.workers = 1;
        // A query holds its connection until its task, on the one busy worker, has taken the
        // rows: the cabinet at 64 clients ran 2.4–2.9k req/s with 4, 3.0k with 8, no more
        // with 16 or 32 (docs/PERFORMANCE.md).
        s.database.max_connections = 8;
        s
    };
    let drugs = svc_drugs::startup::build_on(&internal(base.clone()), drugs_listener).await?;
    let chat = svc_chat::startup::build_on(&internal(base.clone()), chat_listener).await?;
    let scheduler =
        svc_scheduler::startup::build_on(&internal(base.clone()), scheduler_listener).await?;

    let mut public = base.clone();
    public.server.host = cli.host.clone();
    let gateway = gateway::startup::build_on(&public, gateway_listener).await?;

    let shown_host = if cli.host == "0.0.0.0" {
        "127.0.0.1"
    } else {
        cli.host.as_str()
    };
    println!("UniLife stack is up.");
    println!("  open      http://{shown_host}:{}/", gateway.port());
    println!("  api docs  http://{shown_host}:{}/docs", gateway.port());
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
    println!(
        "  secrets   {} (made at first start; keep it private)",
        secrets.display()
    );
    if base.legacy.enabled {
        println!(
            "  legacy    /api/drugs and /uploads are ON: anyone who can reach this address \
             acts as the one shared drug-serve account, without signing in"
        );
    }
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
