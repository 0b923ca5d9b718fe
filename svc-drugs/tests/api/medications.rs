use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shared::entities::medication_plan;

use crate::helpers::*;

#[tokio::test]
async fn plans_expand_into_doses_and_actions_are_idempotent() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    let drug = app.add_drug(user, json!({"name": "阿司匹林肠溶片"})).await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let start = (today - Duration::days(2)).to_string();

    let res = app
        .post(user, "/api/v1/medications")
        .json(&json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"},
            "schedule": {"times": ["08:00", "20:00"], "start_date": start},
            "stock": 10, "low_stock_threshold": 9
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let plan: Value = res.json().await.unwrap();
    assert_eq!(plan["schedule"]["timezone"], "Asia/Shanghai");
    let plan_id: uuid::Uuid = plan["id"].as_str().unwrap().parse().unwrap();

    let doses: Value = app
        .get(user, &format!("/api/v1/doses?from={start}&to={today}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doses = doses.as_array().unwrap();
    assert_eq!(doses.len(), 6, "two a day for three days");
    assert!(
        doses[0]["scheduled_at"]
            .as_str()
            .unwrap()
            .ends_with("08:00:00+08:00")
    );
    assert_eq!(doses[0]["status"], "missed", "two days ago, never taken");
    let first = doses[0]["id"].as_str().unwrap().to_owned();
    let second = doses[1]["id"].as_str().unwrap().to_owned();

    // Taken twice, the stock goes down once.
    for _ in 0..2 {
        let res = app
            .post(user, &format!("/api/v1/doses/{first}/taken"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let dose: Value = res.json().await.unwrap();
        assert_eq!(dose["status"], "taken");
    }
    let stock = medication_plan::Entity::find_by_id(plan_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .stock;
    assert_eq!(stock, Some(9.0));
    // Low stock now (9 ≤ 9): the internal route lists it.
    let low: Value = app
        .get(user, "/internal/low-stock")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        low.as_array()
            .unwrap()
            .iter()
            .any(|p| p["plan_id"] == plan_id.to_string())
    );
    // Skipping a taken dose gives the stock back; snoozing is recorded.
    let res = app
        .post(user, &format!("/api/v1/doses/{first}/skipped"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stock = medication_plan::Entity::find_by_id(plan_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .stock;
    assert_eq!(stock, Some(10.0));
    let res = app
        .post(user, &format!("/api/v1/doses/{second}/snooze"))
        .json(&json!({"minutes": 15}))
        .send()
        .await
        .unwrap();
    let snoozed: Value = res.json().await.unwrap();
    assert_eq!(snoozed["status"], "snoozed");
    assert!(snoozed["snoozed_until"].is_string());
    let res = app
        .post(user, &format!("/api/v1/doses/{second}/taken"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Adherence over the range.
    let adh: Value = app
        .get(
            user,
            &format!("/api/v1/medications/adherence?from={start}&to={today}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(adh["total"]["scheduled"], 6);
    assert_eq!(adh["total"]["taken"], 1);
    assert_eq!(adh["total"]["skipped"], 1);

    // A dose that does not exist, someone else's dose, an unknown action.
    let other = app.user("UTC").await;
    let bogus = format!("{plan_id}_{}", Utc::now().timestamp() + 17);
    for (who, path) in [
        (user, format!("/api/v1/doses/{bogus}/taken")),
        (other, format!("/api/v1/doses/{first}/taken")),
        (user, "/api/v1/doses/nonsense/taken".to_owned()),
    ] {
        let res = app.post(who, &path).send().await.unwrap();
        assert_eq!(
            assert_envelope(res, StatusCode::NOT_FOUND).await,
            "dose_not_found"
        );
    }
    let res = app
        .post(user, &format!("/api/v1/doses/{first}/eaten"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .get(other, &format!("/api/v1/medications/{plan_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::NOT_FOUND).await,
        "medication_not_found"
    );

    // Validation.
    for body in [
        json!({"drug_id": drug["id"], "dose": {"amount": 0, "unit": "片"}, "schedule": {"times": ["08:00"], "start_date": start}}),
        json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"}, "schedule": {"times": ["8 o'clock"], "start_date": start}}),
        json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"}, "schedule": {"times": ["08:00"], "start_date": start, "timezone": "Mars/Olympus"}}),
        json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"}, "schedule": {"times": ["08:00"], "start_date": start, "days_of_week": [0]}}),
        json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"}, "schedule": {"times": ["08:00"], "start_date": start, "end_date": "2000-01-01"}}),
    ] {
        let res = app
            .post(user, "/api/v1/medications")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // Another user's drug cannot be planned.
    let res = app
        .post(other, "/api/v1/medications")
        .json(&json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"}, "schedule": {"times": ["08:00"], "start_date": start}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn doses_follow_the_plans_time_zone_across_a_dst_change() {
    let app = spawn_app().await;
    let user = app.user("America/New_York").await;
    let drug = app.add_drug(user, json!({"name": "Metformin"})).await;
    let res = app
        .post(user, "/api/v1/medications")
        .json(&json!({
            "drug_id": drug["id"], "dose": {"amount": 500, "unit": "mg"},
            "schedule": {"times": ["08:00"], "start_date": "2026-03-06", "end_date": "2026-03-09"},
            "phases": [{"days": 2, "amount": 1000}, {"days": 2, "amount": 500}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let doses: Value = app
        .get(user, "/api/v1/doses?from=2026-03-06&to=2026-03-09")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<(String, f64)> = doses
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["scheduled_at"].as_str().unwrap().to_owned(),
                d["amount"].as_f64().unwrap(),
            )
        })
        .collect();
    // 08:00 local every day: UTC−5 before the change on 8 March, UTC−4 after; the taper halves
    // the amount after two days.
    assert_eq!(
        got,
        [
            ("2026-03-06T08:00:00-05:00".to_owned(), 1000.0),
            ("2026-03-07T08:00:00-05:00".to_owned(), 1000.0),
            ("2026-03-08T08:00:00-04:00".to_owned(), 500.0),
            ("2026-03-09T08:00:00-04:00".to_owned(), 500.0),
        ]
    );

    // The scheduler's view: doses due in a UTC window, across users.
    let due: Value = app
        .get(
            user,
            "/internal/doses/due?from=2026-03-08T11:59:00Z&to=2026-03-08T12:01:00Z",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let due = due.as_array().unwrap_or_else(|| panic!("{due}"));
    assert_eq!(due.len(), 1);
    assert_eq!(due[0]["user_id"], user.to_string());
    // Marking missed is once per dose: a retried call returns nothing new.
    let body = json!({"since": "2026-03-08T00:00:00Z", "before": "2026-03-10T00:00:00Z"});
    let first: Value = app
        .post(user, "/internal/doses/mark-missed")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        first.as_array().unwrap_or_else(|| panic!("{first}")).len(),
        2
    );
    let doses: Value = app
        .get(user, "/api/v1/doses?from=2026-03-08&to=2026-03-09")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doses
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "missed" && d["acted_at"].is_string())
    );
    let again: Value = app
        .post(user, "/internal/doses/mark-missed")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again.as_array().unwrap().len(), 0);
}
