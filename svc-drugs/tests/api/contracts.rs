//! The internal answers read as the `shared::contracts` types their callers use.

use chrono::{Duration, NaiveTime, Utc};
use reqwest::StatusCode;
use serde_json::json;
use shared::contracts::{CabinetDrug, DoseStatus, ExpiryStatus, LowStock, MarkMissed, UserDose};

use crate::helpers::*;

#[tokio::test]
async fn internal_answers_read_as_the_shared_contracts() {
    let app = spawn_app().await;
    let user = app.user("UTC").await;
    let now = Utc::now();
    let today = now.date_naive();
    let drug = app
        .add_drug(
            user,
            json!({"name": "布洛芬", "expiry_date": (today + Duration::days(3)).to_string()}),
        )
        .await;
    let res = app
        .post(user, "/api/v1/medications")
        .json(&json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"},
            "schedule": {"times": ["00:00", "06:00", "12:00", "18:00"],
                         "start_date": (today - Duration::days(2)).to_string()},
            "stock": 1, "low_stock_threshold": 5
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // svc-chat's cabinet and the expiring drugs (svc-scheduler, svc-chat).
    let cabinet: Vec<CabinetDrug> = app.get_as(user, "/internal/cabinet").await;
    assert_eq!(cabinet.len(), 1);
    assert_eq!(cabinet[0].name, "布洛芬");
    assert_eq!(cabinet[0].status, ExpiryStatus::Expiring);
    assert_eq!(cabinet[0].days_to_expiry, Some(3));
    let expiring: Vec<CabinetDrug> = app
        .get_as(user, &format!("/internal/users/{user}/expiring"))
        .await;
    assert_eq!(expiring, cabinet);

    // Low stock.
    let low: Vec<LowStock> = app.get_as(user, "/internal/low-stock").await;
    assert_eq!(low.len(), 1);
    assert_eq!(
        (low[0].user_id, low[0].stock, low[0].unit.as_str()),
        (user, Some(1.0), "片")
    );

    // Due: tomorrow's noon dose, in a window around it.
    let noon = (today + Duration::days(1))
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc();
    let window = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let due: Vec<UserDose> = app
        .get_as(
            user,
            &format!(
                "/internal/doses/due?from={}&to={}",
                window(noon - Duration::minutes(1)),
                window(noon + Duration::minutes(1))
            ),
        )
        .await;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].user_id, user);
    assert_eq!(due[0].dose.status, DoseStatus::Due);
    assert_eq!(due[0].dose.local_time, "12:00");

    // Missed: every dose of the day before two hours ago, marked once.
    let body = MarkMissed {
        before: now,
        since: now - Duration::hours(26),
    };
    let res = app
        .post(user, "/internal/doses/mark-missed")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let missed: Vec<UserDose> = res.json().await.unwrap();
    assert!(!missed.is_empty());
    assert!(
        missed
            .iter()
            .all(|d| d.user_id == user && d.dose.status == DoseStatus::Missed),
        "{missed:?}"
    );
}
