//! `stack import`: an original UniLife database (users, conversations, messages, diaries,
//! profiles, events) and an original drug-serve cabinet (`drugs.db` and `uploads/`) copied
//! into our database and photo store.
//!
//! Everything is written in one transaction, committed at the end, or rolled back for a dry
//! run (which stores no photo either), so a failed or trial run leaves the database as it
//! was. Each original row gets a fixed id of ours (`ids`), so a second run finds what the
//! first created and creates nothing again. A row that cannot be imported is skipped with its
//! reason in the summary; only an unreadable source or a database error stops the run.

mod conversations;
mod diaries;
mod drugs;
mod events;
mod ids;
mod owners;
mod photos;
mod profiles;
mod source;
mod summary;
mod users;
mod values;

use std::path::PathBuf;

use sea_orm::TransactionTrait;
use shared::config::Settings;
use svc_drugs::pipeline::normalize::NormalizeLimits;
use svc_drugs::storage::Store;

pub use ids::{derived as derived_id, our_id};
pub use summary::{Summary, TableSummary};

use owners::Owners;
use source::Source;

/// What to import, and whether to write it.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(group(
    clap::ArgGroup::new("source")
        .required(true)
        .multiple(true)
        .args(["unilife_db", "drug_serve_db"])
))]
pub struct ImportArgs {
    /// The original UniLife backend's SQLite file (its `unilife.db`).
    #[arg(long, value_name = "PATH")]
    pub unilife_db: Option<PathBuf>,
    /// drug-serve's SQLite file (its `drugs.db`).
    #[arg(long, value_name = "PATH", requires = "drug_serve_uploads")]
    pub drug_serve_db: Option<PathBuf>,
    /// drug-serve's `uploads/` directory, where the drugs' photos are.
    #[arg(long, value_name = "DIR", requires = "drug_serve_db")]
    pub drug_serve_uploads: Option<PathBuf>,
    /// The login of the account drug-serve's drugs go to (drug-serve had no accounts). By
    /// default the reserved account the legacy drug-serve routes show.
    #[arg(long, value_name = "LOGIN")]
    pub drugs_owner: Option<String>,
    /// Read and check everything and print the summary, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Import what `args` names into the database and store `settings` configure (the stack's
/// own), migrating the database first.
pub async fn run(settings: &Settings, args: &ImportArgs) -> anyhow::Result<Summary> {
    // The sources open first: a wrong path fails before anything is touched.
    let unilife = match &args.unilife_db {
        Some(path) => Some(Source::open(path).await?),
        None => None,
    };
    let drug_serve = match (&args.drug_serve_db, &args.drug_serve_uploads) {
        (Some(db), Some(uploads)) => {
            if !uploads.is_dir() {
                anyhow::bail!("{}: no such directory", uploads.display());
            }
            Some((Source::open(db).await?, uploads.clone()))
        }
        (None, None) => None,
        _ => anyhow::bail!("--drug-serve-db and --drug-serve-uploads go together"),
    };
    if unilife.is_none() && drug_serve.is_none() {
        anyhow::bail!("nothing to import: give --unilife-db and/or --drug-serve-db");
    }

    shared::db::migrate(&settings.database).await?;
    let db = shared::db::connect(&settings.database).await?;
    // A dry run stores no photo, so it does not even create the upload directory.
    let store = match (&drug_serve, args.dry_run) {
        (Some(_), false) => Some(Store::from_settings(&settings.storage)?),
        _ => None,
    };
    let photo_rules = photos::Rules {
        limits: NormalizeLimits {
            max_pixels: settings.drugs.max_pixels,
            max_alloc: settings.drugs.max_decode_bytes,
            max_long_edge: settings.drugs.max_long_edge,
            jpeg_quality: settings.drugs.jpeg_quality,
        },
        max_file_size: settings.storage.max_file_size,
        store,
    };

    let mut summary = Summary::new(args.dry_run);
    let txn = db.begin().await?;
    if let Some(src) = &unilife {
        let mut owners = Owners::default();
        users::import(src, &txn, &mut owners, &mut summary).await?;
        conversations::import(src, &txn, &owners, &mut summary).await?;
        diaries::import(src, &txn, &owners, &mut summary).await?;
        profiles::import(src, &txn, &owners, &mut summary).await?;
        events::import(src, &txn, &owners, &mut summary).await?;
    }
    if let Some((src, uploads)) = &drug_serve {
        let owner = drugs::owner(&txn, args.drugs_owner.as_deref()).await?;
        drugs::import(src, uploads, owner, &txn, &photo_rules, &mut summary).await?;
    }
    if args.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    db.close().await?;
    for src in unilife.into_iter().chain(drug_serve.map(|(s, _)| s)) {
        src.close().await;
    }
    Ok(summary)
}
