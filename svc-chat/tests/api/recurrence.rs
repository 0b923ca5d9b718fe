//! Routines and habits: templates stored as RFC 5545 rules, their days listed as virtual
//! instances, one day or a series changed, habits kept or cancelled and replenished.

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::event;
use uuid::Uuid;

use crate::helpers::*;

async fn routine(app: &TestApp, user: Uuid, body: Value) -> Value {
    let (status, body) = send(app, Method::POST, user, "/api/v1/events", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "routine", "{body}");
    body["template"].clone()
}

async fn days(app: &TestApp, user: Uuid, from: &str, to: &str) -> Vec<Value> {
    let (status, list) = send(
        app,
        Method::GET,
        user,
        &format!("/api/v1/events?start_date={from}&end_date={to}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["instances"].as_array().unwrap().clone()
}

fn starts(list: &[Value]) -> Vec<&str> {
    list.iter()
        .map(|e| e["start_time"].as_str().unwrap())
        .collect()
}

async fn rows(app: &TestApp, user: Uuid) -> Vec<event::Model> {
    event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap()
}

async fn stored(app: &TestApp, id: &str) -> event::Model {
    event::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

fn run_at_seven() -> Value {
    json!({
        "title": "跑步", "event_type": "schedule", "category": "HEALTH",
        "event_date": "2027-01-01", "duration": 30,
        "repeat_pattern": {"type": "daily", "time": "07:00"},
    })
}

#[tokio::test]
async fn a_daily_routine_is_stored_as_a_rule_and_listed_day_by_day() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let t = routine(&app, user, run_at_seven()).await;
    let id = t["id"].as_str().unwrap();
    assert_eq!(t["is_template"], true);
    assert_eq!(
        stored(&app, id).await.rrule.as_deref(),
        Some("DTSTART;TZID=Asia/Shanghai:20270101T070000\nRRULE:FREQ=DAILY"),
    );
    let list = days(&app, user, "2027-01-01", "2027-01-07").await;
    assert_eq!(list.len(), 7, "{list:?}");
    for (i, e) in list.iter().enumerate() {
        assert_eq!(e["is_virtual"], true);
        assert_eq!(e["template_id"], id);
        assert_eq!(e["parent_event_id"], id);
        assert_eq!(e["title"], "跑步");
        assert_eq!(e["status"], "PENDING");
        assert_eq!(e["repeat_pattern"]["type"], "daily");
        assert_eq!(e["id"], format!("virtual_{id}_202701{:02}", i + 1));
        assert_eq!(
            e["start_time"],
            format!("2027-01-{:02}T07:00:00+08:00", i + 1)
        );
        assert_eq!(
            e["end_time"],
            format!("2027-01-{:02}T07:30:00+08:00", i + 1)
        );
    }
    // Nothing was written for them.
    assert_eq!(rows(&app, user).await.len(), 1);
    // Asked not to expand: none.
    let (_, plain) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events?start_date=2027-01-01&end_date=2027-01-07&expand_virtual=false",
        None,
    )
    .await;
    assert_eq!(plain["instances"], json!([]));
}

#[tokio::test]
async fn seven_oclock_stays_seven_oclock_across_the_dst_change() {
    let app = spawn().await;
    let user = app.user("America/New_York").await;
    let mut body = run_at_seven();
    body["event_date"] = json!("2027-03-12");
    routine(&app, user, body).await;
    let list = days(&app, user, "2027-03-12", "2027-03-15").await;
    assert_eq!(
        starts(&list),
        [
            "2027-03-12T07:00:00-05:00",
            "2027-03-13T07:00:00-05:00",
            "2027-03-14T07:00:00-04:00",
            "2027-03-15T07:00:00-04:00"
        ]
    );
}

#[tokio::test]
async fn one_day_is_completed_edited_or_cancelled_without_touching_the_others() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let t = routine(&app, user, run_at_seven()).await;
    let id = t["id"].as_str().unwrap().to_owned();
    let day = |d: u32| format!("virtual_{id}_202701{d:02}");

    // Complete the 2nd by its virtual id: it becomes an instance.
    let (status, done) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{}/complete", day(2)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["parent_event_id"], id.as_str());
    assert_eq!(done["start_time"], "2027-01-02T07:00:00+08:00");
    let made = stored(&app, done["id"].as_str().unwrap()).await;
    assert_eq!(made.parent_event_id, Some(id.parse().unwrap()));

    // Move the 3rd to 09:00: only that day moves.
    let (status, moved) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/events/{}", day(3)),
        Some(json!({"start_time": "2027-01-03T09:00:00", "end_time": "2027-01-03T09:30:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["event"]["start_time"], "2027-01-03T09:00:00+08:00");

    // Cancel the 4th: an EXDATE on the template, and it is gone from the list.
    let (status, gone) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/{}", day(4)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["deleted"], "single");
    assert_eq!(stored(&app, &id).await.exdates, Some(json!(["2027-01-04"])));
    let list = days(&app, user, "2027-01-01", "2027-01-05").await;
    assert_eq!(
        starts(&list),
        [
            "2027-01-01T07:00:00+08:00",
            "2027-01-02T07:00:00+08:00",
            "2027-01-03T09:00:00+08:00",
            "2027-01-05T07:00:00+08:00"
        ]
    );
    assert_eq!(list[1]["is_virtual"], false);
    assert_eq!(list[1]["status"], "COMPLETED");
    assert_eq!(list[2]["is_virtual"], false);
    assert_eq!(list[0]["is_virtual"], true);
    // The cancelled day is no longer one of the series'.
    let (status, _) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/events/{}", day(4)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{id}/instances"),
        Some(json!({"target_date": "2027-01-04"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["message"].as_str().unwrap().contains("no occurrence"),
        "{err}"
    );
    // Deleting a made day keeps it deleted (the original let it come back as virtual).
    let (status, _) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/{}", done["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list = days(&app, user, "2027-01-02", "2027-01-02").await;
    assert_eq!(list, Vec::<Value>::new());
}

#[tokio::test]
async fn a_day_moved_to_another_day_or_seen_from_another_zone_still_stands_for_its_own() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let t = routine(&app, user, run_at_seven()).await;
    let id = t["id"].as_str().unwrap().to_owned();

    // Move the 6th to 09:00 on the 7th.
    let (status, moved) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/events/virtual_{id}_20270106"),
        Some(json!({"start_time": "2027-01-07T09:00:00", "end_time": "2027-01-07T09:30:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let moved_id = moved["event"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stored(&app, &moved_id).await.recurrence_date,
        Some("2027-01-06".parse().unwrap())
    );
    // The 6th has no run left; the 7th has its own and the moved one.
    let list = days(&app, user, "2027-01-06", "2027-01-08").await;
    assert_eq!(
        starts(&list),
        [
            "2027-01-07T07:00:00+08:00",
            "2027-01-07T09:00:00+08:00",
            "2027-01-08T07:00:00+08:00"
        ],
        "{list:#?}"
    );
    assert_eq!(list[1]["id"], moved_id.as_str());
    // Asking for the 6th's instance gives the moved one, not a second.
    let (status, again) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{id}/instances"),
        Some(json!({"target_date": "2027-01-06"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], moved_id.as_str());

    // The owner moves to New York: the series stays at 07:00 Shanghai time, and the moved
    // day still replaces the 6th (by its own day in the new zone it would be the 5th).
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let mut owner = shared::entities::user::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    owner.timezone = Set("America/New_York".into());
    owner.update(&app.db).await.unwrap();
    let list = days(&app, user, "2027-01-03", "2027-01-10").await;
    let ids: Vec<&str> = list.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(
        !ids.contains(&format!("virtual_{id}_20270106").as_str()),
        "{ids:?}"
    );
    assert_eq!(ids.iter().filter(|i| **i == moved_id).count(), 1, "{ids:?}");
    assert!(
        ids.contains(&format!("virtual_{id}_20270105").as_str()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&format!("virtual_{id}_20270107").as_str()),
        "{ids:?}"
    );
    // Cancelling the moved one cancels the 6th, whatever day it is on now.
    let (status, gone) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/{moved_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(stored(&app, &id).await.exdates, Some(json!(["2027-01-06"])));
}

#[tokio::test]
async fn this_and_following_ends_the_series_and_all_deletes_it() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let t = routine(&app, user, run_at_seven()).await;
    let id = t["id"].as_str().unwrap().to_owned();
    // A made day after the cut goes with it; one before stays.
    for d in ["2027-01-02", "2027-01-06"] {
        let (status, _) = send(
            &app,
            Method::POST,
            user,
            &format!("/api/v1/events/{id}/instances"),
            Some(json!({"target_date": d})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/virtual_{id}_20270104?delete_series=following"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"deleted": "following", "count": 1}));
    let template = stored(&app, &id).await;
    assert_eq!(template.repeat_pattern.unwrap()["end_date"], "2027-01-03");
    assert!(template.rrule.unwrap().contains("UNTIL=20270103T155959Z"));
    let list = days(&app, user, "2027-01-01", "2027-01-31").await;
    assert_eq!(list.len(), 3, "{list:?}");

    let (status, body) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/virtual_{id}_20270101?delete_series=true"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"deleted": "series", "count": 2}));
    assert_eq!(rows(&app, user).await, Vec::new());
}

#[tokio::test]
async fn weekdays_custom_intervals_and_today_and_conflicts_include_the_days() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    // Mondays and Fridays (0 is Sunday, as the original's model says).
    routine(
        &app,
        user,
        json!({"title": "健身", "event_date": "2027-01-01", "duration": 60,
               "repeat_pattern": {"type": "weekly", "weekdays": [1, 5], "time": "18:00"}}),
    )
    .await;
    // Every third day, no time: floating days.
    routine(
        &app,
        user,
        json!({"title": "浇花", "event_type": "floating", "event_date": "2027-01-01",
               "repeat_pattern": {"type": "custom", "interval_days": 3}}),
    )
    .await;
    let list = days(&app, user, "2027-01-01", "2027-01-10").await;
    let got: Vec<(String, String)> = list
        .iter()
        .map(|e| {
            (
                e["title"].as_str().unwrap().to_owned(),
                e["event_date"].as_str().unwrap()[..10].to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("健身", "2027-01-01"),
        ("浇花", "2027-01-01"),
        ("浇花", "2027-01-04"),
        ("健身", "2027-01-04"),
        ("浇花", "2027-01-07"),
        ("健身", "2027-01-08"),
        ("浇花", "2027-01-10"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    let mut sorted_got = got.clone();
    sorted_got.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut sorted_want = want.clone();
    sorted_want.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    assert_eq!(sorted_got, sorted_want);
    assert!(
        list.iter()
            .filter(|e| e["title"] == "浇花")
            .all(|e| e["start_time"].is_null())
    );

    // Conflicts: Monday the 4th 18:30 overlaps the workout.
    let (status, hits) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events/conflicts?start_time=2027-01-04T18:30:00&end_time=2027-01-04T19:30:00",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["title"], "健身");
    assert_eq!(hits[0]["is_virtual"], true);

    // Today: a daily routine from today is on it.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    routine(
        &app,
        user,
        json!({"title": "冥想", "event_date": today.to_string(),
               "repeat_pattern": {"type": "daily"}}),
    )
    .await;
    let (_, list) = send(&app, Method::GET, user, "/api/v1/events/today", None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|e| e["title"] == "冥想" && e["is_virtual"] == true),
        "{list}"
    );
}

#[tokio::test]
async fn bad_rules_are_refused_with_a_reason_and_nothing_is_written() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let cases = [
        (
            json!({"type": "daily", "end_date": "2026-12-31"}),
            "before the series starts",
        ),
        (
            json!({"type": "custom", "interval_days": 0}),
            "interval_days",
        ),
        (json!({"type": "weekly", "weekdays": [7]}), "weekdays"),
        (json!({"type": "custom"}), "weekdays or interval_days"),
        (json!({"type": "yearly"}), "repeat_pattern.type"),
        (json!({"type": "daily", "time": "7am"}), "HH:MM"),
    ];
    for (pattern, why) in cases {
        let (status, err) = send(
            &app,
            Method::POST,
            user,
            "/api/v1/events",
            Some(json!({"title": "x", "event_date": "2027-01-01", "repeat_pattern": pattern})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pattern}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(why),
            "{pattern}: {err}"
        );
    }
    assert_eq!(rows(&app, user).await.len(), 0);
    // Ten thousand days at once is refused, not cut short.
    routine(&app, user, run_at_seven()).await;
    let (status, err) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events?start_date=2027-01-01&end_date=2054-05-18",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("more than 1000"),
        "{err}"
    );
    let (status, err) = send(
        &app,
        Method::DELETE,
        user,
        "/api/v1/events/x?delete_series=maybe",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
}

#[tokio::test]
async fn another_users_series_and_days_are_not_found() {
    let app = spawn().await;
    let a = app.user("Asia/Shanghai").await;
    let b = app.user("Asia/Shanghai").await;
    let t = routine(&app, a, run_at_seven()).await;
    let id = t["id"].as_str().unwrap();
    let day = format!("virtual_{id}_20270102");
    for (m, path, body) in [
        (Method::GET, format!("/api/v1/events/{day}"), None),
        (
            Method::PUT,
            format!("/api/v1/events/{day}"),
            Some(json!({"title": "mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/events/{day}?delete_series=true"),
            None,
        ),
        (Method::POST, format!("/api/v1/events/{day}/complete"), None),
        (
            Method::POST,
            format!("/api/v1/events/{id}/instances"),
            Some(json!({"target_date": "2027-01-02"})),
        ),
    ] {
        let (status, body) = send(&app, m.clone(), b, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{m} {path}: {body}");
    }
    assert!(days(&app, b, "2027-01-01", "2027-01-07").await.is_empty());
    assert_eq!(rows(&app, a).await.len(), 1, "A's series untouched");
    assert_eq!(days(&app, a, "2027-01-01", "2027-01-07").await.len(), 7);
}

fn local_today(tz: chrono_tz::Tz) -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

#[tokio::test]
async fn a_habit_runs_its_first_batch_is_kept_or_cancelled_and_is_replenished_once() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let today = local_today(chrono_tz::Asia::Shanghai);
    let (status, body) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/events",
        Some(
            json!({"title": "喝水", "event_type": "habit", "habit_interval": 2,
                    "event_date": today.to_string()}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "habit");
    let t = &body["template"];
    let batch = t["routine_batch_id"].as_str().unwrap().to_owned();
    // Its first batch: 21 days, every other day.
    assert_eq!(t["habit_total_count"], 21);
    let rule = stored(&app, t["id"].as_str().unwrap()).await.rrule.unwrap();
    assert!(
        rule.ends_with("RRULE:FREQ=DAILY;INTERVAL=2;COUNT=21"),
        "{rule}"
    );

    let (status, list) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/habits/{batch}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 20, "the coming days, up to 20");
    assert_eq!(
        list[0]["event_date"].as_str().unwrap()[..10],
        today.to_string()
    );
    assert_eq!(
        list[1]["event_date"].as_str().unwrap()[..10],
        (today + chrono::Duration::days(2)).to_string()
    );

    // Done today: a streak of one.
    let first = list[0]["id"].as_str().unwrap();
    let (status, _) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{first}/complete"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, stats) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/habits/{batch}/stats"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        (
            stats["due"].clone(),
            stats["completed"].clone(),
            stats["current_streak"].clone(),
            stats["completion_rate"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(1.0)),
        "{stats}"
    );
    assert_eq!(stats["status"], "trial");

    // Kept: active; the job on a later day moves the end so 20 days stay ahead, once.
    let (status, kept) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/habits/{batch}/confirm"),
        Some(json!({"confirm": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["status"], "active");
    let later = today + chrono::Duration::days(30);
    let replenish = |date: chrono::NaiveDate| {
        app.req(Method::POST, None, "/internal/habits/replenish")
            .json(&json!({"user_id": user, "date": date}))
            .send()
    };
    let first_run: Value = replenish(later).await.unwrap().json().await.unwrap();
    assert_eq!(first_run, json!({"status": "done", "extended": 1}));
    let again: Value = replenish(later).await.unwrap().json().await.unwrap();
    assert_eq!(
        again,
        json!({"status": "skipped", "extended": 0}),
        "run twice: one batch"
    );
    let template = stored(&app, t["id"].as_str().unwrap()).await;
    // 15 days before day 30 (0, 2, … 28) and 20 ahead: 35, the last on day 68.
    assert_eq!(template.habit_total_count, 35);
    let (_, later_days) = send(
        &app,
        Method::GET,
        user,
        &format!(
            "/api/v1/events?start_date={}&end_date={}",
            today + chrono::Duration::days(60),
            today + chrono::Duration::days(80)
        ),
        None,
    )
    .await;
    let last = later_days["instances"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["event_date"].as_str().unwrap()[..10],
        (today + chrono::Duration::days(68)).to_string()
    );

    // Cancelled: nothing after today remains; today's done day stays.
    let (status, cancelled) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/habits/{batch}/confirm"),
        Some(json!({"confirm": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (_, list) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/habits/{batch}"),
        None,
    )
    .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "COMPLETED");

    let other = app.user("Asia/Shanghai").await;
    let (status, _) = send(
        &app,
        Method::GET,
        other,
        &format!("/api/v1/habits/{batch}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &app,
        Method::POST,
        other,
        &format!("/api/v1/habits/{batch}/confirm"),
        Some(json!({"confirm": false})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        event::Entity::find()
            .filter(event::Column::UserId.eq(user))
            .count(&app.db)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_projects_routine_days_are_its_quests() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let (status, p) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/projects",
        Some(json!({"title": "考研", "base_tier": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let mut body = run_at_seven();
    body["title"] = json!("背单词");
    body["project_id"] = p["id"].clone();
    let t = routine(&app, user, body).await;
    let (status, day) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/projects/quests/overview?date=2027-01-02",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let main = day["overview"]["MAIN"].as_array().unwrap();
    assert_eq!(main.len(), 1, "{day}");
    assert_eq!(
        main[0]["id"],
        format!("virtual_{}_20270102", t["id"].as_str().unwrap())
    );
    assert_eq!(main[0]["quest_type"], "MAIN");
    assert_eq!(day["counts"]["total"], 1);
}

/// One chat turn in which the model calls `tool` with `args`, then answers.
async fn turn(app: &TestApp, user: Uuid, tool: &str, args: Value) -> Value {
    use wiremock::Mock;
    use wiremock::matchers::method;
    app.model.reset().await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_tool_call(tool, &args)))
        .up_to_n_times(1)
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&["好的。"])))
        .mount(&app.model)
        .await;
    let res = app.chat(user, json!({"message": "…"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    if answer["pending_action"]["tool"] != tool {
        return answer;
    }
    // A destructive tool waits for the yes: say it, in the same conversation.
    let res = app
        .chat(
            user,
            json!({"message": "确认", "conversation_id": answer["conversation_id"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_assistant_makes_a_routine_edits_its_days_and_undo_restores_it_exactly() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    // "每天早上7点跑步"
    let made = turn(
        &app,
        user,
        "create_event",
        json!({"title": "跑步", "event_type": "schedule", "event_date": "2027-01-01",
               "repeat_pattern": {"type": "daily", "time": "07:00"}}),
    )
    .await;
    assert_eq!(made["actions"][0]["type"], "create_event", "{made}");
    let id = made["actions"][0]["event_id"].as_str().unwrap().to_owned();
    let after_create = stored(&app, &id).await;
    assert!(
        after_create
            .rrule
            .as_deref()
            .unwrap()
            .ends_with("RRULE:FREQ=DAILY")
    );

    // The model sees the days, moves one, cancels one, stops the series from the 10th.
    let seen = turn(
        &app,
        user,
        "query_events",
        json!({"start_date": "2027-01-01", "end_date": "2027-01-03"}),
    )
    .await;
    assert_eq!(seen["query_results"][0]["count"], 3, "{seen}");
    let snapshot_before_edits = {
        let moved = turn(
            &app,
            user,
            "update_event",
            json!({"event_id": format!("virtual_{id}_20270104"), "start_time": "2027-01-04T09:00:00"}),
        )
        .await;
        moved["snapshot_id"].as_str().unwrap().to_owned()
    };
    turn(
        &app,
        user,
        "delete_event",
        json!({"event_id": format!("virtual_{id}_20270105")}),
    )
    .await;
    turn(
        &app,
        user,
        "stop_repeating",
        json!({"event_id": id, "from_date": "2027-01-10"}),
    )
    .await;
    let edited = stored(&app, &id).await;
    assert_eq!(edited.exdates, Some(json!(["2027-01-05"])));
    assert_eq!(
        edited.repeat_pattern.clone().unwrap()["end_date"],
        "2027-01-09"
    );
    assert_eq!(days(&app, user, "2027-01-01", "2027-01-31").await.len(), 8);
    assert_eq!(
        rows(&app, user).await.len(),
        2,
        "the template and the moved day"
    );

    // Reverting the first edit's turn reverts every later one: as right after the create.
    let res = app
        .req(
            Method::POST,
            Some(user),
            &format!("/api/v1/snapshots/{snapshot_before_edits}/revert"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let restored = stored(&app, &id).await;
    assert_eq!(
        event::Model {
            changed_at: after_create.changed_at,
            ..restored
        },
        after_create,
        "every column as it was"
    );
    assert_eq!(
        rows(&app, user).await.len(),
        1,
        "the made day is gone again"
    );
    let list = days(&app, user, "2027-01-01", "2027-01-31").await;
    assert_eq!(list.len(), 31);
    assert!(list.iter().all(|e| e["is_virtual"] == true));
}
