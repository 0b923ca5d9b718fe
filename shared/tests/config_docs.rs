//! `docs/CONFIGURATION.md` cannot drift from the code: every setting the configuration
//! knows is documented, the tables name no setting that does not exist, and every flat alias
//! (and port variable) is listed in the row of the setting it sets.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::path::PathBuf;

use shared::config::{FLAT_ALIASES, PORT_VARIABLES, known_keys};

fn doc() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/CONFIGURATION.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Table rows: lines that start with `|`.
fn table_rows(doc: &str) -> impl Iterator<Item = &str> {
    doc.lines()
        .map(str::trim)
        .filter(|line| line.starts_with('|'))
}

/// The text between backticks on a line.
fn code_spans(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

/// `section.key`: two lower-case identifiers joined by one dot.
fn is_dotted_key(text: &str) -> bool {
    let identifier = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_lowercase())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    text.split_once('.')
        .is_some_and(|(section, key)| identifier(section) && identifier(key))
}

/// The table row documenting `key`: the row whose first cell is `` `key` ``.
fn row_of<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    let cell = format!("`{key}`");
    table_rows(doc).find(|row| {
        row.trim_start_matches('|')
            .split('|')
            .next()
            .is_some_and(|first| first.trim() == cell)
    })
}

#[test]
fn every_known_key_is_documented() {
    let doc = doc();
    let missing: Vec<String> = known_keys()
        .into_iter()
        .filter(|key| !doc.contains(&format!("`{key}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "settings missing from docs/CONFIGURATION.md: {missing:?}"
    );
}

#[test]
fn the_tables_name_only_known_keys() {
    let doc = doc();
    let known = known_keys();
    let unknown: Vec<&str> = table_rows(&doc)
        .flat_map(code_spans)
        .filter(|span| is_dotted_key(span) && !known.iter().any(|k| k == span))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/CONFIGURATION.md names settings the configuration does not know: {unknown:?}"
    );
}

#[test]
fn every_flat_alias_and_port_variable_is_in_its_settings_row() {
    let doc = doc();
    let expected = FLAT_ALIASES
        .iter()
        .copied()
        .chain(PORT_VARIABLES.iter().map(|v| (*v, "server.port")));
    let mut wrong = Vec::new();
    for (variable, key) in expected {
        let listed = row_of(&doc, key).is_some_and(|row| row.contains(&format!("`{variable}`")));
        if !listed {
            wrong.push(format!("{variable} (sets {key})"));
        }
    }
    assert!(
        wrong.is_empty(),
        "variables not listed in their setting's row of docs/CONFIGURATION.md: {wrong:?}"
    );
}

#[test]
fn dotted_keys_are_told_apart_from_other_code() {
    assert!(is_dotted_key("llm_chat.api_key"));
    assert!(is_dotted_key("storage.s3_bucket"));
    assert!(!is_dotted_key("0.0.0.0"));
    assert!(!is_dotted_key("https://api.deepseek.com"));
    assert!(!is_dotted_key("DATABASE_URL"));
    assert!(!is_dotted_key("a.b.c"));
    assert_eq!(
        code_spans("| `app.mode` | `\"local\"` | | x |").collect::<Vec<_>>(),
        ["app.mode", "\"local\""]
    );
}
