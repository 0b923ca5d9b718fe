//! The UniLife app's account fields: phone, preferences, energy profile. Defaults are the
//! original backend's.

use serde_json::{Map, Value, json};

use super::account::Invalid;

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

const MAX_JSON_BYTES: usize = 16 * 1024;

/// A phone number as people write it: digits with `+`, spaces, dashes, dots or parentheses.
#[derive(Debug, Clone)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let phone = raw.trim();
        let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if phone.chars().count() > 32 || digits < 3 || !phone.chars().all(allowed) {
            return Err(invalid(
                "phone must be a phone number (digits, +, spaces, dashes; at most 32 characters)",
            ));
        }
        Ok(Self(phone.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The app's preferences with the original's defaults, and how each known key is checked.
const PREFERENCE_DEFAULTS: &[(&str, PreferenceKind)] = &[
    ("notification_enabled", PreferenceKind::Flag(true)),
    ("auto_schedule_enabled", PreferenceKind::Flag(true)),
    ("energy_based_scheduling", PreferenceKind::Flag(true)),
    ("working_hours_start", PreferenceKind::Hour(9)),
    ("working_hours_end", PreferenceKind::Hour(18)),
];

#[derive(Clone, Copy)]
enum PreferenceKind {
    Flag(bool),
    Hour(u8),
}

/// The preferences as answered: the original's defaults, overlaid with what is stored (our
/// own keys, such as `expiry_warning_days`, included).
pub fn preferences_view(stored: &Value) -> Value {
    let mut view: Map<String, Value> = PREFERENCE_DEFAULTS
        .iter()
        .map(|(key, kind)| {
            let value = match kind {
                PreferenceKind::Flag(b) => json!(b),
                PreferenceKind::Hour(h) => json!(h),
            };
            ((*key).to_owned(), value)
        })
        .collect();
    if let Some(stored) = stored.as_object() {
        view.extend(stored.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Object(view)
}

/// Client preferences: a JSON object of bounded size, whose known keys have their types.
#[derive(Debug, Clone)]
pub struct Preferences(Map<String, Value>);

impl Preferences {
    pub fn parse(raw: Value) -> Result<Self, Invalid> {
        let Value::Object(map) = raw else {
            return Err(invalid("preferences must be a JSON object"));
        };
        for (key, kind) in PREFERENCE_DEFAULTS {
            match (map.get(*key), kind) {
                (None | Some(Value::Null), _) | (Some(Value::Bool(_)), PreferenceKind::Flag(_)) => {
                }
                (Some(v), PreferenceKind::Hour(_)) if v.as_u64().is_some_and(|h| h <= 24) => {}
                (Some(_), PreferenceKind::Flag(_)) => {
                    return Err(invalid(format!("preferences.{key} must be true or false")));
                }
                (Some(_), PreferenceKind::Hour(_)) => {
                    return Err(invalid(format!(
                        "preferences.{key} must be an hour from 0 to 24"
                    )));
                }
            }
        }
        // Our own keys: read by svc-drugs (the expiry warning) and the web console (language).
        match map.get("expiry_warning_days") {
            None | Some(Value::Null) => {}
            Some(v) if v.as_u64().is_some_and(|d| d <= 3650) => {}
            Some(_) => {
                return Err(invalid(
                    "preferences.expiry_warning_days must be a whole number of days from 0 to 3650",
                ));
            }
        }
        match map.get("language") {
            None | Some(Value::Null) => {}
            Some(Value::String(lang)) if lang == "zh-CN" || lang == "en" => {}
            Some(_) => return Err(invalid("preferences.language must be \"zh-CN\" or \"en\"")),
        }
        if Value::Object(map.clone()).to_string().len() > MAX_JSON_BYTES {
            return Err(invalid("preferences must be at most 16 KiB"));
        }
        Ok(Self(map))
    }

    /// The stored preferences with these merged in: keys sent replace the stored ones, a key
    /// sent as `null` is removed, others stay.
    pub fn merge_into(self, stored: &Value) -> Result<Value, Invalid> {
        let mut merged = stored.as_object().cloned().unwrap_or_default();
        for (key, value) in self.0 {
            if value.is_null() {
                merged.remove(&key);
            } else {
                merged.insert(key, value);
            }
        }
        let merged = Value::Object(merged);
        if merged.to_string().len() > MAX_JSON_BYTES {
            return Err(invalid("preferences must be at most 16 KiB"));
        }
        Ok(merged)
    }
}

/// The original's default energy profile.
pub fn default_energy_profile() -> Value {
    json!({
        "hourly_baseline": {
            "6": 40, "7": 50, "8": 70, "9": 80, "10": 90, "11": 85,
            "12": 70, "13": 65, "14": 60, "15": 70, "16": 75, "17": 65,
            "18": 60, "19": 55, "20": 50, "21": 40, "22": 30, "23": 20
        },
        "task_energy_cost": {
            "deep_work": -20, "meeting": -10, "study": -15,
            "break": 15, "coffee": 10, "sleep": 100
        },
        "learned_adjustments": {}
    })
}

/// The energy profile as answered: each part stored, or the default.
pub fn energy_profile_view(stored: Option<&Value>) -> Value {
    let mut view = default_energy_profile();
    if let (Some(Value::Object(stored)), Value::Object(view)) = (stored, &mut view) {
        for part in ["hourly_baseline", "task_energy_cost", "learned_adjustments"] {
            if let Some(value @ Value::Object(_)) = stored.get(part) {
                view.insert(part.to_owned(), value.clone());
            }
        }
    }
    view
}

/// `hourly_baseline`: hour of day (0–23, as a JSON key) → energy 0–100.
pub fn hourly_baseline(raw: Map<String, Value>) -> Result<Value, Invalid> {
    let mut out = Map::new();
    for (hour, value) in raw {
        let h: u8 = hour
            .trim()
            .parse()
            .ok()
            .filter(|h| *h <= 23)
            .ok_or_else(|| {
                invalid(format!(
                    "hourly_baseline keys must be hours from 0 to 23, not {hour:?}"
                ))
            })?;
        let energy = value
            .as_i64()
            .filter(|e| (0..=100).contains(e))
            .ok_or_else(|| {
                invalid(format!(
                    "hourly_baseline[{h}] must be a whole number from 0 to 100"
                ))
            })?;
        out.insert(h.to_string(), json!(energy));
    }
    Ok(Value::Object(out))
}

/// `task_energy_cost`: task type → energy change, −100 to 100.
pub fn task_energy_cost(raw: Map<String, Value>) -> Result<Value, Invalid> {
    if raw.len() > 64 {
        return Err(invalid("task_energy_cost may have at most 64 task types"));
    }
    let mut out = Map::new();
    for (task, value) in raw {
        let name = task.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(invalid(
                "task_energy_cost keys must be task names of 1 to 64 characters",
            ));
        }
        let cost = value
            .as_i64()
            .filter(|c| (-100..=100).contains(c))
            .ok_or_else(|| {
                invalid(format!(
                    "task_energy_cost[{name:?}] must be a whole number from -100 to 100"
                ))
            })?;
        out.insert(name.to_owned(), json!(cost));
    }
    Ok(Value::Object(out))
}

/// `learned_adjustments`: any JSON object of bounded size.
pub fn learned_adjustments(raw: Map<String, Value>) -> Result<Value, Invalid> {
    let value = Value::Object(raw);
    if value.to_string().len() > MAX_JSON_BYTES {
        return Err(invalid("learned_adjustments must be at most 16 KiB"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked() {
        assert_eq!(
            Phone::parse(" +86 138-0013-8000 ").unwrap().into_inner(),
            "+86 138-0013-8000"
        );
        for bad in ["", "12", "call me", "+1 555 0100 ext. 5", &"1".repeat(33)] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn preferences_keep_the_originals_defaults_under_what_is_stored() {
        let view = preferences_view(&json!({"working_hours_start": 8, "theme": "dark"}));
        assert_eq!(view["working_hours_start"], 8);
        assert_eq!(view["working_hours_end"], 18);
        assert_eq!(view["notification_enabled"], true);
        assert_eq!(view["theme"], "dark");
    }

    #[test]
    fn preferences_merge_and_check_their_known_keys() {
        let stored = json!({"theme": "dark", "working_hours_start": 8});
        let merged = Preferences::parse(json!({"notification_enabled": false, "theme": null}))
            .unwrap()
            .merge_into(&stored)
            .unwrap();
        assert_eq!(
            merged,
            json!({"working_hours_start": 8, "notification_enabled": false})
        );
        assert!(Preferences::parse(json!({"working_hours_end": 25})).is_err());
        assert!(Preferences::parse(json!({"working_hours_end": -1})).is_err());
        assert!(Preferences::parse(json!({"notification_enabled": "yes"})).is_err());
        assert!(Preferences::parse(json!([1])).is_err());
    }

    #[test]
    fn energy_parts_are_range_checked_and_hours_normalised() {
        let mut raw = Map::new();
        raw.insert("09".into(), json!(80));
        assert_eq!(hourly_baseline(raw).unwrap(), json!({"9": 80}));
        let mut raw = Map::new();
        raw.insert("24".into(), json!(80));
        assert!(hourly_baseline(raw).is_err());
        let mut raw = Map::new();
        raw.insert("9".into(), json!(101));
        assert!(hourly_baseline(raw).is_err());
        let mut raw = Map::new();
        raw.insert("nap".into(), json!(-101));
        assert!(task_energy_cost(raw).is_err());
        assert_eq!(
            energy_profile_view(Some(&json!({"task_energy_cost": {"nap": 5}})))["task_energy_cost"],
            json!({"nap": 5})
        );
        assert_eq!(energy_profile_view(None)["hourly_baseline"]["6"], 40);
    }
}
