//! `/events` as the UniLife app uses it: the original's bodies in, the original's answers out.

use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shared::entities::event;
use uuid::Uuid;

use crate::contract::{check_event, fixture};
use crate::helpers::*;

async fn create(app: &TestApp, user: Uuid, body: Value) -> Value {
    let (status, body) = send(app, Method::POST, user, "/api/v1/events", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn a_floating_task_has_a_day_and_a_part_of_it_and_no_time() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let body = create(&app, user, fixture("event_create_floating")).await;
    assert_eq!(body["type"], "event");
    let e = &body["event"];
    check_event(e);
    // A time without an offset is the user's own: midnight in Shanghai.
    assert_eq!(e["event_date"], "2026-01-20T00:00:00+08:00");
    assert_eq!(e["time_period"], "AFTERNOON");
    assert_eq!(e["start_time"], Value::Null);
    assert_eq!(
        (e["urgency"].as_i64(), e["importance"].as_i64()),
        (Some(2), Some(4))
    );
    assert_eq!(e["status"], "PENDING");
    assert_eq!(e["created_by"], "user");
    assert_eq!(e["ai_confidence"], 1.0);
    assert_eq!(e["user_id"], user.to_string());
    assert_eq!(e["is_physically_demanding"], true);
    assert_eq!(e["tags"], json!(["家务"]));
    // It is on that day's list, in the original's wrapper.
    let (status, list) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events?start_date=2026-01-20&end_date=2026-01-20",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["instances"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["templates"], json!([]));
    check_event(&list["instances"][0]);
}

#[tokio::test]
async fn a_timed_event_keeps_the_apps_id_and_the_apps_copy_updates_it() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let fixture_body = fixture("event_create_schedule");
    let id = fixture_body["id"].as_str().unwrap().to_owned();
    let body = create(&app, user, fixture_body.clone()).await;
    let e = &body["event"];
    check_event(e);
    assert_eq!(e["id"], id, "the app's own id is kept");
    assert_eq!(e["start_time"], "2026-01-20T14:00:00+08:00");
    assert_eq!(
        e["event_date"], "2026-01-20T00:00:00+08:00",
        "derived from the start"
    );
    assert_eq!(e["energy_consumption"]["mental"]["score"], 70);
    assert_eq!(e["participants"], json!(["小王", "小李"]));
    // The same id again is a conflict, not a second event or a server error.
    let (status, err) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/events",
        Some(fixture_body),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["code"], "event_exists");

    // The app sends its whole event back, server fields and a foreign user_id included.
    let update = fixture("event_update_from_app")
        .to_string()
        .replace("{{id}}", &id);
    let (status, body) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/events/{id}"),
        Some(serde_json::from_str(&update).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["type"], "event");
    let e = &body["event"];
    check_event(e);
    assert_eq!(e["start_time"], "2026-01-20T16:00:00+08:00");
    assert_eq!(e["status"], "IN_PROGRESS");
    assert!(e["started_at"].is_string(), "starting stamps started_at");
    assert_eq!(e["urgency"], 5);
    assert_eq!(e["energy_required"], "MEDIUM");
    let row = event::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, user, "a user_id in the body changes nothing");
    assert_eq!(row.location.as_deref(), Some("会议室B"));
    assert!(row.updated_at > row.created_at);

    // An update ignores what it does not know, as the original's did; a creation refuses it
    // by name. An update with nothing known is refused.
    let (status, body) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/events/{id}"),
        Some(json!({"colour": "red", "notes": "带电脑"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["event"]["notes"], "带电脑");
    let (status, err) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/events",
        Some(json!({"title": "x", "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["message"].as_str().unwrap().contains("colour"), "{err}");
    let (status, _) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/events/{id}"),
        Some(json!({"id": id, "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "nothing to update");

    // complete, uncomplete.
    let (_, done) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{id}/complete"),
        None,
    )
    .await;
    check_event(&done);
    assert_eq!(done["status"], "COMPLETED");
    assert!(done["completed_at"].is_string());
    let (status, undone) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{id}/uncomplete"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(undone["status"], "PENDING");
    assert_eq!(undone["completed_at"], Value::Null);

    // Deleting answers what went.
    let (status, gone) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone, json!({"deleted": "single", "id": id}));
}

#[tokio::test]
async fn bad_input_is_refused_with_the_reason() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    for (body, word) in [
        (json!({"title": "x", "urgency": 6}), "urgency"),
        (json!({"title": "x", "importance": 0}), "importance"),
        (json!({"title": "x", "category": "work"}), "category"),
        (json!({"title": "x", "event_type": "meeting"}), "meeting"),
        (json!({"title": "x", "time_period": "EVENING"}), "EVENING"),
        (json!({"title": "x", "start_time": "明天"}), "明天"),
        (
            json!({"title": "x", "start_time": "2026-01-20T10:00:00Z", "end_time": "2026-01-20T09:00:00Z"}),
            "end_time",
        ),
        (json!({"title": "", "event_type": "floating"}), "title"),
        (json!({"event_type": "floating"}), "title"),
        (
            json!({"title": "x", "repeat_pattern": {"type": "yearly"}}),
            "repeat_pattern",
        ),
        (
            json!({"title": "x", "project_id": "not-a-uuid"}),
            "project_id",
        ),
    ] {
        let (status, err) = send(
            &app,
            Method::POST,
            user,
            "/api/v1/events",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let msg = err["message"].as_str().unwrap();
        assert!(msg.contains(word), "{body}: {msg}");
    }
    for q in [
        "status=pending",
        "category=work",
        "time_period=EVENING",
        "limit=0",
        "limit=1001",
        "start_date=yesterday",
        "start_date=2026-02-01&end_date=2026-01-01",
        "colour=red",
    ] {
        let (status, err) = send(
            &app,
            Method::GET,
            user,
            &format!("/api/v1/events?{q}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {err}");
    }
    let (status, _) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{}/instances", Uuid::new_v4()),
        Some(json!({"target_date": "20-01-2026"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_users_event_is_not_found_and_a_forged_user_id_widens_nothing() {
    let app = spawn().await;
    let owner = app.user("Asia/Shanghai").await;
    let other = app.user("Asia/Shanghai").await;
    let body = create(&app, owner, fixture("event_create_floating")).await;
    let id = body["event"]["id"].as_str().unwrap();
    for (m, p, b) in [
        (Method::GET, format!("/api/v1/events/{id}"), None),
        (
            Method::PUT,
            format!("/api/v1/events/{id}"),
            Some(json!({"title": "mine now"})),
        ),
        (Method::DELETE, format!("/api/v1/events/{id}"), None),
        (Method::POST, format!("/api/v1/events/{id}/complete"), None),
        (
            Method::POST,
            format!("/api/v1/events/{id}/uncomplete"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{id}/instances"),
            Some(json!({"target_date": "2026-01-21"})),
        ),
    ] {
        let (status, err) = send(&app, m, other, &p, b).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
        assert_eq!(err["code"], "event_not_found");
    }
    // Naming the owner in the query shows the caller's own (empty) list.
    let (status, list) = send(
        &app,
        Method::GET,
        other,
        &format!("/api/v1/events?user_id={owner}&start_date=2026-01-01&end_date=2026-01-31"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["instances"], json!([]));
    let row = event::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.title, "整理房间", "untouched");
}

#[tokio::test]
async fn the_list_filters_like_the_original() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let project = Uuid::new_v4();
    let day = "2026-03-10T00:00:00";
    for (title, extra) in [
        (
            "study",
            json!({"category": "STUDY", "event_type": "deadline", "end_time": "2026-03-10T23:00:00"}),
        ),
        (
            "work",
            json!({"category": "WORK", "time_period": "MORNING"}),
        ),
        (
            "social",
            json!({"category": "SOCIAL", "project_id": project}),
        ),
        (
            "next month",
            json!({"category": "WORK", "event_date": "2026-04-02T00:00:00"}),
        ),
    ] {
        let mut body = json!({"title": title, "event_date": day});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        create(&app, user, body).await;
    }
    let titles = |list: &Value| -> Vec<String> {
        list["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let march = "start_date=2026-03-01T00:00:00&end_date=2026-03-31T23:59:59";
    for (q, expected) in [
        (march.to_owned(), vec!["study", "work", "social"]),
        (format!("{march}&category=STUDY"), vec!["study"]),
        (format!("{march}&event_type=deadline"), vec!["study"]),
        (format!("{march}&time_period=MORNING"), vec!["work"]),
        (format!("{march}&status=COMPLETED"), vec![]),
        // A project without a range: all its events, whatever the month.
        (format!("project_id={project}"), vec!["social"]),
        (
            "start_date=2026-04-01&end_date=2026-04-30".to_owned(),
            vec!["next month"],
        ),
    ] {
        let (status, list) = send(
            &app,
            Method::GET,
            user,
            &format!("/api/v1/events?{q}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{q}");
        let mut got = titles(&list);
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(got, want, "{q}");
    }
}

#[tokio::test]
async fn habits_and_routines_are_templates_with_instances_made_on_demand() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let habit = create(&app, user, fixture("event_create_habit")).await;
    assert_eq!(habit["type"], "habit");
    check_event(&habit["template"]);
    assert_eq!(habit["template"]["is_template"], true);
    assert_eq!(
        habit["template"]["repeat_pattern"],
        json!({"type": "custom", "interval_days": 2, "time": "07:00"})
    );
    let routine = create(&app, user, fixture("event_create_routine")).await;
    assert_eq!(routine["type"], "routine");
    assert_eq!(
        routine["message"],
        "Routine template created. Instances will be created on-demand."
    );
    let template = routine["template"]["id"].as_str().unwrap().to_owned();

    // Templates are not instances; asked for, they come in `templates`.
    let (_, list) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events?start_date=2026-01-01&end_date=2026-12-31&include_templates=true&expand_virtual=false",
        None,
    )
    .await;
    assert_eq!(list["instances"], json!([]));
    assert_eq!(list["templates"].as_array().unwrap().len(), 2);

    // An instance for a day: the pattern's time that day; asked again, the same one.
    let path = format!("/api/v1/events/{template}/instances");
    let (status, inst) = send(
        &app,
        Method::POST,
        user,
        &path,
        Some(json!({"target_date": "2026-01-21"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{inst}");
    check_event(&inst);
    assert_eq!(inst["start_time"], "2026-01-21T18:00:00+08:00");
    assert_eq!(inst["end_time"], "2026-01-21T19:00:00+08:00");
    assert_eq!(inst["parent_event_id"], template.as_str());
    assert_eq!(inst["is_template"], false);
    assert_eq!(inst["created_by"], "system");
    let (_, again) = send(
        &app,
        Method::POST,
        user,
        &path,
        Some(json!({"target_date": "2026-01-21"})),
    )
    .await;
    assert_eq!(again["id"], inst["id"]);
    let (_, second) = send(
        &app,
        Method::POST,
        user,
        &path,
        Some(json!({"target_date": "2026-01-23"})),
    )
    .await;
    // A one-off event is no template.
    let (status, _) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{}/instances", inst["id"].as_str().unwrap()),
        Some(json!({"target_date": "2026-01-22"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Changing the pattern drops the pending instances (they are made again from it).
    let (status, changed) = send(
        &app,
        Method::PUT,
        user,
        &format!("/api/v1/events/{template}"),
        Some(json!({"repeat_pattern": {"type": "daily", "time": "19:00"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["type"], "routine");
    assert_eq!(changed["instances"], json!([]));
    for id in [&inst["id"], &second["id"]] {
        let (status, _) = send(
            &app,
            Method::GET,
            user,
            &format!("/api/v1/events/{}", id.as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    // Deleting an instance with its series takes the template too.
    let (_, inst) = send(
        &app,
        Method::POST,
        user,
        &path,
        Some(json!({"target_date": "2026-01-24"})),
    )
    .await;
    let (status, gone) = send(
        &app,
        Method::DELETE,
        user,
        &format!(
            "/api/v1/events/{}?delete_series=true",
            inst["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone, json!({"deleted": "series", "count": 2}));
    let (status, _) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/events/{template}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn today_and_conflicts_answer_lists_of_events() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let tz = chrono_tz::Asia::Shanghai;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let at = |h: u32| format!("{today}T{h:02}:00:00");
    create(
        &app,
        user,
        json!({"title": "A", "event_type": "schedule", "start_time": at(10), "end_time": at(11)}),
    )
    .await;
    create(
        &app,
        user,
        json!({"title": "B", "event_type": "schedule", "start_time": at(11), "duration": 30}),
    )
    .await;
    create(
        &app,
        user,
        json!({"title": "floating today", "event_date": format!("{today}T00:00:00")}),
    )
    .await;
    let (status, list) = send(&app, Method::GET, user, "/api/v1/events/today", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    for e in list.as_array().unwrap() {
        check_event(e);
    }
    let (_, list) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events/today?status=COMPLETED",
        None,
    )
    .await;
    assert_eq!(list, json!([]));
    // 10:30–11:15 overlaps A and B; 11:30–12:00 touches B's end (30 min) only.
    let q = |a: &str, b: &str| {
        format!(
            "/api/v1/events/conflicts?start_time={today}T{a}:00&end_time={today}T{b}:00&user_id=x"
        )
    };
    let (status, c) = send(&app, Method::GET, user, &q("10:30", "11:15"), None).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let titles: Vec<&str> = c
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["A", "B"]);
    let (_, c) = send(&app, Method::GET, user, &q("11:30", "12:00"), None).await;
    assert_eq!(c, json!([]));
}
