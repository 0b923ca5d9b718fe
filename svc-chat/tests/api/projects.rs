//! `/projects` as the UniLife app uses it (the original's bodies in, its `Project`,
//! `SetModeResponse` and quest overview out), and the model's project tools with undo.

use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::{event, project};
use uuid::Uuid;

use crate::contract::check_event;
use crate::helpers::*;
use crate::shape::{assert_shape, fixture};

/// A project as the original's `Project`: every field, of its type, and its statistics.
fn check_project(p: &Value) {
    assert_shape(p, "project.shape.json");
    assert_shape(&p["routine_stats"], "project_routine_stats.shape.json");
}

async fn new_project(app: &TestApp, user: Uuid, body: Value) -> Value {
    let (status, p) = send(app, Method::POST, user, "/api/v1/projects", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    check_project(&p);
    p
}

/// An event (or template) made through `/events`; its id.
async fn new_event(app: &TestApp, user: Uuid, body: Value) -> String {
    let (status, e) = send(app, Method::POST, user, "/api/v1/events", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let e = if e["type"] == "event" {
        &e["event"]
    } else {
        &e["template"]
    };
    e["id"].as_str().unwrap().to_owned()
}

async fn row(app: &TestApp, id: &Value) -> Option<project::Model> {
    project::Entity::find_by_id(id.as_str().unwrap().parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
}

async fn complete(app: &TestApp, user: Uuid, event: &str) {
    let path = format!("/api/v1/events/{event}/complete");
    let (status, done) = send(app, Method::POST, user, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{done}");
}

fn id(p: &Value) -> &str {
    p["id"].as_str().unwrap()
}

fn titles(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_project_round_trips_with_the_originals_fields() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let p = new_project(&app, user, fixture("project_create.request.json")).await;
    assert_eq!(p["title"], "考研");
    assert_eq!(p["description"], "2026年研究生入学考试准备");
    assert_eq!(
        (
            &p["type"],
            &p["base_tier"],
            &p["current_mode"],
            &p["energy_type"]
        ),
        (
            &json!("FINITE"),
            &json!(0),
            &json!("NORMAL"),
            &json!("MENTAL")
        )
    );
    assert_eq!(
        p["target_kpi"],
        json!({"target_date": "2026-12-25", "weekly_hours": 30})
    );
    assert_eq!(p["is_active"], true);
    assert_eq!(p["user_id"], user.to_string());
    assert_eq!(
        p["routine_stats"],
        json!({"total_executions": 0, "completed_executions": 0})
    );
    // The original's defaults; the title is trimmed.
    let d = new_project(&app, user, json!({"title": "  读书  "})).await;
    assert_eq!(d["title"], "读书");
    assert_eq!(
        (&d["type"], &d["base_tier"], &d["energy_type"]),
        (&json!("FINITE"), &json!(1), &json!("BALANCED"))
    );
    assert_eq!(
        (&d["description"], &d["target_kpi"]),
        (&Value::Null, &Value::Null)
    );

    let path = format!("/api/v1/projects/{}", id(&p));
    let (status, got) = send(&app, Method::GET, user, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, p);

    // The app sends its copy back: its server fields are dropped, `null` leaves a field.
    let mut copy = p.clone();
    copy["title"] = json!("考研（二战）");
    copy["base_tier"] = json!(1);
    copy["type"] = json!("INFINITE");
    copy["description"] = Value::Null;
    copy["target_kpi"] = json!({"weekly_hours": 40});
    let (status, up) = send(&app, Method::PUT, user, &path, Some(copy)).await;
    assert_eq!(status, StatusCode::OK, "{up}");
    check_project(&up);
    assert_eq!(up["title"], "考研（二战）");
    assert_eq!(
        (&up["base_tier"], &up["type"]),
        (&json!(1), &json!("INFINITE"))
    );
    assert_eq!(
        up["description"], "2026年研究生入学考试准备",
        "null leaves it"
    );
    assert_eq!(up["target_kpi"], json!({"weekly_hours": 40}));
    assert_eq!(up["created_at"], p["created_at"]);
    let stamp = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(stamp(&up["updated_at"]) > stamp(&p["updated_at"]));
    let (_, cleared) = send(
        &app,
        Method::PUT,
        user,
        &path,
        Some(json!({"description": ""})),
    )
    .await;
    assert_eq!(cleared["description"], Value::Null, "\"\" clears it");

    // Listed by tier, then age; `include_stats` and a `user_id` are accepted.
    for q in ["", "?include_stats=true&user_id=someone-else"] {
        let (status, list) = send(
            &app,
            Method::GET,
            user,
            &format!("/api/v1/projects{q}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(titles(&list), ["考研（二战）", "读书"]);
        list.as_array().unwrap().iter().for_each(check_project);
    }
}

#[tokio::test]
async fn delete_archives_and_the_list_shows_archived_projects_only_when_asked() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let a = new_project(&app, user, json!({"title": "吉他", "base_tier": 2})).await;
    let b = new_project(&app, user, json!({"title": "融资", "base_tier": 0})).await;
    new_project(&app, user, json!({"title": "健身", "base_tier": 1})).await;
    let task = new_event(&app, user, json!({"title": "练和弦", "project_id": id(&a)})).await;
    let (_, list) = send(&app, Method::GET, user, "/api/v1/projects", None).await;
    assert_eq!(titles(&list), ["融资", "健身", "吉他"]);

    let path = format!("/api/v1/projects/{}", id(&a));
    let (status, gone) = send(&app, Method::DELETE, user, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&gone, "project_archive.shape.json");
    assert_eq!(
        gone,
        json!({"success": true, "message": "Project archived"})
    );
    // Archived, not deleted; its task stays in it (the original deleted both).
    let archived = row(&app, &a["id"]).await.unwrap();
    assert!(!archived.is_active);
    let t = event::Entity::find_by_id(task.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.project_id.map(|p| p.to_string()).as_deref(), Some(id(&a)));

    let (_, list) = send(&app, Method::GET, user, "/api/v1/projects", None).await;
    assert_eq!(titles(&list), ["融资", "健身"]);
    let (_, all) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/projects?active_only=false",
        None,
    )
    .await;
    assert_eq!(titles(&all), ["融资", "健身", "吉他"]);
    assert_eq!(all[2]["is_active"], false);
    let (status, one) = send(&app, Method::GET, user, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&one["is_active"], &one["one_off_tasks_total"]),
        (&json!(false), &json!(1))
    );
    // Archiving again is no error; `is_active: true` brings it back.
    let (status, _) = send(&app, Method::DELETE, user, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, back) = send(
        &app,
        Method::PUT,
        user,
        &path,
        Some(json!({"is_active": true})),
    )
    .await;
    assert_eq!(back["is_active"], true);
    assert!(row(&app, &b["id"]).await.unwrap().is_active);
}

#[tokio::test]
async fn a_second_sprint_answers_the_originals_warning_and_changes_nothing() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    let a = new_project(&app, user, json!({"title": "考研"})).await;
    let b = new_project(&app, user, json!({"title": "融资"})).await;
    let mode = |p: &Value| format!("/api/v1/projects/{}/mode", id(p));

    let (status, ok) = send(
        &app,
        Method::POST,
        user,
        &mode(&a),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_shape(&ok, "project_set_mode.shape.json");
    check_project(&ok["project"]);
    assert_eq!(
        (
            &ok["success"],
            &ok["warning"],
            &ok["existing_sprint"],
            &ok["message"]
        ),
        (&json!(true), &json!(false), &Value::Null, &Value::Null)
    );
    assert_eq!(ok["project"]["current_mode"], "SPRINT");

    let before = row(&app, &b["id"]).await.unwrap();
    let (status, warn) = send(
        &app,
        Method::POST,
        user,
        &mode(&b),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&warn, "project_set_mode.shape.json");
    assert_eq!(
        warn,
        json!({
            "success": false, "project": null, "warning": true, "existing_sprint": "考研",
            "message": "Project '考研' is already in SPRINT mode. Consider completing it first.",
        })
    );
    assert_eq!(
        row(&app, &b["id"]).await.unwrap(),
        before,
        "nothing changed"
    );

    // The sprinting one itself may be asked again; once it is NORMAL the other may sprint.
    let (_, again) = send(
        &app,
        Method::POST,
        user,
        &mode(&a),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    assert_eq!(again["success"], true);
    let (_, normal) = send(
        &app,
        Method::POST,
        user,
        &mode(&a),
        Some(json!({"mode": "NORMAL"})),
    )
    .await;
    assert_eq!(normal["project"]["current_mode"], "NORMAL");
    let (_, now) = send(
        &app,
        Method::POST,
        user,
        &mode(&b),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    assert_eq!(now["success"], true);
    // An archived sprint is no obstacle.
    send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/projects/{}", id(&b)),
        None,
    )
    .await;
    let (_, after) = send(
        &app,
        Method::POST,
        user,
        &mode(&a),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    assert_eq!(after["success"], true, "{after}");

    for (body, word) in [
        (json!({"mode": "RUSH"}), "RUSH"),
        (json!({"mode": "sprint"}), "sprint"),
        (json!({}), "mode"),
        (json!({"mode": "SPRINT", "force": true}), "force"),
    ] {
        let (status, err) = send(&app, Method::POST, user, &mode(&a), Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(err["code"], "validation_error");
        assert!(
            err["message"].as_str().unwrap().contains(word),
            "{body}: {err}"
        );
    }
}

#[tokio::test]
async fn statistics_count_the_owners_tasks_linked_by_project_id() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let other = app.user("Asia/Shanghai").await;
    let p = new_project(&app, user, json!({"title": "考研", "base_tier": 0})).await;
    let pid = id(&p).to_owned();
    // One-off tasks: two of three done, 30 and 90 minutes.
    let words = new_event(
        &app,
        user,
        json!({"title": "背单词", "project_id": pid, "duration": 30, "event_date": "2026-03-01T00:00:00"}),
    )
    .await;
    complete(&app, user, &words).await;
    new_event(
        &app,
        user,
        json!({"title": "做真题", "project_id": pid, "start_time": "2026-03-02T09:00:00", "end_time": "2026-03-02T10:30:00"}),
    )
    .await;
    let essay = new_event(
        &app,
        user,
        json!({"title": "写作文", "project_id": pid, "start_time": "2026-03-03T09:00:00", "end_time": "2026-03-03T10:30:00"}),
    )
    .await;
    complete(&app, user, &essay).await;
    // A routine: its template's 21 executions, one instance done (60 minutes), one not.
    let mut routine = crate::contract::fixture("event_create_routine")
        .as_object()
        .unwrap()
        .clone();
    routine.insert("project_id".into(), json!(pid));
    let template = new_event(&app, user, Value::Object(routine)).await;
    for (day, done) in [("2026-01-21", true), ("2026-01-23", false)] {
        let (status, inst) = send(
            &app,
            Method::POST,
            user,
            &format!("/api/v1/events/{template}/instances"),
            Some(json!({"target_date": day})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{inst}");
        assert_eq!(
            inst["project_id"],
            pid.as_str(),
            "inherited from the template"
        );
        if done {
            complete(&app, user, inst["id"].as_str().unwrap()).await;
        }
    }
    // A habit-batch instance: one execution, done, 10 minutes.
    let batch = new_event(
        &app,
        user,
        json!({"title": "打卡", "project_id": pid, "routine_batch_id": "batch-1", "duration": 10}),
    )
    .await;
    complete(&app, user, &batch).await;
    // Neither another user's event naming the project nor the user's own without it counts.
    let (status, _) = send(
        &app,
        Method::POST,
        other,
        "/api/v1/events",
        Some(json!({"title": "别人的", "project_id": pid, "duration": 999})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    new_event(&app, user, json!({"title": "买菜", "duration": 45})).await;

    let expected = json!({
        "total_tasks": 3, "completed_tasks": 2, "one_off_tasks_total": 3,
        "one_off_tasks_completed": 2, "total_focus_minutes": 30 + 90 + 60 + 10,
        "routine_stats": {"total_executions": 22, "completed_executions": 2},
    });
    let pick = |p: &Value| {
        let mut out = serde_json::Map::new();
        for k in expected.as_object().unwrap().keys() {
            out.insert(k.clone(), p[k].clone());
        }
        Value::Object(out)
    };
    let (_, one) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/projects/{pid}"),
        None,
    )
    .await;
    check_project(&one);
    assert_eq!(pick(&one), expected);
    let (_, list) = send(&app, Method::GET, user, "/api/v1/projects", None).await;
    assert_eq!(pick(&list[0]), expected);
    // Undone, a task no longer counts as done nor its minutes.
    send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/events/{words}/uncomplete"),
        None,
    )
    .await;
    let (_, one) = send(
        &app,
        Method::GET,
        user,
        &format!("/api/v1/projects/{pid}"),
        None,
    )
    .await;
    assert_eq!(
        (&one["completed_tasks"], &one["total_focus_minutes"]),
        (&json!(1), &json!(160))
    );
}

#[tokio::test]
async fn the_quest_overview_groups_a_local_days_tasks_into_main_side_and_daily() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let other = app.user("Asia/Shanghai").await;
    let core = new_project(&app, user, json!({"title": "考研", "base_tier": 0})).await;
    let growth = new_project(&app, user, json!({"title": "健身", "base_tier": 1})).await;
    let interest = new_project(&app, user, json!({"title": "吉他", "base_tier": 2})).await;
    let old = new_project(&app, user, json!({"title": "旧项目", "base_tier": 0})).await;
    let foreign = new_project(&app, other, json!({"title": "别人的", "base_tier": 0})).await;
    let (_, sprint) = send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/projects/{}/mode", id(&interest)),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    assert_eq!(sprint["success"], true);
    send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/projects/{}", id(&old)),
        None,
    )
    .await;

    for (title, project, when) in [
        (
            "真题",
            Some(&core),
            json!({"event_date": "2026-05-10T00:00:00"}),
        ),
        // 07:00 in Shanghai is still the 9th in UTC.
        (
            "跑步",
            Some(&growth),
            json!({"start_time": "2026-05-10T07:00:00"}),
        ),
        (
            "练琴",
            Some(&interest),
            json!({"start_time": "2026-05-10T23:30:00"}),
        ),
        (
            "旧任务",
            Some(&old),
            json!({"event_date": "2026-05-10T00:00:00"}),
        ),
        (
            "买菜",
            None,
            json!({"event_date": "2026-05-10T00:00:00", "time_period": "MORNING"}),
        ),
        (
            "别人的项目",
            Some(&foreign),
            json!({"event_date": "2026-05-10T00:00:00"}),
        ),
        // Other days: the 11th, and the 10th in UTC that is the 11th in Shanghai.
        (
            "明天",
            Some(&core),
            json!({"event_date": "2026-05-11T00:00:00"}),
        ),
        (
            "UTC 的十号",
            None,
            json!({"start_time": "2026-05-10T20:00:00Z"}),
        ),
    ] {
        let mut body = when;
        body["title"] = json!(title);
        if let Some(p) = project {
            body["project_id"] = json!(id(p));
        }
        new_event(&app, user, body).await;
    }
    // A routine's day is a task of the day (its template is not one).
    new_event(
        &app,
        user,
        json!({"title": "每天背单词", "project_id": id(&core), "start_time": "2026-05-10T08:00:00", "repeat_pattern": {"type": "daily", "time": "08:00"}}),
    )
    .await;

    let (status, body) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/projects/quests/overview?date=2026-05-10&user_id=x",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_shape(&body, "quest_overview.shape.json");
    assert_shape(&body["counts"], "quest_overview_counts.shape.json");
    assert_eq!(body["date"], "2026-05-10");
    assert_eq!(
        body["counts"],
        json!({"main": 3, "side": 1, "daily": 3, "total": 7})
    );
    assert_eq!(body["message"], "[QUEST] 05/10 主线3个，支线1个，日常3个");
    let group = |k: &str| -> Vec<String> {
        let list = body["overview"][k].as_array().unwrap();
        for e in list {
            check_event(e);
            assert_eq!(e["quest_type"], k);
        }
        let mut t: Vec<String> = list
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    assert_eq!(group("MAIN"), ["每天背单词", "真题", "练琴"]);
    assert_eq!(group("SIDE"), ["跑步"]);
    assert_eq!(group("DAILY"), ["买菜", "别人的项目", "旧任务"]);

    // Today in the user's zone by default; a date that is not one is refused.
    let (status, today) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/projects/quests/overview",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let local = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    assert_eq!(today["date"], local.to_string());
    for q in ["date=2026-13-01", "date=10/05/2026", "day=2026-05-10"] {
        let (status, err) = send(
            &app,
            Method::GET,
            user,
            &format!("/api/v1/projects/quests/overview?{q}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {err}");
    }
    // The other user's day holds none of these.
    let (_, theirs) = send(
        &app,
        Method::GET,
        other,
        "/api/v1/projects/quests/overview?date=2026-05-10",
        None,
    )
    .await;
    assert_eq!(theirs["counts"]["total"], 0);
}

#[tokio::test]
async fn another_users_project_is_not_found_and_nothing_is_written() {
    let app = spawn().await;
    let owner = app.user("UTC").await;
    let other = app.user("UTC").await;
    let p = new_project(&app, owner, json!({"title": "考研", "base_tier": 0})).await;
    let before = row(&app, &p["id"]).await.unwrap();
    let path = format!("/api/v1/projects/{}", id(&p));
    for (m, path, body) in [
        (Method::GET, path.clone(), None),
        (
            Method::PUT,
            path.clone(),
            Some(json!({"title": "mine now"})),
        ),
        (Method::DELETE, path.clone(), None),
        (
            Method::POST,
            format!("{path}/mode"),
            Some(json!({"mode": "SPRINT"})),
        ),
    ] {
        let (status, err) = send(&app, m.clone(), other, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{m} {path}: {err}");
        assert_eq!(err["code"], "project_not_found");
    }
    let (_, list) = send(
        &app,
        Method::GET,
        other,
        &format!("/api/v1/projects?active_only=false&user_id={owner}"),
        None,
    )
    .await;
    assert_eq!(list, json!([]));
    assert_eq!(row(&app, &p["id"]).await.unwrap(), before, "untouched");
    let (status, err) = send(
        &app,
        Method::GET,
        owner,
        &format!("/api/v1/projects/{}", Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(
        (status, &err["code"]),
        (StatusCode::NOT_FOUND, &json!("project_not_found"))
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_the_reason_and_nothing_is_written() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    for (body, word) in [
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (
            json!({"title": "x", "description": "d".repeat(5001)}),
            "description",
        ),
        (json!({"title": "x", "type": "finite"}), "type"),
        (json!({"title": "x", "type": "LOOP"}), "LOOP"),
        (json!({"title": "x", "base_tier": 3}), "base_tier"),
        (json!({"title": "x", "base_tier": -1}), "base_tier"),
        (json!({"title": "x", "base_tier": 1.5}), "base_tier"),
        (
            json!({"title": "x", "energy_type": "SPIRITUAL"}),
            "SPIRITUAL",
        ),
        (json!({"title": "x", "target_kpi": "30h"}), "target_kpi"),
        (json!({"title": "x", "colour": "red"}), "colour"),
        (json!(["x"]), "object"),
    ] {
        let (status, err) = send(
            &app,
            Method::POST,
            user,
            "/api/v1/projects",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(err["code"], "validation_error", "{err}");
        let msg = err["message"].as_str().unwrap();
        assert!(msg.contains(word), "{body}: {msg}");
        assert_eq!(err["detail"], err["message"]);
    }
    let res = app
        .req(Method::POST, Some(user), "/api/v1/projects")
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid_json");
    assert_eq!(project::Entity::find().count(&app.db).await.unwrap(), 0);

    let p = new_project(&app, user, json!({"title": "考研"})).await;
    let before = row(&app, &p["id"]).await.unwrap();
    let path = format!("/api/v1/projects/{}", id(&p));
    for (body, word) in [
        (json!({"base_tier": 5}), "base_tier"),
        (json!({"current_mode": "RUSH"}), "current_mode"),
        (json!({"is_active": "no"}), "is_active"),
        (json!({"title": ""}), "title"),
        (json!({"colour": "red"}), "colour"),
        (json!({}), "no fields"),
        (json!({"title": null, "id": id(&p)}), "no fields"),
    ] {
        let (status, err) = send(&app, Method::PUT, user, &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            err["message"].as_str().unwrap().contains(word),
            "{body}: {err}"
        );
    }
    assert_eq!(row(&app, &p["id"]).await.unwrap(), before, "untouched");
    for (path, code) in [
        ("/api/v1/projects?active_only=maybe", "invalid_query"),
        ("/api/v1/projects?colour=red", "invalid_query"),
        ("/api/v1/projects/not-a-uuid", "invalid_path"),
    ] {
        let (status, err) = send(&app, Method::GET, user, path, None).await;
        assert_eq!(
            (status, &err["code"]),
            (StatusCode::BAD_REQUEST, &json!(code)),
            "{path}"
        );
    }
}

/// The model answers with these tool calls, one per round, then with `text`.
#[tokio::test]
async fn a_turn_that_creates_and_changes_projects_is_undone_exactly() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let p = new_project(
        &app,
        user,
        json!({"title": "考研", "target_kpi": {"weekly_hours": 20}}),
    )
    .await;
    let task = new_event(
        &app,
        user,
        json!({"title": "背单词", "event_date": "2026-05-10T00:00:00"}),
    )
    .await;
    let task_id: Uuid = task.parse().unwrap();
    let project_before = row(&app, &p["id"]).await.unwrap();
    let task_before = event::Entity::find_by_id(task_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    script(
        &app,
        &[
            (
                "create_project",
                json!({"title": "健身", "type": "INFINITE", "base_tier": 1, "energy_type": "PHYSICAL"}),
            ),
            ("update_project", json!({"project_id": id(&p), "title": "考研冲刺", "base_tier": 0})),
            ("set_project_mode", json!({"project_id": id(&p), "mode": "SPRINT"})),
            ("assign_task_to_project", json!({"event_id": task, "project_id": id(&p)})),
            ("archive_project", json!({"project_id": id(&p)})),
        ],
        "好的，都安排好了。",
    )
    .await;
    let res = app
        .chat(user, json!({"message": "帮我建个健身项目，考研改成冲刺"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["snapshot_id"].is_string(), "{body}");
    // Archiving waits for the yes; the yes archives it in a turn of its own.
    assert_eq!(body["pending_action"]["tool"], "archive_project", "{body}");
    let (status, yes) = send(
        &app,
        Method::POST,
        user,
        "/api/v1/chat",
        Some(json!({"message": "确认", "conversation_id": body["conversation_id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        yes["reply"],
        "已完成：归档项目「考研冲刺」（它的任务保留）。"
    );
    let actions = body["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "the task's update: {body}");
    assert_eq!(actions[0]["type"], "update_event");
    check_event(&actions[0]["event"]);

    // What the turn did.
    let all = project::Entity::find()
        .filter(project::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let made = all.iter().find(|x| x.title == "健身").unwrap();
    assert_eq!(made.kind, project::ProjectType::Infinite);
    assert_eq!(made.energy_type, project::EnergyType::Physical);
    let changed = row(&app, &p["id"]).await.unwrap();
    assert_eq!(
        (
            changed.title.as_str(),
            changed.base_tier,
            changed.current_mode,
            changed.is_active
        ),
        ("考研冲刺", 0, project::ProjectMode::Sprint, false)
    );
    let t = event::Entity::find_by_id(task_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.project_id, Some(project_before.id));

    // The snapshot names them: the event in the app's `changes`, the projects beside it.
    let (_, snaps) = send(&app, Method::GET, user, "/api/v1/snapshots", None).await;
    let snap = &snaps[1];
    assert_eq!(snaps[0]["id"], yes["snapshot_id"]);
    crate::contract::check_fields(
        "snapshot",
        snap,
        &crate::contract::fixture("snapshot_response")["fields"],
    );
    assert_eq!(snap["id"], body["snapshot_id"]);
    assert_eq!(snap["changes"].as_array().unwrap().len(), 1);
    assert_eq!(snap["changes"][0]["event_id"], task.as_str());
    let projects = snap["project_changes"].as_array().unwrap();
    assert_eq!(projects.len(), 2, "{snap}");
    assert_eq!(projects[0]["action"], "create");
    assert_eq!(projects[0]["before"], Value::Null);
    assert_eq!(projects[0]["after"]["title"], "健身");
    assert_eq!(projects[1]["action"], "update");
    assert_eq!(projects[1]["before"]["title"], "考研");
    assert_eq!(
        projects[1]["after"]["is_active"], true,
        "archived by the yes's turn, not this one"
    );

    let (status, undone) = send(
        &app,
        Method::POST,
        user,
        &format!(
            "/api/v1/snapshots/{}/revert",
            body["snapshot_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(undone["reverted_events"], json!([task]));
    let mut reverted: Vec<String> = undone["reverted_projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    reverted.sort();
    let mut want = vec![made.id.to_string(), project_before.id.to_string()];
    want.sort();
    assert_eq!(reverted, want);
    // Exactly as before: the new project gone, the old one column for column, the task too.
    assert!(row(&app, &json!(made.id.to_string())).await.is_none());
    assert_eq!(row(&app, &p["id"]).await.unwrap(), project_before);
    let t = event::Entity::find_by_id(task_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event::Model {
            changed_at: task_before.changed_at,
            ..t
        },
        task_before
    );
    let (status, _) = send(&app, Method::POST, user, "/api/v1/snapshots/undo", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing left to undo");
}

#[tokio::test]
async fn the_read_tools_answer_in_the_originals_words_and_a_refused_call_changes_nothing() {
    let app = spawn_with(|s| s.chat.max_tool_rounds = 10).await;
    let user = app.user("Asia/Shanghai").await;
    let other = app.user("Asia/Shanghai").await;
    let a = new_project(&app, user, json!({"title": "考研", "base_tier": 1})).await;
    let b = new_project(&app, user, json!({"title": "吉他", "base_tier": 2})).await;
    let foreign = new_project(&app, other, json!({"title": "别人的"})).await;
    send(
        &app,
        Method::POST,
        user,
        &format!("/api/v1/projects/{}/mode", id(&a)),
        Some(json!({"mode": "SPRINT"})),
    )
    .await;
    new_event(
        &app,
        user,
        json!({"title": "真题", "project_id": id(&a), "event_date": "2026-05-10T00:00:00"}),
    )
    .await;
    let loose = new_event(
        &app,
        user,
        json!({"title": "买菜", "event_date": "2026-05-10T00:00:00"}),
    )
    .await;
    let b_before = row(&app, &b["id"]).await.unwrap();
    script(
        &app,
        &[
            ("get_projects", json!({})),
            (
                "set_project_mode",
                json!({"project_id": id(&b), "mode": "SPRINT"}),
            ),
            ("get_project_quests", json!({"project_id": id(&a)})),
            ("get_quest_overview", json!({"date": "2026-05-10"})),
            (
                "assign_task_to_project",
                json!({"event_id": loose, "project_id": id(&foreign)}),
            ),
            (
                "update_project",
                json!({"project_id": id(&b), "current_mode": "SPRINT"}),
            ),
        ],
        "看好了。",
    )
    .await;
    let res = app.chat(user, json!({"message": "我的项目怎么样了"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["snapshot_id"], Value::Null, "nothing changed: {body}");
    let results = body["query_results"].as_array().unwrap();
    assert_eq!(results[0]["type"], "events");
    assert_eq!(results[0]["events"][0]["title"], "真题");

    // What each tool answered the model.
    let calls = app.model.received_requests().await.unwrap();
    let last: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    let answers: Vec<Value> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| serde_json::from_str(m["content"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(answers.len(), 6);
    let listed = &answers[0];
    assert_eq!(
        (&listed["success"], &listed["total"]),
        (&json!(true), &json!(2))
    );
    assert_eq!(listed["message"], "[PROJECT] 找到 2 个项目");
    assert_eq!(titles(&listed["grouped"]["sprint"]), ["考研"]);
    assert_eq!(titles(&listed["grouped"]["tier_2"]), ["吉他"]);
    listed["projects"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(check_project);
    assert_eq!(
        answers[1],
        json!({
            "success": false, "warning": true, "existing_sprint": "考研",
            "message": "[PROJECT] 注意：「考研」已经处于冲刺模式。建议先完成再开启新冲刺。",
        })
    );
    let quests = &answers[2];
    assert_eq!(
        (&quests["quest_type"], &quests["count"]),
        (&json!("MAIN"), &json!(1))
    );
    assert_eq!(quests["tasks"][0]["quest_type"], "MAIN");
    assert_eq!(quests["message"], "[PROJECT] 「考研」有 1 个任务");
    assert_eq!(
        answers[3]["counts"],
        json!({"main": 1, "side": 0, "daily": 1, "total": 2})
    );
    assert_eq!(answers[4], json!({"error": "no such project"}));
    assert!(
        answers[5]["error"]
            .as_str()
            .unwrap()
            .contains("set_project_mode"),
        "{}",
        answers[5]
    );

    assert_eq!(row(&app, &b["id"]).await.unwrap(), b_before);
    let t = event::Entity::find_by_id(loose.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        t.project_id, None,
        "another user's project is not the user's to use"
    );
}
