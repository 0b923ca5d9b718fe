//! What the codes on a medicine box carry, parsed without the model:
//!
//! - **GS1 element strings** (GS1 DataMatrix on packs, GS1-128): `(01)` GTIN with its check
//!   digit verified, `(17)` expiry, `(11)` production date, `(10)` batch, `(21)` serial, as
//!   a scanner hands them over (FNC1 as the GS character, with or without a symbology
//!   identifier such as `]d2`) or as printed under the code (`(01)0690…(17)271231…`).
//! - **China's drug traceability code** (药品追溯码, 码上放心): 20 digits starting with 8:
//!   a 7-digit product code (药品标识码), a 9-digit serial (单品序列号) and 4 check digits
//!   that only the platform can verify (their algorithm is not published); the structure is
//!   checked here, and the whole code identifies the box.
//! - **Plain product barcodes**: EAN-13/EAN-8/UPC-A/GTIN-14, check digit verified.
//!
//! The product identifier (the catalogue's key) is the GTIN as a 13-digit EAN when its
//! indicator digit is 0 (what the box's linear barcode reads), the GTIN-14 otherwise, and
//! `cn:` + the 7-digit code for a traceability code. A box is identified by its product and
//! serial.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// The GS character a scanner sends for FNC1 between variable-length fields.
const GS: char = '\u{1d}';

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Gs1,
    CnTrace,
    Gtin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedCode {
    pub kind: CodeKind,
    /// The catalogue's key for the product.
    pub product_id: String,
    /// The GTIN-14 of a GS1 code or of a plain barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    pub batch_number: Option<String>,
    pub expiry_date: Option<NaiveDate>,
    pub production_date: Option<NaiveDate>,
    pub serial: Option<String>,
    /// Identifies this very box (product + serial), when the code has a serial.
    pub box_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("码是空的。The code is empty.")]
    Empty,
    #[error("码太长（最多 {0} 个字符）。The code is too long (at most {0} characters).")]
    TooLong(usize),
    #[error(
        "GTIN {0} 的校验位不对，请重新扫描。The GTIN {0} has a wrong check digit: scan it again."
    )]
    CheckDigit(String),
    #[error("无法识别的 GS1 应用标识符 ({0})。Unknown GS1 application identifier ({0}).")]
    UnknownAi(String),
    #[error("GS1 字段 ({ai}) 不完整或格式不对。The GS1 field ({ai}) is incomplete or malformed.")]
    BadField { ai: String },
    #[error(
        "GS1 日期 ({ai}) {value} 不是有效日期。The GS1 date ({ai}) {value} is not a valid date."
    )]
    BadDate { ai: String, value: String },
    #[error("GS1 码里没有 GTIN (01)。The GS1 code has no GTIN (01).")]
    NoGtin,
    #[error(
        "药品追溯码应为 20 位、以 8 开头的数字。A drug traceability code is 20 digits starting with 8."
    )]
    BadTraceCode,
    #[error(
        "无法识别这个码：不是 GS1、药品追溯码或商品条码。Not a code we read: neither GS1, a drug traceability code nor a product barcode."
    )]
    Unrecognised,
}

const MAX_LEN: usize = 200;

/// Parse a scanned or typed code. `today` places two-digit years (GS1's sliding window).
pub fn parse(text: &str, today: NaiveDate) -> Result<ParsedCode, CodeError> {
    let text = text.trim_matches(|c: char| c.is_whitespace());
    if text.is_empty() {
        return Err(CodeError::Empty);
    }
    if text.chars().count() > MAX_LEN {
        return Err(CodeError::TooLong(MAX_LEN));
    }
    // A symbology identifier the scanner may put first: ]d2 GS1 DataMatrix, ]C1 GS1-128,
    // ]Q3 GS1 QR, ]e0 GS1 DataBar.
    let (body, gs1_flagged) = match text.get(..3) {
        Some("]d2" | "]C1" | "]Q3" | "]e0") => (&text[3..], true),
        _ => (text.trim_start_matches(GS), false),
    };
    if body.starts_with('(') {
        return gs1(&bracketed(body)?, today);
    }
    if body.chars().all(|c| c.is_ascii_digit()) && !gs1_flagged {
        return match body.len() {
            8 | 12 | 13 | 14 => plain_gtin(body),
            20 if body.starts_with("01") => gs1(&split_raw(body)?, today),
            20 => trace_code(body),
            _ if body.starts_with('8') && body.len() > 16 => Err(CodeError::BadTraceCode),
            // A run of digits starting 01 + 14 digits is an element string without FNC1.
            _ if body.starts_with("01") && body.len() >= 16 => gs1(&split_raw(body)?, today),
            _ => Err(CodeError::Unrecognised),
        };
    }
    if gs1_flagged || body.contains(GS) || body.starts_with("01") {
        return gs1(&split_raw(body)?, today);
    }
    Err(CodeError::Unrecognised)
}

/// The GS1 mod-10 check digit over all but the last digit.
pub fn check_digit_ok(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    if bytes.len() < 2 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = bytes.split_at(bytes.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
}

/// The catalogue's key of a GTIN-14: what the box's linear barcode reads — its EAN-8 when
/// it is one (six leading zeros), its EAN-13 when the indicator is 0, else the GTIN-14.
fn product_id(gtin14: &str) -> String {
    if let Some(ean8) = gtin14.strip_prefix("000000") {
        return ean8.to_owned();
    }
    match gtin14.strip_prefix('0') {
        Some(ean13) => ean13.to_owned(),
        None => gtin14.to_owned(),
    }
}

fn plain_gtin(digits: &str) -> Result<ParsedCode, CodeError> {
    if !check_digit_ok(digits) {
        return Err(CodeError::CheckDigit(digits.to_owned()));
    }
    let gtin14 = format!("{digits:0>14}");
    Ok(ParsedCode {
        kind: CodeKind::Gtin,
        product_id: product_id(&gtin14),
        gtin: Some(gtin14),
        batch_number: None,
        expiry_date: None,
        production_date: None,
        serial: None,
        box_id: None,
    })
}

fn trace_code(digits: &str) -> Result<ParsedCode, CodeError> {
    if !digits.starts_with('8') {
        return Err(CodeError::BadTraceCode);
    }
    let product = &digits[..7];
    Ok(ParsedCode {
        kind: CodeKind::CnTrace,
        product_id: format!("cn:{product}"),
        gtin: None,
        batch_number: None,
        expiry_date: None,
        production_date: None,
        serial: Some(digits[7..16].to_owned()),
        box_id: Some(format!("cn:{digits}")),
    })
}

/// How long an AI's value is: fixed, or variable up to a maximum (ended by GS or the end).
#[derive(Clone, Copy)]
enum Len {
    Fixed(usize),
    Upto(usize),
}

/// The application identifiers a medicine pack carries, with their lengths (GS1 General
/// Specifications §3.2); the AI's own length is the first value.
fn ai_spec(s: &str) -> Option<(usize, Len)> {
    let two = s.get(..2)?;
    Some(match two {
        "00" => (2, Len::Fixed(18)),
        "01" | "02" => (2, Len::Fixed(14)),
        "10" | "21" | "22" => (2, Len::Upto(20)),
        "11" | "12" | "13" | "15" | "16" | "17" => (2, Len::Fixed(6)),
        "20" => (2, Len::Fixed(2)),
        "30" | "37" => (2, Len::Upto(8)),
        "24" => match s.get(..3)? {
            "240" | "241" => (3, Len::Upto(30)),
            _ => return None,
        },
        "31" | "32" | "33" | "34" | "35" | "36" => (4, Len::Fixed(6)),
        "41" => (3, Len::Fixed(13)),
        // National healthcare reimbursement numbers (710 PZN … 715 NDC).
        "71" => match s.get(..3)? {
            "710" | "711" | "712" | "713" | "714" | "715" => (3, Len::Upto(20)),
            _ => return None,
        },
        _ => return None,
    })
}

/// `(01)069…(17)271231(10)AB` → pairs.
fn bracketed(body: &str) -> Result<Vec<(String, String)>, CodeError> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(').ok_or(CodeError::Unrecognised)?;
        let close = inner.find(')').ok_or(CodeError::Unrecognised)?;
        let ai = &inner[..close];
        let after = &inner[close + 1..];
        let end = after.find('(').unwrap_or(after.len());
        out.push((ai.to_owned(), after[..end].to_owned()));
        rest = &after[end..];
    }
    Ok(out)
}

/// A raw element string (FNC1 as GS) → pairs, by the AIs' lengths.
fn split_raw(body: &str) -> Result<Vec<(String, String)>, CodeError> {
    let mut out = Vec::new();
    let mut rest = body.trim_start_matches(GS);
    while !rest.is_empty() {
        let (ai_len, len) = ai_spec(rest)
            .ok_or_else(|| CodeError::UnknownAi(rest.chars().take(4).collect::<String>()))?;
        let ai = rest.get(..ai_len).ok_or(CodeError::Unrecognised)?;
        let value_and_rest = &rest[ai_len..];
        let (value, next) = match len {
            Len::Fixed(n) => {
                let value = value_and_rest
                    .get(..n)
                    .ok_or_else(|| CodeError::BadField { ai: ai.to_owned() })?;
                (value, &value_and_rest[n..])
            }
            Len::Upto(_) => match value_and_rest.find(GS) {
                Some(at) => (&value_and_rest[..at], &value_and_rest[at..]),
                None => (value_and_rest, ""),
            },
        };
        out.push((ai.to_owned(), value.to_owned()));
        rest = next.trim_start_matches(GS);
    }
    Ok(out)
}

fn gs1(pairs: &[(String, String)], today: NaiveDate) -> Result<ParsedCode, CodeError> {
    let mut gtin = None;
    let mut parsed = ParsedCode {
        kind: CodeKind::Gs1,
        product_id: String::new(),
        gtin: None,
        batch_number: None,
        expiry_date: None,
        production_date: None,
        serial: None,
        box_id: None,
    };
    for (ai, value) in pairs {
        let (_, len) = ai_spec(ai)
            .filter(|(n, _)| *n == ai.len())
            .ok_or_else(|| CodeError::UnknownAi(ai.clone()))?;
        let bad = || CodeError::BadField { ai: ai.clone() };
        match len {
            Len::Fixed(n) if value.len() != n => return Err(bad()),
            Len::Upto(n) if value.is_empty() || value.len() > n => return Err(bad()),
            _ => {}
        }
        // GS1's character set 82: printable ASCII without space.
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad());
        }
        match ai.as_str() {
            "01" => {
                if !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                if !check_digit_ok(value) {
                    return Err(CodeError::CheckDigit(value.clone()));
                }
                gtin = Some(value.clone());
            }
            "17" => parsed.expiry_date = Some(gs1_date(ai, value, today, DayZero::LastDay)?),
            "11" => {
                parsed.production_date = Some(gs1_date(ai, value, today, DayZero::FirstDay)?);
            }
            "10" => parsed.batch_number = Some(value.clone()),
            "21" => parsed.serial = Some(value.clone()),
            _ => {}
        }
    }
    let gtin = gtin.ok_or(CodeError::NoGtin)?;
    parsed.product_id = product_id(&gtin);
    parsed.box_id = parsed
        .serial
        .as_ref()
        .map(|serial| format!("gs1:{gtin}:{serial}"));
    parsed.gtin = Some(gtin);
    Ok(parsed)
}

/// What day 00 (a month without its day) stands for.
#[derive(Clone, Copy)]
enum DayZero {
    /// An expiry: the month's last day.
    LastDay,
    /// A production date: the month's first (as a month read off a box is taken).
    FirstDay,
}

/// YYMMDD; the century by GS1's sliding window (GS1 General Specifications §7.12: up to 49
/// years ahead, 50 behind); day 00 is a month without its day.
fn gs1_date(
    ai: &str,
    value: &str,
    today: NaiveDate,
    day_zero: DayZero,
) -> Result<NaiveDate, CodeError> {
    let bad = || CodeError::BadDate {
        ai: ai.to_owned(),
        value: value.to_owned(),
    };
    let num = |r: std::ops::Range<usize>| -> Result<u32, CodeError> {
        value.get(r).and_then(|s| s.parse().ok()).ok_or_else(bad)
    };
    let (yy, mm, dd) = (num(0..2)? as i32, num(2..4)?, num(4..6)?);
    let current = today.year();
    let century = current - current.rem_euclid(100);
    let diff = yy - current.rem_euclid(100);
    let year = if diff >= 51 {
        century - 100 + yy
    } else if diff <= -50 {
        century + 100 + yy
    } else {
        century + yy
    };
    if dd == 0 {
        let first = NaiveDate::from_ymd_opt(year, mm, 1).ok_or_else(bad)?;
        return match day_zero {
            DayZero::FirstDay => Ok(first),
            DayZero::LastDay => first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|next| next.pred_opt())
                .ok_or_else(bad),
        };
    }
    NaiveDate::from_ymd_opt(year, mm, dd).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        "2026-12-07".parse().unwrap()
    }

    fn d(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_gs1_datamatrix_as_the_scanner_sends_it() {
        // FNC1 first (dropped by the reader), GS after the variable-length batch.
        let raw = "010690123456789217271231106B2401\u{1d}21SN0001A";
        let p = parse(raw, today()).unwrap();
        assert_eq!(p.kind, CodeKind::Gs1);
        assert_eq!(p.gtin.as_deref(), Some("06901234567892"));
        assert_eq!(p.product_id, "6901234567892");
        assert_eq!(p.expiry_date, d("2027-12-31"));
        assert_eq!(p.batch_number.as_deref(), Some("6B2401"));
        assert_eq!(p.serial.as_deref(), Some("SN0001A"));
        assert_eq!(p.box_id.as_deref(), Some("gs1:06901234567892:SN0001A"));
        // With the symbology identifier, and as printed in brackets: the same.
        assert_eq!(parse(&format!("]d2{raw}"), today()).unwrap(), p);
        let printed = "(01)06901234567892(17)271231(10)6B2401(21)SN0001A";
        assert_eq!(parse(printed, today()).unwrap(), p);
    }

    #[test]
    fn dates_day_zero_production_and_the_century_window() {
        let p = parse("(01)06901234567892(11)250301(17)280200", today()).unwrap();
        assert_eq!(p.production_date, d("2025-03-01"));
        // Day 00: the last day of February 2028 (a leap year).
        assert_eq!(p.expiry_date, d("2028-02-29"));
        // 80 is more than 50 years ahead of 26: 1980.
        let old = parse("(01)06901234567892(17)800101", today()).unwrap();
        assert_eq!(old.expiry_date, d("1980-01-01"));
        assert!(matches!(
            parse("(01)06901234567892(17)271340", today()),
            Err(CodeError::BadDate { .. })
        ));
        // Day 00 of a production month: its first day.
        let p = parse("(01)06901234567892(11)250300", today()).unwrap();
        assert_eq!(p.production_date, d("2025-03-01"));
        // Only a GTIN, as a scanner sends it: 16 digits.
        assert_eq!(
            parse("0106901234567892", today()).unwrap().product_id,
            "6901234567892"
        );
        // An EAN-8 in a GS1 code keys the catalogue as its own barcode does.
        assert_eq!(
            parse("(01)00000096385074", today()).unwrap().product_id,
            "96385074"
        );
    }

    #[test]
    fn wrong_check_digits_and_broken_codes_are_refused() {
        assert_eq!(
            parse("(01)06901234567893(17)271231", today()),
            Err(CodeError::CheckDigit("06901234567893".into()))
        );
        assert_eq!(
            parse("6901234567893", today()),
            Err(CodeError::CheckDigit("6901234567893".into()))
        );
        assert_eq!(parse("(17)271231(10)AB", today()), Err(CodeError::NoGtin));
        assert!(matches!(
            parse("(01)06901234567892(99)XX", today()),
            Err(CodeError::UnknownAi(_))
        ));
        assert!(matches!(
            parse("(01)0690123456789(17)271231", today()),
            Err(CodeError::BadField { .. })
        ));
        assert!(matches!(
            parse("(01)06901234567892(10)", today()),
            Err(CodeError::BadField { .. })
        ));
        assert_eq!(parse("  ", today()), Err(CodeError::Empty));
        assert_eq!(parse("hello", today()), Err(CodeError::Unrecognised));
        assert!(matches!(
            parse(&"1".repeat(300), today()),
            Err(CodeError::TooLong(_))
        ));
        // Every message in Chinese, then English.
        let msg = CodeError::CheckDigit("1".into()).to_string();
        assert!(msg.contains("校验位") && msg.contains("check digit"));
    }

    #[test]
    fn the_chinese_traceability_code_and_plain_barcodes() {
        let p = parse("81234560012345678901", today()).unwrap();
        assert_eq!(p.kind, CodeKind::CnTrace);
        assert_eq!(p.product_id, "cn:8123456");
        assert_eq!(p.serial.as_deref(), Some("001234567"));
        assert_eq!(p.box_id.as_deref(), Some("cn:81234560012345678901"));
        assert_eq!(
            parse("71234560012345678901", today()),
            Err(CodeError::BadTraceCode)
        );
        assert_eq!(
            parse("812345600123456789", today()),
            Err(CodeError::BadTraceCode)
        );

        let ean = parse("6901234567892", today()).unwrap();
        assert_eq!(
            (ean.kind, ean.product_id.as_str()),
            (CodeKind::Gtin, "6901234567892")
        );
        assert_eq!(ean.box_id, None);
        // UPC-A is the EAN-13 with a leading 0; EAN-8 keeps its digits.
        assert_eq!(
            parse("036000291452", today()).unwrap().product_id,
            "0036000291452"
        );
        assert_eq!(parse("96385074", today()).unwrap().product_id, "96385074");
    }

    #[test]
    fn check_digits() {
        assert!(check_digit_ok("6901234567892"));
        assert!(check_digit_ok("06901234567892"));
        assert!(check_digit_ok("036000291452"));
        assert!(!check_digit_ok("036000291453"));
        assert!(!check_digit_ok("x"));
    }
}
