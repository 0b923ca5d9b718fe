//! Run-out dates, refill reminders, refills, and as-needed doses within their limits.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::contracts::LowStock;
use shared::entities::{dose_log, medication_plan};

use crate::helpers::*;

fn shanghai_today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

async fn plan(app: &TestApp, user: uuid::Uuid, body: Value) -> reqwest::Response {
    app.post(user, "/api/v1/medications")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn row(app: &TestApp, id: &Value) -> medication_plan::Model {
    let id: uuid::Uuid = id.as_str().unwrap().parse().unwrap();
    medication_plan::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_scheduled_plan_runs_out_by_its_schedule_and_the_refill_avoids_closed_days() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    let drug = app.add_drug(user, json!({"name": "阿莫西林胶囊"})).await;
    // Starting in ten days, twice a day, 5 capsules: both doses on the first two days and the
    // third day's 08:00; the third day's 20:00 is the first one without a capsule.
    let start = shanghai_today() + Duration::days(10);
    let runs_out = start + Duration::days(2);
    // Two days' lead: the start day, unless the pharmacy is closed that weekday.
    let closed = start.weekday().number_from_monday();
    let res = plan(
        &app,
        user,
        json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "粒"},
            "schedule": {"times": ["20:00", "08:00"], "start_date": start},
            "stock": 5,
            "refill": {"lead_days": 2, "pharmacy_closed": {"weekdays": [closed]}}
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p: Value = res.json().await.unwrap();
    let supply = &p["supply"];
    assert_eq!(supply["basis"], "schedule");
    assert_eq!(supply["runs_out_on"], runs_out.to_string());
    let uncovered = runs_out
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(supply["first_uncovered_dose_at"], uncovered);
    assert_eq!(supply["days_left"], 12);
    // Two days before is `start`, closed: the day before.
    let refill = start - Duration::days(1);
    assert_eq!(supply["refill_on"], refill.to_string());
    assert_eq!(row(&app, &p["id"]).await.refill_due_on, Some(refill));
    assert_eq!(p["refill"]["lead_days"], 2);

    // Not yet due: no reminder.
    let low: Vec<LowStock> = app.get_as(user, "/internal/low-stock").await;
    assert!(low.iter().all(|l| l.plan_id.to_string() != p["id"]));

    // A refill of 10 logged afterwards: stock 15, the run-out date moves by five days.
    let three_days_ago = Utc::now() - Duration::days(3);
    let res = app
        .post(
            user,
            &format!("/api/v1/medications/{}/refills", p["id"].as_str().unwrap()),
        )
        .json(&json!({"amount": 10, "refilled_at": three_days_ago, "note": "社区药房"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let refilled: Value = res.json().await.unwrap();
    assert_eq!(refilled["plan"]["stock"], 15.0);
    assert_eq!(
        refilled["plan"]["supply"]["runs_out_on"],
        (runs_out + Duration::days(5)).to_string()
    );
    let list: Vec<Value> = app
        .get_as(
            user,
            &format!("/api/v1/medications/{}/refills", p["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["note"], "社区药房");
    assert_eq!(list[0]["amount"], 10.0);

    // Bad refills: nothing written.
    for body in [
        json!({"amount": 0}),
        json!({"amount": -3}),
        json!({"amount": 5, "refilled_at": Utc::now() + Duration::days(2)}),
        json!({"amount": 5, "note": "x".repeat(501)}),
        json!({"amount": 5, "extra": 1}),
    ] {
        let res = app
            .post(
                user,
                &format!("/api/v1/medications/{}/refills", p["id"].as_str().unwrap()),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(row(&app, &p["id"]).await.stock, Some(15.0));
    // Another person's plan is not found.
    let stranger = app.user("Asia/Shanghai").await;
    let res = app
        .post(
            stranger,
            &format!("/api/v1/medications/{}/refills", p["id"].as_str().unwrap()),
        )
        .json(&json!({"amount": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Bad refill settings.
    for refill in [
        json!({"lead_days": 61}),
        json!({"lead_days": 1, "pharmacy_closed": {"weekdays": [8]}}),
    ] {
        let res = plan(
            &app,
            user,
            json!({
                "drug_id": drug["id"], "dose": {"amount": 1, "unit": "粒"},
                "schedule": {"times": ["08:00"], "start_date": start}, "refill": refill
            }),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{refill}");
    }
}

#[tokio::test]
async fn a_refill_reminder_goes_out_when_its_date_comes_and_stock_may_go_below_zero() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    let drug = app.add_drug(user, json!({"name": "氨氯地平片"})).await;
    // Every hour of the day, 2 tablets: out tomorrow at the latest; three days' lead → today.
    let times: Vec<String> = (0..12).map(|h| format!("{:02}:30", h * 2)).collect();
    let res = plan(
        &app,
        user,
        json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"},
            "schedule": {"times": times, "start_date": shanghai_today() - Duration::days(1)},
            "stock": 2, "refill": {"lead_days": 3}
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["supply"]["refill_on"], shanghai_today().to_string());
    let low: Vec<LowStock> = app.get_as(user, "/internal/low-stock").await;
    let mine = low
        .iter()
        .find(|l| l.plan_id.to_string() == p["id"])
        .expect("the refill reminder");
    assert!(mine.runs_out_on.is_some());
    assert_eq!(mine.refill_on, Some(shanghai_today()));

    // Taking more doses than the stock holds: recorded, stock below zero, views still fine.
    let doses: Vec<Value> = app
        .get_as(
            user,
            &format!(
                "/api/v1/doses?from={}&to={}",
                shanghai_today() - Duration::days(1),
                shanghai_today()
            ),
        )
        .await;
    for d in doses.iter().take(4) {
        let res = app
            .post(
                user,
                &format!("/api/v1/doses/{}/taken", d["id"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let after: Value = app
        .get_as(
            user,
            &format!("/api/v1/medications/{}", p["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(after["stock"], -2.0);
    assert_eq!(after["supply"]["days_left"], 0);
    assert_eq!(after["supply"]["runs_out_on"], shanghai_today().to_string());
}

#[tokio::test]
async fn an_as_needed_dose_is_refused_past_its_limits_and_warned_one_dose_before() {
    let app = spawn_app().await;
    let user = app.user("Asia/Shanghai").await;
    let drug = app.add_drug(user, json!({"name": "布洛芬缓释胶囊"})).await;
    let today = shanghai_today();
    let prn = |prn: Value, extra: Value| {
        let mut body = json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "粒"},
            "schedule": {"times": [], "start_date": today}, "as_needed": true, "prn": prn
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    // Bad input: nothing written.
    let bad = [
        (
            prn(json!({"max_per_24h": 0.5}), json!({})),
            "低于一次的剂量",
        ),
        (
            prn(json!({"min_interval_minutes": 0}), json!({})),
            "min_interval",
        ),
        (
            prn(
                json!({}),
                json!({"schedule": {"times": ["08:00"], "start_date": today}}),
            ),
            "no schedule.times",
        ),
        (
            prn(json!({"max_per_24h": 3}), json!({"as_needed": false})),
            "as-needed",
        ),
    ];
    for (body, says) in bad {
        let res = plan(&app, user, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(says), "{err}");
    }
    let plans = medication_plan::Entity::find()
        .filter(medication_plan::Column::UserId.eq(user))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(plans, 0);

    // At least 4 hours apart: the second dose at once is refused, nothing written.
    let res = plan(
        &app,
        user,
        prn(
            json!({"min_interval_minutes": 240, "max_per_24h": 4}),
            json!({"stock": 10}),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let spaced: Value = res.json().await.unwrap();
    assert_eq!(spaced["as_needed"], true);
    assert_eq!(spaced["prn"]["min_interval_minutes"], 240);
    let take = |id: &Value| {
        app.post(
            user,
            &format!("/api/v1/medications/{}/take", id.as_str().unwrap()),
        )
        .send()
    };
    let res = take(&spaced["id"]).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["taken_in_24h"], 1.0);
    assert_eq!(first["warning_zh"], Value::Null);
    assert!(first["next_allowed_at"].is_string());
    let res = take(&spaced["id"]).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "prn_limit_reached");
    assert!(
        err["message"].as_str().unwrap().contains("240 分钟"),
        "{err}"
    );
    let logs = dose_log::Entity::find()
        .filter(dose_log::Column::UserId.eq(user))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(logs, 1);
    assert_eq!(row(&app, &spaced["id"]).await.stock, Some(9.0));

    // At most 3 in 24 hours, no interval: warned at the second, told at the third, refused
    // at the fourth.
    let res = plan(
        &app,
        user,
        prn(json!({"max_per_24h": 3}), json!({"stock": 10})),
    )
    .await;
    let capped: Value = res.json().await.unwrap();
    let second = {
        take(&capped["id"]).await.unwrap();
        let res = take(&capped["id"]).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()
    };
    assert!(
        second["warning_zh"]
            .as_str()
            .unwrap()
            .contains("只能再服一次"),
        "{second}"
    );
    let res = take(&capped["id"]).await.unwrap();
    let third: Value = res.json().await.unwrap();
    assert!(
        third["warning_en"].as_str().unwrap().contains("limit"),
        "{third}"
    );
    assert_eq!(third["taken_in_24h"], 3.0);
    let res = take(&capped["id"]).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let err: Value = res.json().await.unwrap();
    assert!(
        err["message"].as_str().unwrap().contains("超过上限 3"),
        "{err}"
    );
    let now = row(&app, &capped["id"]).await;
    assert_eq!(now.stock, Some(7.0));
    // Its supply by its pace: 3 a day → 7 last two more days.
    let view: Value = app
        .get_as(
            user,
            &format!("/api/v1/medications/{}", capped["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(view["supply"]["basis"], "recent_average");
    assert_eq!(
        view["supply"]["runs_out_on"],
        (today + Duration::days(2)).to_string()
    );

    // A scheduled plan is not taken this way; a dose above the limit alone is refused.
    let res = plan(
        &app,
        user,
        json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "粒"},
               "schedule": {"times": ["08:00"], "start_date": today}}),
    )
    .await;
    let scheduled: Value = res.json().await.unwrap();
    let res = take(&scheduled["id"]).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A body with a mistake is refused, never read as no body.
    for body in [
        json!({"amount": -1}),
        json!({"amout": 2}),
        json!({"amount": "2"}),
    ] {
        let res = app
            .post(
                user,
                &format!(
                    "/api/v1/medications/{}/take",
                    capped["id"].as_str().unwrap()
                ),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(row(&app, &capped["id"]).await.stock, Some(7.0));

    // An interval longer than a day: the dose 30 hours ago still counts.
    let res = plan(
        &app,
        user,
        prn(json!({"min_interval_minutes": 2880}), json!({})),
    )
    .await;
    let slow: Value = res.json().await.unwrap();
    let slow_id: uuid::Uuid = slow["id"].as_str().unwrap().parse().unwrap();
    let at = Utc::now() - Duration::hours(30);
    let log = dose_log::ActiveModel {
        id: sea_orm::Set(uuid::Uuid::now_v7()),
        user_id: sea_orm::Set(user),
        plan_id: sea_orm::Set(slow_id),
        scheduled_at: sea_orm::Set(at),
        status: sea_orm::Set("taken".into()),
        amount: sea_orm::Set(1.0),
        snoozed_until: sea_orm::Set(None),
        stock_deducted: sea_orm::Set(false),
        acted_at: sea_orm::Set(at),
        updated_at: sea_orm::Set(at),
    };
    sea_orm::ActiveModelTrait::insert(log, &app.db)
        .await
        .unwrap();
    let res = take(&slow["id"]).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}
