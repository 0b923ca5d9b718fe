//! Safety checks that never come from the model: clinically significant drug–drug
//! interactions from an offline, versioned table (`data/interactions.toml`, its provenance in
//! its header and svc-drugs/README.md) and the same active ingredient in two products, across a
//! person's whole cabinet. Run on demand (`GET /api/v1/drugs/checks`) and when a drug or a
//! plan is added (the `checks` of those answers, about the new drug only).
//!
//! The answers say "no known interaction in our table" or "not in our table", never "safe".

mod check;
mod table;

use sea_orm::{DbErr, QueryOrder};
use shared::entities::drug;
use uuid::Uuid;

use crate::cabinet::repo;
use crate::state::AppState;

pub use check::{DrugStatus, Item, Report, check};
pub use table::{Severity, Table};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The shipped table does not load (stopped at start; here for completeness).
    #[error("interaction table: {0}")]
    Table(String),
}

fn table() -> Result<&'static Table, CheckError> {
    Table::get().map_err(CheckError::Table)
}

fn item(d: &drug::Model) -> Item<'_> {
    Item {
        id: d.id,
        name: &d.name,
        generic_name: d.generic_name.as_deref(),
        brand: d.brand.as_deref(),
        dosage_form: d.dosage_form.as_deref(),
    }
}

async fn cabinet(state: &AppState, user: Uuid) -> Result<Vec<drug::Model>, DbErr> {
    repo::of_user(user)
        .order_by_asc(drug::Column::CreatedAt)
        .order_by_asc(drug::Column::Id)
        .all(&state.db)
        .await
}

/// The whole cabinet checked.
pub async fn checks(state: &AppState, user: Uuid) -> Result<Report, CheckError> {
    let drugs = cabinet(state, user).await?;
    let items: Vec<Item<'_>> = drugs.iter().map(item).collect();
    Ok(check(table()?, &items))
}

/// What involves one drug of the cabinet (one just added, or given a plan).
pub async fn about(state: &AppState, user: Uuid, id: Uuid) -> Result<Report, CheckError> {
    Ok(checks(state, user).await?.about(id))
}

/// The same, for an answer after a write: a check that cannot be made (the database gone
/// for a moment) leaves `checks` null and is logged — the write stands and is answered, so a
/// retry does not add the drug twice.
pub async fn about_after_write(state: &AppState, user: Uuid, id: Uuid) -> Option<Report> {
    match about(state, user, id).await {
        Ok(report) => Some(report),
        Err(error) => {
            tracing::warn!(%error, "the safety checks could not be made after a write");
            None
        }
    }
}

/// What a drug not saved yet (a recognition's preview) would meet in the cabinet; it is
/// reported under the nil id.
pub async fn about_new(
    state: &AppState,
    user: Uuid,
    name: &str,
    generic_name: Option<&str>,
    brand: Option<&str>,
    dosage_form: Option<&str>,
) -> Result<Report, CheckError> {
    let drugs = cabinet(state, user).await?;
    let mut items: Vec<Item<'_>> = drugs.iter().map(item).collect();
    items.push(Item {
        id: Uuid::nil(),
        name,
        generic_name,
        brand,
        dosage_form,
    });
    Ok(check(table()?, &items).about(Uuid::nil()))
}
