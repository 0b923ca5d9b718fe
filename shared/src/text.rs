//! Text as search compares it, the same on SQLite and PostgreSQL.
//!
//! SQL `lower()` is ASCII-only on SQLite and depends on the database's locale on PostgreSQL,
//! so a case-insensitive search written with it finds `碳酸钙D3颗粒(Ⅱ)` on one and not on the
//! other. Instead the searchable text is folded here, once, when it is written (a stored
//! column), and the query is folded the same way: compatibility forms unified (NFKC: full-width
//! `ＡＢ（１）` is `AB(1)`, the numeral `Ⅱ` is `II`), then lowercased by Unicode's rules.

use unicode_normalization::UnicodeNormalization;

/// Separates the fields of a stored search text; never part of a folded query.
pub const FIELD_SEPARATOR: char = '\u{1f}';

/// One piece of text folded for comparison.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .to_lowercase()
        // Lowercasing depends on the position in a word (`Σ` at a word's end is `ς`), so a
        // query would not find the word it is the start of: one sigma for both.
        .replace('ς', "σ")
}

/// The stored search text of several fields: each folded, joined so that a query cannot
/// match across two of them.
pub fn search_text<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut out = String::new();
    for field in fields.into_iter().flatten() {
        if !out.is_empty() {
            out.push(FIELD_SEPARATOR);
        }
        out.push_str(&fold(field));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_and_case_fold_together() {
        assert_eq!(fold("碳酸钙D3颗粒(Ⅱ)"), "碳酸钙d3颗粒(ii)");
        assert_eq!(fold("Ⅱ"), fold("ii"));
        assert_eq!(fold("ＶＩＴＡＭＩＮ　Ｃ（１）"), "vitamin c(1)");
        assert_eq!(fold("ÄRZTE"), "ärzte");
        assert_eq!(fold("ΣΊΣΥΦΟΣ"), "σίσυφοσ");
        assert!(fold("ΣΊΣΥΦΟΣ").contains(&fold("ΣΊΣ")));
        assert!(fold("a\u{1f}b\nc").chars().all(|c| !c.is_control()));
    }

    #[test]
    fn a_query_never_spans_two_fields() {
        let stored = search_text([Some("Ibuprofen"), None, Some("Tablets")]);
        assert!(stored.contains("ibuprofen"));
        assert!(!stored.contains(&fold("ibuprofentablets")));
        assert!(!stored.contains(&fold("Ibuprofen\u{1f}Tablets")));
    }
}
