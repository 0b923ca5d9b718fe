use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn crud_search_status_and_ownership() {
    let app = spawn_app().await;
    let alice = app.user("Asia/Shanghai").await;
    let bob = app.user("America/New_York").await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let d = |days: i64| (today + Duration::days(days)).to_string();

    let expired = app
        .add_drug(
            alice,
            json!({"name": "阿莫西林胶囊", "manufacturer": "华北制药", "expiry_date": d(-1)}),
        )
        .await;
    let soon = app
        .add_drug(alice, json!({"name": "布洛芬缓释胶囊", "brand": "芬必得", "expiry_date": d(30), "quantity": 20, "unit": "粒"}))
        .await;
    let fine = app
        .add_drug(
            alice,
            json!({"name": "维生素C 100%_pure", "expiry_date": d(31)}),
        )
        .await;
    let unknown = app.add_drug(alice, json!({"name": "创可贴"})).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["days_to_expiry"], -1);
    assert_eq!(soon["status"], "expiring");
    assert_eq!(soon["quantity"], 20.0);
    assert_eq!(fine["status"], "ok");
    assert_eq!(unknown["status"], "unknown");

    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Substring search on name, brand and maker, Chinese included.
    let res: Value = app
        .get(alice, "/api/v1/drugs?q=芬必得")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&res), ["布洛芬缓释胶囊"]);
    let res: Value = app
        .get(alice, "/api/v1/drugs?q=华北")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&res), ["阿莫西林胶囊"]);
    // `%` and `_` are literal.
    let res: Value = app
        .get(alice, "/api/v1/drugs?q=%25")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&res), ["维生素C 100%_pure"]);
    let res: Value = app
        .get(alice, "/api/v1/drugs?q=_")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&res), ["维生素C 100%_pure"]);
    // Status filter and sort.
    let res: Value = app
        .get(alice, "/api/v1/drugs?status=expiring")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&res), ["布洛芬缓释胶囊"]);
    let res: Value = app
        .get(alice, "/api/v1/drugs?sort=expiry_date")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        names(&res),
        [
            "阿莫西林胶囊",
            "布洛芬缓释胶囊",
            "维生素C 100%_pure",
            "创可贴"
        ]
    );
    // Paging with a cursor.
    let page: Value = app
        .get(alice, "/api/v1/drugs?limit=3")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 4);
    assert_eq!(names(&page).len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(alice, &format!("/api/v1/drugs?limit=3&cursor={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&rest).len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    // Expiring within 30 days, expired included, soonest first.
    let res: Value = app
        .get(alice, "/api/v1/drugs/expiring?days=30")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<&str> = res
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["阿莫西林胶囊", "布洛芬缓释胶囊"]);

    // Update: partial, null clears.
    let id = soon["id"].as_str().unwrap();
    let res = app
        .put(alice, &format!("/api/v1/drugs/{id}"))
        .json(&json!({"brand": null, "quantity": 18}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["brand"], Value::Null);
    assert_eq!(updated["quantity"], 18.0);
    assert_eq!(updated["name"], "布洛芬缓释胶囊");

    // Bob sees none of it: 404 on every route, and his list is empty.
    for res in [
        app.get(bob, &format!("/api/v1/drugs/{id}"))
            .send()
            .await
            .unwrap(),
        app.put(bob, &format!("/api/v1/drugs/{id}"))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
        app.delete(bob, &format!("/api/v1/drugs/{id}"))
            .send()
            .await
            .unwrap(),
    ] {
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["code"], "drug_not_found");
    }
    let res: Value = app
        .get(bob, "/api/v1/drugs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["total"], 0);

    // Validation.
    for (body, what) in [
        (json!({}), "name is required"),
        (
            json!({"name": "x", "production_date": d(10), "expiry_date": d(1)}),
            "after",
        ),
        (
            json!({"name": "x", "approval_number": "国药准字X123"}),
            "approval_number",
        ),
        (
            json!({"name": "x", "barcode": "6950715599350"}),
            "check digit",
        ),
        (json!({"name": "x", "expiry_date": "2027-02-30"}), ""),
        (json!({"name": "x", "colour": "red"}), ""),
    ] {
        let res = app
            .post(alice, "/api/v1/drugs")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let env: Value = res.json().await.unwrap();
        assert!(env["message"].as_str().unwrap().contains(what), "{env}");
    }
    let res = app
        .get(alice, "/api/v1/drugs?status=old")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .get(alice, "/api/v1/drugs/not-a-uuid")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Delete.
    let res = app
        .delete(alice, &format!("/api/v1/drugs/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .get(alice, &format!("/api/v1/drugs/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_is_computed_in_the_users_time_zone() {
    let app = spawn_app().await;
    // Kiritimati (UTC+14) and Pago Pago (UTC−11) are 25 hours apart: at most instants their
    // dates differ, so a drug expiring "today" in one is expired or not yet in the other.
    let east = app.user("Pacific/Kiritimati").await;
    let west = app.user("Pacific/Pago_Pago").await;
    let today_east = Utc::now()
        .with_timezone(&chrono_tz::Pacific::Kiritimati)
        .date_naive();
    let today_west = Utc::now()
        .with_timezone(&chrono_tz::Pacific::Pago_Pago)
        .date_naive();
    assert!(today_east > today_west);
    let body = json!({"name": "x", "expiry_date": today_west.to_string()});
    let in_west = app.add_drug(west, body.clone()).await;
    let in_east = app.add_drug(east, body).await;
    assert_eq!(in_west["status"], "expiring");
    assert_eq!(in_west["days_to_expiry"], 0);
    assert_eq!(in_east["status"], "expired");
}
