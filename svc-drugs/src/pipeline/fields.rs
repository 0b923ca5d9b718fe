//! What the vision model read, made safe to store: strings trimmed and "unknown"-like answers
//! dropped, dates parsed from the forms printed on Chinese boxes and checked (real, in order),
//! the approval number checked against its official pattern, barcode digits checked. Every
//! change made on the way is said in `notes`.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::product::ProductField;

/// The fields of a drug that recognition fills: every `ProductField`, and the dates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fields {
    pub name: Option<String>,
    pub brand: Option<String>,
    pub generic_name: Option<String>,
    pub manufacturer: Option<String>,
    pub strength: Option<String>,
    pub dosage_form: Option<String>,
    pub package: Option<String>,
    pub approval_number: Option<String>,
    pub barcode: Option<String>,
    pub batch_number: Option<String>,
    pub production_date: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
}

fn clean(value: Option<&serde_json::Value>) -> Option<String> {
    let text = match value? {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let lowered = text.to_lowercase();
    let empty = text.is_empty()
        || matches!(
            lowered.as_str(),
            "null" | "none" | "n/a" | "unknown" | "未知" | "无" | "不详" | "-" | "—"
        );
    (!empty).then(|| text.chars().take(500).collect())
}

impl Fields {
    /// A text field's value.
    pub fn text(&self, field: ProductField) -> Option<&String> {
        match field {
            ProductField::Name => self.name.as_ref(),
            ProductField::Brand => self.brand.as_ref(),
            ProductField::GenericName => self.generic_name.as_ref(),
            ProductField::Manufacturer => self.manufacturer.as_ref(),
            ProductField::Strength => self.strength.as_ref(),
            ProductField::DosageForm => self.dosage_form.as_ref(),
            ProductField::Package => self.package.as_ref(),
            ProductField::ApprovalNumber => self.approval_number.as_ref(),
            ProductField::Barcode => self.barcode.as_ref(),
            ProductField::BatchNumber => self.batch_number.as_ref(),
        }
    }

    /// A text field, to change.
    pub fn text_mut(&mut self, field: ProductField) -> &mut Option<String> {
        match field {
            ProductField::Name => &mut self.name,
            ProductField::Brand => &mut self.brand,
            ProductField::GenericName => &mut self.generic_name,
            ProductField::Manufacturer => &mut self.manufacturer,
            ProductField::Strength => &mut self.strength,
            ProductField::DosageForm => &mut self.dosage_form,
            ProductField::Package => &mut self.package,
            ProductField::ApprovalNumber => &mut self.approval_number,
            ProductField::Barcode => &mut self.barcode,
            ProductField::BatchNumber => &mut self.batch_number,
        }
    }

    /// The dates, by name.
    pub fn dates(&self) -> [(&'static str, Option<NaiveDate>); 2] {
        [
            ("production_date", self.production_date),
            ("expiry_date", self.expiry_date),
        ]
    }

    /// Read the model's JSON object; `notes` collects what was changed or dropped and why.
    pub fn from_model(obj: &serde_json::Value, notes: &mut Vec<String>) -> Self {
        let mut fields = Fields::default();
        for field in ProductField::ALL.into_iter().filter(|f| f.is_free_text()) {
            *fields.text_mut(field) = clean(obj.get(field.name()));
        }
        if let Some(raw) = clean(obj.get(ProductField::ApprovalNumber.name())) {
            match normalize_approval_number(&raw) {
                Some(ok) => fields.approval_number = Some(ok),
                None => notes.push(format!(
                    "approval_number: {raw:?} is not 国药准字 + H/Z/S/J/B/T/F + 8 digits; dropped"
                )),
            }
        }
        if let Some(raw) = clean(obj.get(ProductField::Barcode.name())) {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            if valid_gtin(&digits) {
                fields.barcode = Some(digits);
            } else {
                notes.push(format!(
                    "barcode: {raw:?} is not a valid EAN/UPC number; dropped"
                ));
            }
        }
        fields.production_date = read_date(obj, "production_date", DateEnd::Start, notes);
        fields.expiry_date = read_date(obj, "expiry_date", DateEnd::End, notes);
        if let (Some(p), Some(e)) = (fields.production_date, fields.expiry_date)
            && p > e
        {
            notes.push(format!(
                "production_date {p} is after expiry_date {e}; both dropped as misread"
            ));
            fields.production_date = None;
            fields.expiry_date = None;
        }
        fields
    }
}

/// `国药准字H20051234` (spaces and a lower-case letter tolerated), else `None`.
pub fn normalize_approval_number(raw: &str) -> Option<String> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = compact.strip_prefix("国药准字")?;
    let mut chars = rest.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let digits: String = chars.collect();
    ("HZSJBTF".contains(letter) && digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("国药准字{letter}{digits}"))
}

/// EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a correct check digit.
pub fn valid_gtin(digits: &str) -> bool {
    if !matches!(digits.len(), 8 | 12 | 13 | 14) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let (body, check) = values.split_at(values.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

#[derive(Clone, Copy)]
enum DateEnd {
    /// A production month is read as its first day.
    Start,
    /// An expiry month is read as its last day.
    End,
}

fn read_date(
    obj: &serde_json::Value,
    field: &str,
    end: DateEnd,
    notes: &mut Vec<String>,
) -> Option<NaiveDate> {
    let raw = clean(obj.get(field))?;
    match parse_printed_date(&raw) {
        Some(PrintedDate::Day(d)) if plausible(d) => {
            if raw != d.to_string() {
                notes.push(format!("{field}: {raw:?} read as {d}"));
            }
            Some(d)
        }
        Some(PrintedDate::Month(y, m)) => {
            let d = match end {
                DateEnd::Start => NaiveDate::from_ymd_opt(y, m, 1),
                DateEnd::End => last_day_of_month(y, m),
            }
            .filter(|d| plausible(*d))?;
            let how = match end {
                DateEnd::Start => "the first day of that month",
                DateEnd::End => "the last day of that month",
            };
            notes.push(format!(
                "{field}: {raw:?} is given to the month; read as {d}, {how}"
            ));
            Some(d)
        }
        _ => {
            notes.push(format!("{field}: {raw:?} is not a real date; dropped"));
            None
        }
    }
}

fn plausible(d: NaiveDate) -> bool {
    (1990..=2100).contains(&d.year())
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

#[derive(Debug, PartialEq)]
pub enum PrintedDate {
    Day(NaiveDate),
    Month(i32, u32),
}

/// Dates as printed on boxes: `2027-10-06`, `2027.10.06`, `2027/10/06`, `20271006`,
/// `2027年10月06日`, and month-only forms `2027.10`, `2027-10`, `202710`, `2027年10月`.
pub fn parse_printed_date(raw: &str) -> Option<PrintedDate> {
    let groups: Vec<&str> = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = match groups.as_slice() {
        [one] if one.len() == 8 => (num(&one[..4])?, num(&one[4..6])?, Some(num(&one[6..])?)),
        [one] if one.len() == 6 => (num(&one[..4])?, num(&one[4..])?, None),
        [y, m] if y.len() == 4 && m.len() <= 2 => (num(y)?, num(m)?, None),
        [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => {
            (num(y)?, num(m)?, Some(num(d)?))
        }
        _ => return None,
    };
    let year = i32::try_from(y).ok()?;
    if !(1..=12).contains(&m) {
        return None;
    }
    match d {
        Some(d) => NaiveDate::from_ymd_opt(year, m, d).map(PrintedDate::Day),
        None => Some(PrintedDate::Month(year, m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn printed_dates() {
        for raw in [
            "2027-10-06",
            "2027.10.06",
            "2027/10/6",
            "20271006",
            "2027年10月06日",
        ] {
            assert_eq!(
                parse_printed_date(raw),
                Some(PrintedDate::Day(day("2027-10-06"))),
                "{raw}"
            );
        }
        for raw in ["2027.10", "2027-10", "202710", "2027年10月"] {
            assert_eq!(
                parse_printed_date(raw),
                Some(PrintedDate::Month(2027, 10)),
                "{raw}"
            );
        }
        assert_eq!(parse_printed_date("2027-02-30"), None);
        assert_eq!(parse_printed_date("2027-13"), None);
        assert_eq!(parse_printed_date("三年"), None);
    }

    #[test]
    fn the_fields_are_every_product_field_and_the_dates() {
        let json = serde_json::to_value(Fields::default()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: Vec<&str> = ProductField::ALL.iter().map(|f| f.name()).collect();
        expected.extend(Fields::default().dates().map(|(name, _)| name));
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn model_fields_are_validated_and_notes_say_how() {
        let obj = serde_json::json!({
            "name": " 医用棉签 ", "brand": "未知", "approval_number": "国药准字 z 12345678",
            "barcode": "6950715599358", "production_date": "2024.10",
            "expiry_date": "2027年10月", "batch_number": null
        });
        let mut notes = Vec::new();
        let f = Fields::from_model(&obj, &mut notes);
        assert_eq!(f.name.as_deref(), Some("医用棉签"));
        assert_eq!(f.brand, None);
        assert_eq!(f.approval_number.as_deref(), Some("国药准字Z12345678"));
        assert_eq!(f.barcode.as_deref(), Some("6950715599358"));
        assert_eq!(f.production_date, Some(day("2024-10-01")));
        assert_eq!(f.expiry_date, Some(day("2027-10-31")));
        assert!(
            notes.iter().any(|n| n.contains("last day of that month")),
            "{notes:?}"
        );

        let bad = serde_json::json!({
            "approval_number": "国药准字X1234", "barcode": "6950715599350",
            "production_date": "2028-01-01", "expiry_date": "2027-01-01"
        });
        let mut notes = Vec::new();
        let f = Fields::from_model(&bad, &mut notes);
        assert_eq!((f.approval_number, f.barcode), (None, None));
        assert_eq!((f.production_date, f.expiry_date), (None, None));
        assert_eq!(notes.len(), 3, "{notes:?}");
    }
}
