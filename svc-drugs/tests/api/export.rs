//! The FHIR R4 export, validated against HL7's official JSON schema, and the printable
//! report for a doctor's visit.

use std::io::Read;
use std::sync::LazyLock;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let gz = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fhir/fhir.schema.json.gz"),
    )
    .unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft6::new(&schema).unwrap()
});

fn assert_valid_fhir(doc: &Value) {
    let errors: Vec<String> = SCHEMA
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "not valid FHIR R4:\n{}",
        errors.join("\n")
    );
}

/// A cabinet with a tapered plan (two doses taken, one skipped, one missed), an as-needed
/// plan taken once, and a drug named like markup.
async fn a_person_with_a_history(app: &TestApp) -> (uuid::Uuid, Value, Value) {
    let user = app.user("Asia/Shanghai").await;
    let warfarin = app
        .add_drug(
            user,
            json!({"name": "华法林钠片", "barcode": "6901234567892", "strength": "2.5mg"}),
        )
        .await;
    let ibuprofen = app
        .add_drug(
            user,
            json!({"name": "<b>布洛芬</b> & co", "generic_name": "布洛芬缓释胶囊"}),
        )
        .await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let res = app
        .post(user, "/api/v1/medications")
        .json(&json!({
            "drug_id": warfarin["id"], "dose": {"amount": 1, "unit": "片"},
            "schedule": {"times": ["08:00", "20:00"], "start_date": today - Duration::days(3),
                         "days_of_week": [1, 2, 3, 4, 5, 6, 7]},
            "phases": [{"days": 2, "amount": 2}, {"days": 30, "amount": 1}],
            "stock": 30
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let plan: Value = res.json().await.unwrap();
    let doses: Vec<Value> = app
        .get_as(
            user,
            &format!(
                "/api/v1/doses?from={}&to={}",
                today - Duration::days(3),
                today - Duration::days(2)
            ),
        )
        .await;
    assert_eq!(doses.len(), 4);
    for (dose, action) in doses.iter().zip(["taken", "taken", "skipped"]) {
        let res = app
            .post(
                user,
                &format!("/api/v1/doses/{}/{action}", dose["id"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // The fourth is marked missed as svc-scheduler would (windows of at most two days; each
    // marks doses before `before` less the 2-hour grace, so the second starts where the
    // first's marking ends, whatever the time of day).
    let now = Utc::now();
    let grace = Duration::hours(2);
    for (since, before) in [
        (now - Duration::days(4), now - Duration::days(2)),
        (now - Duration::days(2) - grace, now),
    ] {
        let res = app
            .post(user, "/internal/doses/mark-missed")
            .json(&json!({"since": since, "before": before}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app
        .post(user, "/api/v1/medications")
        .json(&json!({
            "drug_id": ibuprofen["id"], "dose": {"amount": 1, "unit": "粒"},
            "schedule": {"times": [], "start_date": today}, "as_needed": true,
            "prn": {"min_interval_minutes": 240, "max_per_24h": 4}
        }))
        .send()
        .await
        .unwrap();
    let prn: Value = res.json().await.unwrap();
    let res = app
        .post(
            user,
            &format!("/api/v1/medications/{}/take", prn["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    (user, plan, prn)
}

/// The query of the two days `a_person_with_a_history` recorded (three and two days ago).
fn the_two_days_of_history() -> String {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    format!(
        "?from={}&to={}",
        today - Duration::days(3),
        today - Duration::days(2)
    )
}

#[tokio::test]
async fn the_fhir_export_is_a_valid_r4_bundle_of_statements_and_administrations() {
    let app = spawn_app().await;
    let (user, plan, prn) = a_person_with_a_history(&app).await;
    let days = the_two_days_of_history();
    let res = app
        .get(user, &format!("/api/v1/export/fhir{days}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let bundle: Value = res.json().await.unwrap();
    assert_valid_fhir(&bundle);
    assert_eq!(bundle["type"], "collection");
    let resources: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    let of = |kind: &str| {
        resources
            .iter()
            .filter(|r| r["resourceType"] == kind)
            .count()
    };
    assert_eq!(of("Patient"), 1);
    assert_eq!(of("MedicationStatement"), 2);
    // Those two days: two taken, one skipped, one missed.
    assert_eq!(of("MedicationAdministration"), 4);
    let statement = resources.iter().find(|r| r["id"] == plan["id"]).unwrap();
    assert_eq!(
        statement["medicationCodeableConcept"]["coding"][0]["code"],
        "6901234567892"
    );
    assert_eq!(
        statement["dosage"].as_array().unwrap().len(),
        2,
        "the taper's two phases"
    );
    assert_eq!(
        statement["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"],
        2.0
    );
    assert_eq!(
        statement["dosage"][0]["timing"]["repeat"]["timeOfDay"],
        json!(["08:00:00", "20:00:00"])
    );
    let as_needed = resources.iter().find(|r| r["id"] == prn["id"]).unwrap();
    assert_eq!(as_needed["dosage"][0]["asNeededBoolean"], true);
    assert_eq!(
        as_needed["dosage"][0]["maxDosePerPeriod"]["numerator"]["value"],
        4.0
    );
    let statuses: Vec<&str> = resources
        .iter()
        .filter(|r| r["resourceType"] == "MedicationAdministration")
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "completed").count(), 2);
    assert_eq!(statuses.iter().filter(|s| **s == "not-done").count(), 2);
    // Today's as-needed dose, by default range (the last 30 days).
    let recent: Value = app.get_as(user, "/api/v1/export/fhir").await;
    assert_valid_fhir(&recent);
    let prn_reference = format!("urn:uuid:{}", prn["id"].as_str().unwrap());
    assert!(recent["entry"].as_array().unwrap().iter().any(|e| {
        e["resource"]["status"] == "completed"
            && e["resource"]["supportingInformation"][0]["reference"] == prn_reference.as_str()
    }));

    // The schema catches what is wrong: the test can fail.
    for (field, value) in [
        ("subject", Value::Null),
        ("effectivePeriod", json!({"start": "yesterday"})),
        ("dosage", json!([{"sequence": "one"}])),
    ] {
        let mut broken = bundle.clone();
        let statement = broken["entry"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["resource"]["resourceType"] == "MedicationStatement")
            .unwrap();
        match value {
            Value::Null => {
                statement["resource"].as_object_mut().unwrap().remove(field);
            }
            v => statement["resource"][field] = v,
        }
        assert!(SCHEMA.iter_errors(&broken).next().is_some(), "{field}");
    }

    // Bad ranges and parameters; another person's export holds nothing of this one.
    for q in [
        "?from=yesterday",
        "?from=2026-01-01&to=2026-12-01",
        "?lang=en",
        "?x=1",
    ] {
        let res = app
            .get(user, &format!("/api/v1/export/fhir{q}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
    }
    let stranger = app.user("Asia/Shanghai").await;
    let theirs: Value = app.get_as(stranger, "/api/v1/export/fhir").await;
    assert_valid_fhir(&theirs);
    assert_eq!(theirs["entry"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_doctor_report_prints_medicines_adherence_missed_doses_and_checks() {
    let app = spawn_app().await;
    let (user, _, _) = a_person_with_a_history(&app).await;
    let days = the_two_days_of_history();
    let res = app
        .get(user, &format!("/api/v1/export/report{days}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("用药报告"));
    assert!(page.contains("华法林钠片"));
    // The drug named like markup is text, never markup.
    assert!(page.contains("&lt;b&gt;布洛芬&lt;/b&gt; &amp; co"));
    assert!(!page.contains("<b>布洛芬"));
    // 2 taken of 4 due: one missed, one skipped; 50 %.
    assert!(page.contains("2 / 4"), "{page}");
    assert!(page.contains("1 · 1"));
    assert!(page.contains("50%"));
    assert!(page.contains("漏服") && page.contains("跳过"));
    // Warfarin with an NSAID, from the checks.
    assert!(page.contains("出血"));
    assert!(page.contains("@media print"));
    let en = app
        .get(user, &format!("/api/v1/export/report{days}&lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Medication report") && en.contains("Missed and skipped doses"));
    assert!(en.contains("bleeding"));
    let res = app
        .get(user, "/api/v1/export/report?lang=fr")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
}
