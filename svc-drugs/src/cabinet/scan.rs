//! Adding a drug by its code alone (`POST /api/v1/drugs/codes`): a GS1 DataMatrix, a drug
//! traceability code or a product barcode, as the app's or the browser's scanner read it.
//! The code fills barcode, batch, dates and serial; the catalogue (learned from earlier
//! recognitions) fills what is printed on the box; no model is asked. A box already in the
//! cabinet (same product and serial) is answered with its drug, never added twice.

use sea_orm::{ActiveModelTrait, Set};
use serde::{Deserialize, Serialize};
use shared::contracts::CabinetDrug;
use shared::entities::{drug, product};
use uuid::Uuid;

use super::drugs::{checked, ensure_room, one_view};
use super::input::{blank_drug, set_text};
use super::{CabinetError, repo};
use crate::domain::codes::{self, ParsedCode};
use crate::domain::product::ProductField;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    pub code: String,
    /// Add it to the cabinet (default: only say what the code is).
    #[serde(default)]
    pub save: bool,
}

#[derive(Serialize)]
pub struct Scanned {
    pub code: ParsedCode,
    /// What the catalogue knows of the product, if anything.
    pub product: Option<serde_json::Map<String, serde_json::Value>>,
    /// The drug made now, or the one this very box already is.
    pub drug: Option<CabinetDrug>,
    pub same_box: bool,
    pub saved: bool,
    /// The safety checks about the drug (added or found), when there is one.
    pub checks: Option<crate::safety::Report>,
}

pub async fn scan(state: &AppState, user: Uuid, input: ScanInput) -> Result<Scanned, CabinetError> {
    let prefs = state.user_prefs(user).await?;
    let code = codes::parse(&input.code, prefs.today()).map_err(CabinetError::Code)?;
    let product = repo::catalogue_entry(&state.db, &code.product_id).await?;
    let shown = product.as_ref().map(product_fields);
    if let Some(existing) = repo::by_box(&state.db, user, code.box_id.as_deref()).await? {
        return found(state, user, code, shown, existing).await;
    }
    if !input.save {
        return Ok(Scanned {
            code,
            product: shown,
            drug: None,
            same_box: false,
            saved: false,
            checks: None,
        });
    }
    let product = product.ok_or(CabinetError::UnknownProduct)?;
    ensure_room(state, user).await?;
    let mut m = blank_drug(user);
    for &field in ProductField::CATALOGUE {
        set_text(&mut m, field, catalogue_text(&product, field));
    }
    if code.product_id.bytes().all(|b| b.is_ascii_digit()) {
        m.barcode = Set(Some(code.product_id.clone()));
    }
    m.batch_number = Set(code.batch_number.clone());
    m.expiry_date = Set(code.expiry_date);
    m.production_date = Set(code.production_date);
    m.serial_number = Set(code.serial.clone());
    m.box_id = Set(code.box_id.clone());
    checked(&m)?;
    let saved = match m.insert(&state.db).await {
        Ok(saved) => saved,
        // The same box scanned twice at once: the other request added it.
        Err(e) if shared::db::is_unique_violation(&e) => {
            let existing = repo::by_box(&state.db, user, code.box_id.as_deref())
                .await?
                .ok_or(CabinetError::Db(e))?;
            return found(state, user, code, shown, existing).await;
        }
        Err(e) => return Err(e.into()),
    };
    let checks = crate::safety::about_after_write(state, user, saved.id).await;
    Ok(Scanned {
        code,
        product: shown,
        drug: Some(one_view(state, user, saved).await?),
        same_box: false,
        saved: true,
        checks,
    })
}

async fn found(
    state: &AppState,
    user: Uuid,
    code: ParsedCode,
    product: Option<serde_json::Map<String, serde_json::Value>>,
    existing: drug::Model,
) -> Result<Scanned, CabinetError> {
    let checks = crate::safety::about_after_write(state, user, existing.id).await;
    Ok(Scanned {
        code,
        product,
        drug: Some(one_view(state, user, existing).await?),
        same_box: true,
        saved: false,
        checks,
    })
}

/// A catalogue entry's value of a field (it holds no batch nor barcode).
pub fn catalogue_text(known: &product::Model, field: ProductField) -> Option<String> {
    match field {
        ProductField::Name => Some(known.name.clone()),
        ProductField::Brand => known.brand.clone(),
        ProductField::GenericName => known.generic_name.clone(),
        ProductField::Manufacturer => known.manufacturer.clone(),
        ProductField::Strength => known.strength.clone(),
        ProductField::DosageForm => known.dosage_form.clone(),
        ProductField::Package => known.package.clone(),
        ProductField::ApprovalNumber => known.approval_number.clone(),
        ProductField::Barcode => Some(known.barcode.clone()),
        ProductField::BatchNumber => None,
    }
}

fn product_fields(known: &product::Model) -> serde_json::Map<String, serde_json::Value> {
    ProductField::CATALOGUE
        .iter()
        .map(|&f| (f.name().to_owned(), catalogue_text(known, f).into()))
        .collect()
}
