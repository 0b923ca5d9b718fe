//! The UniLife app's contract: fixtures written from the original backend's pydantic schemas
//! (`tests/fixtures/unilife/`), and a check of an answer against the original's field names,
//! JSON types and enum values.

use serde_json::Value;

pub fn fixture(name: &str) -> Value {
    crate::shape::fixture(&format!("{name}.json"))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every field the spec names is present with one of its types (an integer is a number too).
pub fn check_fields(what: &str, value: &Value, spec: &Value) {
    let obj = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {value}"));
    for (field, types) in spec.as_object().unwrap() {
        let got = obj
            .get(field)
            .unwrap_or_else(|| panic!("{what}: field {field} missing in {value}"));
        let t = json_type(got);
        let allowed: Vec<&str> = types
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            allowed.contains(&t) || (t == "integer" && allowed.contains(&"number")),
            "{what}: {field} is {t} ({got}), the app expects {allowed:?}"
        );
    }
}

/// An event as the original's `EventResponse`: fields, types, enum values, and times that
/// carry their offset.
pub fn check_event(value: &Value) {
    let spec = fixture("event_response");
    check_fields("event", value, &spec["fields"]);
    for (field, values) in spec["enums"].as_object().unwrap() {
        let got = &value[field];
        if got.is_null() {
            continue;
        }
        assert!(
            values.as_array().unwrap().contains(got),
            "event: {field} = {got} is not one of {values}"
        );
    }
    for field in spec["times"].as_array().unwrap() {
        if let Some(t) = value[field.as_str().unwrap()].as_str() {
            assert!(
                chrono::DateTime::parse_from_rfc3339(t).is_ok(),
                "event: {field} = {t:?} is not ISO 8601 with an offset"
            );
        }
    }
    let confidence = value["ai_confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
}
