//! `docs/API.md` lists every error code with the status it always has, and nothing else.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use shared::ErrorCode;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn the_error_table_in_docs_api_matches_the_error_codes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    // Rows `| `code` | status | text |` of the error table.
    let documented: BTreeMap<String, u16> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            let code = cells.first()?.trim().strip_prefix('`')?.strip_suffix('`')?;
            let status = cells.get(1)?.trim().parse().ok()?;
            Some((code.to_owned(), status))
        })
        .collect();
    let actual: BTreeMap<String, u16> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.status().as_u16()))
        .collect();
    assert_eq!(documented, actual);
}
