//! Contract fixtures (the UniLife originals' request bodies and answer shapes, under a
//! crate's `tests/fixtures/unilife/`) and a check that an answer has exactly the fields of a
//! shape, each of its kind: `null`, `string`, `integer`, `number`, `boolean`, `object`,
//! `array`, `datetime` (RFC 3339), `date`, `time` (`HH:MM`), `enum:A,B`; `a|b` for either.

use serde_json::Value;

/// The fixture `name` (file name with its extension) of the crate at `manifest_dir`.
pub fn fixture(manifest_dir: &str, name: &str) -> Value {
    let path = format!("{manifest_dir}/tests/fixtures/unilife/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn matches(kind: &str, v: &Value) -> bool {
    match kind {
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "datetime" => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "date" => v
            .as_str()
            .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        "time" => v
            .as_str()
            .is_some_and(|s| s.len() == 5 && chrono::NaiveTime::parse_from_str(s, "%H:%M").is_ok()),
        k => match k.strip_prefix("enum:") {
            Some(values) => v
                .as_str()
                .is_some_and(|s| values.split(',').any(|e| e == s)),
            None => panic!("unknown kind {k}"),
        },
    }
}

/// `body` has exactly the fields of `shape` (the fixture `name`), each of its type.
pub fn assert_shape(body: &Value, shape: &Value, name: &str) {
    let (Some(shape), Some(fields)) = (shape.as_object(), body.as_object()) else {
        panic!("{name}: not an object: {body}");
    };
    let mut want: Vec<_> = shape.keys().collect();
    let mut got: Vec<_> = fields.keys().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{name}: fields of {body}");
    for (field, kind) in shape {
        let kind = kind
            .as_str()
            .unwrap_or_else(|| panic!("{name}: the kind of {field} is not a string"));
        let v = &fields[field];
        assert!(
            kind.split('|').any(|k| matches(k, v)),
            "{name}: {field} should be {kind}, is {v}"
        );
    }
}
