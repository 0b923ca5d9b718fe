//! The FHIR R4 Bundle (type `collection`): the person as a `Patient` (their id only), a
//! `MedicationStatement` per plan (dosage with its timing, taper phases in sequence,
//! as-needed limits) and a `MedicationAdministration` per recorded dose (taken: completed;
//! skipped or missed: not-done), each naming its drug by text and, when known, its GTIN.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use shared::entities::{dose_log, medication_plan};
use uuid::Uuid;

use super::Gathered;
use crate::domain::dose::LogStatus;
use crate::domain::schedule::Phase;
use crate::plans::plan_of;

const GTIN_SYSTEM: &str = "https://www.gs1.org/gtin";
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn medication(g: &Gathered, drug: Uuid) -> Value {
    let d = g.drug(drug);
    let text = d.map_or_else(|| "unknown".to_owned(), |d| d.name.clone());
    let mut concept = json!({ "text": text });
    // A GTIN only when the barcode is one (a photo may have given other text).
    if let Some(code) = d
        .and_then(|d| d.barcode.clone())
        .filter(|c| matches!(c.len(), 8 | 12 | 13 | 14) && crate::domain::codes::check_digit_ok(c))
    {
        concept["coding"] = json!([{ "system": GTIN_SYSTEM, "code": code, "display": text }]);
    }
    concept
}

fn quantity(value: f64, unit: &str) -> Value {
    json!({ "value": value, "unit": unit })
}

fn statement(g: &Gathered, m: &medication_plan::Model, now: DateTime<Utc>) -> Value {
    let plan = plan_of(m);
    let today = now.with_timezone(&plan.timezone).date_naive();
    let status = if m.start_date > today {
        "intended"
    } else if m.end_date.is_some_and(|e| e < today) {
        "completed"
    } else {
        "active"
    };
    let mut repeat = json!({});
    let times: Vec<String> = plan
        .times
        .iter()
        .map(|t| t.format("%H:%M:%S").to_string())
        .collect();
    if !times.is_empty() {
        repeat["timeOfDay"] = json!(times);
    }
    if let Some(days) = &plan.days_of_week {
        repeat["dayOfWeek"] = json!(
            days.iter()
                .filter_map(|d| DAYS.get((*d as usize).wrapping_sub(1)))
                .collect::<Vec<_>>()
        );
    }
    if let Some(n) = plan.every_n_days.filter(|n| *n > 1) {
        repeat["frequency"] = json!(1);
        repeat["period"] = json!(n);
        repeat["periodUnit"] = json!("d");
    }
    let unit = m.dose_unit.as_str();
    let text = |amount: f64| {
        if m.as_needed {
            format!("{amount} {unit} as needed")
        } else {
            format!("{amount} {unit} at {}", times.join(", "))
        }
    };
    let mut dosage: Vec<Value> = match &plan.phases {
        Some(phases) if !phases.is_empty() => {
            let mut start = m.start_date;
            phases
                .iter()
                .enumerate()
                .map(|(i, Phase { days, amount })| {
                    let end = start + Duration::days(i64::from(*days) - 1);
                    let mut r = repeat.clone();
                    r["boundsPeriod"] =
                        json!({ "start": start.to_string(), "end": end.to_string() });
                    start = end + Duration::days(1);
                    json!({
                        "sequence": i + 1,
                        "text": text(*amount),
                        "timing": { "repeat": r },
                        "doseAndRate": [{ "doseQuantity": quantity(*amount, unit) }],
                    })
                })
                .collect()
        }
        _ => vec![json!({
            "sequence": 1,
            "text": text(m.dose_amount),
            "doseAndRate": [{ "doseQuantity": quantity(m.dose_amount, unit) }],
        })],
    };
    for d in &mut dosage {
        if m.as_needed {
            d["asNeededBoolean"] = json!(true);
            if let Some(max) = m.max_per_24h {
                d["maxDosePerPeriod"] = json!({
                    "numerator": quantity(max, unit),
                    "denominator": { "value": 24, "unit": "h", "system": "http://unitsofmeasure.org", "code": "h" },
                });
            }
        } else if d.get("timing").is_none() {
            d["timing"] = json!({ "repeat": repeat });
        }
    }
    let mut period = json!({ "start": m.start_date.to_string() });
    if let Some(end) = m.end_date {
        period["end"] = json!(end.to_string());
    }
    json!({
        "resourceType": "MedicationStatement",
        "id": m.id.to_string(),
        "status": status,
        "medicationCodeableConcept": medication(g, m.drug_id),
        "subject": { "reference": format!("urn:uuid:{}", g.user) },
        "effectivePeriod": period,
        "dateAsserted": instant(now),
        "dosage": dosage,
    })
}

fn administration(
    g: &Gathered,
    m: &medication_plan::Model,
    log: &dose_log::Model,
) -> Option<Value> {
    let status = LogStatus::parse(&log.status)?;
    let (fhir_status, reason, at) = match status {
        LogStatus::Taken => ("completed", None, log.acted_at),
        LogStatus::Skipped => ("not-done", Some("skipped"), log.scheduled_at),
        LogStatus::Missed => ("not-done", Some("missed"), log.scheduled_at),
        LogStatus::Snoozed => return None,
    };
    let mut r = json!({
        "resourceType": "MedicationAdministration",
        "id": log.id.to_string(),
        "status": fhir_status,
        "medicationCodeableConcept": medication(g, m.drug_id),
        "subject": { "reference": format!("urn:uuid:{}", g.user) },
        "effectiveDateTime": instant(at),
        "supportingInformation": [{ "reference": format!("urn:uuid:{}", m.id) }],
        "dosage": { "dose": quantity(log.amount, &m.dose_unit) },
    });
    if let Some(reason) = reason {
        r["statusReason"] = json!([{ "text": reason }]);
    }
    Some(r)
}

pub fn bundle(g: &Gathered, now: DateTime<Utc>) -> Value {
    let mut entries = vec![json!({
        "resourceType": "Patient",
        "id": g.user.to_string(),
    })];
    entries.extend(g.plans.iter().map(|m| statement(g, m, now)));
    let mut logs: Vec<&dose_log::Model> = g.logs.iter().collect();
    logs.sort_by_key(|l| l.scheduled_at);
    for log in logs {
        if let Some(m) = g.plans.iter().find(|p| p.id == log.plan_id)
            && let Some(a) = administration(g, m, log)
        {
            entries.push(a);
        }
    }
    json!({
        "resourceType": "Bundle",
        "id": Uuid::now_v7().to_string(),
        "meta": { "lastUpdated": instant(now) },
        "type": "collection",
        "timestamp": instant(now),
        "entry": entries
            .into_iter()
            .map(|resource| json!({
                "fullUrl": format!("urn:uuid:{}", resource["id"].as_str().unwrap_or_default()),
                "resource": resource,
            }))
            .collect::<Vec<_>>(),
    })
}
