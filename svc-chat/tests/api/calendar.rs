//! The calendar feed: made, read by a calendar (parsed back with the `icalendar` crate and
//! its routine expanded with `rrule`, as a calendar app would), replaced and revoked.

use icalendar::{Calendar, Component, EventLike};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shared::entities::calendar_feed;
use uuid::Uuid;

use crate::helpers::*;

/// Make a feed; its token (the address' last part, without `.ics`) and the answer.
async fn make_feed(app: &TestApp, user: Uuid, body: Option<Value>) -> (String, Value) {
    let (status, answer) = send(app, Method::POST, user, "/api/v1/calendar/feed", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let url = answer["url"].as_str().unwrap();
    let token = url
        .rsplit_once("/ical/")
        .unwrap()
        .1
        .strip_suffix(".ics")
        .unwrap()
        .to_owned();
    (token, answer)
}

/// Fetch a feed as the gateway passes a calendar app's request on: no user.
async fn fetch(app: &TestApp, token: &str) -> reqwest::Response {
    app.req(Method::GET, None, &format!("/ical/{token}.ics"))
        .send()
        .await
        .unwrap()
}

async fn fetch_text(app: &TestApp, token: &str) -> String {
    let res = fetch(app, token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    res.text().await.unwrap()
}

fn by_summary<'a>(cal: &'a Calendar, summary: &str) -> Vec<&'a icalendar::Event> {
    cal.events()
        .filter(|e| e.get_summary() == Some(summary))
        .collect()
}

fn prop<'a>(e: &'a icalendar::Event, key: &str) -> (&'a str, Vec<(String, String)>) {
    let p = e
        .properties()
        .get(key)
        .unwrap_or_else(|| panic!("{key} missing in {e:?}"));
    let params = p
        .params()
        .iter()
        .map(|(k, v)| (k.clone(), v.value().to_owned()))
        .collect();
    (p.value(), params)
}

async fn post(app: &TestApp, user: Uuid, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = send(app, Method::POST, user, path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// The days a calendar computes from a feed's rule (read by the `rrule` crate) from 13 to 17
/// March 2027 in New York, as RFC 3339 times.
fn expand(rule: &str) -> Vec<String> {
    let set: rrule::RRuleSet = rule.parse().unwrap();
    let at = |t: &str| {
        t.parse::<chrono::DateTime<chrono::FixedOffset>>()
            .unwrap()
            .with_timezone(&rrule::Tz::UTC)
    };
    set.after(at("2027-03-13T00:00:00-05:00"))
        .before(at("2027-03-18T00:00:00-04:00"))
        .all(100)
        .dates
        .iter()
        .map(|d| d.to_rfc3339())
        .collect()
}

#[tokio::test]
async fn a_calendar_reads_the_feed_back_as_the_app_lists_it() {
    let app = spawn().await;
    let user = app.user("America/New_York").await;
    let single = post(
        &app,
        user,
        "/api/v1/events",
        Some(
            json!({"title": "牙医, 复诊; 带病历", "event_type": "schedule",
            "start_time": "2027-03-10T09:00:00", "end_time": "2027-03-10T09:45:00",
            "location": "Main St. 5", "notes": "第一行\n第二行"}),
        ),
    )
    .await;
    post(
        &app,
        user,
        "/api/v1/events",
        Some(json!({"title": "交房租", "event_type": "floating", "event_date": "2027-03-12"})),
    )
    .await;
    let routine = post(
        &app,
        user,
        "/api/v1/events",
        Some(
            json!({"title": "跑步", "event_type": "schedule", "category": "HEALTH",
            "event_date": "2027-03-13", "duration": 30,
            "repeat_pattern": {"type": "daily", "time": "07:00"}}),
        ),
    )
    .await;
    let id = routine["template"]["id"].as_str().unwrap().to_owned();
    // A routine whose first day's time falls in the DST gap (02:30 on 14 March).
    post(
        &app,
        user,
        "/api/v1/events",
        Some(
            json!({"title": "夜班", "event_type": "schedule", "event_date": "2027-03-14",
            "duration": 60, "repeat_pattern": {"type": "daily", "time": "02:30"}}),
        ),
    )
    .await;
    // Cancel the 15th, complete the 16th: an EXDATE and an exception.
    let (status, _) = send(
        &app,
        Method::DELETE,
        user,
        &format!("/api/v1/events/virtual_{id}_20270315?delete_series=false"),
        None,
    )
    .await;
    assert!(status.is_success());
    post(
        &app,
        user,
        &format!("/api/v1/events/virtual_{id}_20270316/complete"),
        None,
    )
    .await;
    // Someone else's event is not in this feed.
    let other = app.user("America/New_York").await;
    post(
        &app,
        other,
        "/api/v1/events",
        Some(json!({"title": "别人的会", "start_time": "2027-03-10T10:00:00"})),
    )
    .await;

    let (token, answer) = make_feed(&app, user, None).await;
    assert_eq!(answer["alarm_minutes"], 15);
    assert!(
        answer["webcal_url"]
            .as_str()
            .unwrap()
            .starts_with("webcal://")
    );
    let text = fetch_text(&app, &token).await;
    assert!(!text.contains("别人的会"), "{text}");
    let cal: Calendar = text.parse().expect("the feed parses");

    // The zone, with its March change, for calendars that read only the feed.
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York"),
        "{text}"
    );
    assert!(
        text.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400"
        ),
        "{text}"
    );

    // The single event: its local time in its zone, its text escaped and back, an alarm.
    let dentist = by_summary(&cal, "牙医, 复诊; 带病历");
    assert_eq!(dentist.len(), 1, "{text}");
    let d = dentist[0];
    assert_eq!(
        prop(d, "DTSTART"),
        (
            "20270310T090000",
            vec![("TZID".into(), "America/New_York".into())]
        )
    );
    assert_eq!(prop(d, "DTEND").0, "20270310T094500");
    assert_eq!(d.get_description(), Some("第一行\n第二行"));
    assert_eq!(d.get_location(), Some("Main St. 5"));
    assert_eq!(
        d.get_uid().unwrap(),
        format!("{}@unilife", single["event"]["id"].as_str().unwrap())
    );
    let alarms: Vec<_> = d
        .components()
        .iter()
        .filter(|c| c.component_kind() == "VALARM")
        .collect();
    assert_eq!(alarms.len(), 1, "{text}");
    assert_eq!(alarms[0].property_value("TRIGGER"), Some("-PT15M"));

    // The day event: all day.
    let rent = by_summary(&cal, "交房租");
    assert_eq!(rent.len(), 1);
    assert_eq!(
        prop(rent[0], "DTSTART"),
        ("20270312", vec![("VALUE".into(), "DATE".into())])
    );
    assert_eq!(prop(rent[0], "DTEND").0, "20270313");

    // The routine: one event with its rule and the cancelled day; the completed day an
    // exception with the series' UID.
    let runs = by_summary(&cal, "跑步");
    assert_eq!(runs.len(), 1, "{text}");
    let series = runs[0];
    assert_eq!(series.get_uid().unwrap(), format!("{id}@unilife"));
    assert_eq!(prop(series, "RRULE").0, "FREQ=DAILY");
    let done = by_summary(&cal, "✓ 跑步");
    assert_eq!(done.len(), 1, "{text}");
    assert_eq!(done[0].get_uid(), series.get_uid());
    assert_eq!(prop(done[0], "RECURRENCE-ID").0, "20270316T070000");

    // What a calendar computes from the feed is what the app lists: 07:00 local each day,
    // across the change, without the 15th (the 16th is there as its exception).
    let exdates: Vec<String> = series
        .multi_properties()
        .get("EXDATE")
        .map(|v| {
            v.iter()
                .map(|p| format!("EXDATE;TZID=America/New_York:{}", p.value()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(exdates, ["EXDATE;TZID=America/New_York:20270315T070000"]);
    let rule = format!(
        "DTSTART;TZID=America/New_York:{}\nRRULE:{}\n{}",
        prop(series, "DTSTART").0,
        prop(series, "RRULE").0,
        exdates.join("\n")
    );
    let calendar_days = expand(&rule);
    let (status, listed) = send(
        &app,
        Method::GET,
        user,
        "/api/v1/events?start_date=2027-03-13&end_date=2027-03-17",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut app_days: Vec<String> = listed["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["title"] == "跑步" && e["status"] != "COMPLETED")
        .map(|e| {
            chrono::DateTime::parse_from_rfc3339(e["start_time"].as_str().unwrap())
                .unwrap()
                .to_rfc3339()
        })
        .collect();
    app_days.push("2027-03-16T07:00:00-04:00".into());
    app_days.sort();
    assert_eq!(
        calendar_days,
        [
            "2027-03-13T07:00:00-05:00",
            "2027-03-14T07:00:00-04:00",
            "2027-03-16T07:00:00-04:00",
            "2027-03-17T07:00:00-04:00"
        ]
    );
    assert_eq!(calendar_days, app_days);

    // The gap routine: its wall-clock time from the first day. RFC 5545 §3.3.5 reads a
    // local time a gap skips with the offset before the gap (02:30 EST = 03:30 EDT, the app's
    // first night); the `rrule` crate refuses such a start, so its expansion is checked from
    // the next day on, where the rule's days are plain 02:30s.
    let nights = by_summary(&cal, "夜班");
    assert_eq!(nights.len(), 1, "{text}");
    assert_eq!(prop(nights[0], "DTSTART").0, "20270314T023000");
    assert_eq!(prop(nights[0], "DURATION").0, "PT60M");
    let rule = format!(
        "DTSTART;TZID=America/New_York:20270315T023000\nRRULE:{}",
        prop(nights[0], "RRULE").0,
    );
    let mut calendar_nights = expand(&rule);
    calendar_nights.insert(0, "2027-03-14T03:30:00-04:00".into());
    let app_nights: Vec<String> = listed["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["title"] == "夜班")
        .map(|e| {
            chrono::DateTime::parse_from_rfc3339(e["start_time"].as_str().unwrap())
                .unwrap()
                .to_rfc3339()
        })
        .collect();
    assert_eq!(
        app_nights,
        [
            "2027-03-14T03:30:00-04:00",
            "2027-03-15T02:30:00-04:00",
            "2027-03-16T02:30:00-04:00",
            "2027-03-17T02:30:00-04:00"
        ]
    );
    assert_eq!(calendar_nights, app_nights);
}

#[tokio::test]
async fn a_feed_is_shown_once_replaced_and_revoked() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    post(
        &app,
        user,
        "/api/v1/events",
        Some(json!({"title": "开会", "start_time": "2027-01-05T10:00:00"})),
    )
    .await;
    let (status, none) = send(&app, Method::GET, user, "/api/v1/calendar/feed", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none, json!({"active": false}));

    let (first, _) = make_feed(&app, user, Some(json!({"alarm_minutes": null}))).await;
    // Only the hash is stored.
    let row = calendar_feed::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.token_hash, first);
    assert!(!row.token_hash.contains(&first));
    let res = fetch(&app, &first).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let text = res.text().await.unwrap();
    assert!(text.contains("SUMMARY:开会"), "{text}");
    assert!(!text.contains("VALARM"), "no alarms were asked for: {text}");

    // Unchanged: 304 to a calendar that sends the tag back; changed: a new tag.
    let again = app
        .req(Method::GET, None, &format!("/ical/{first}.ics"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // A proxy that compressed the body sends the tag back weak.
    let weak = app
        .req(Method::GET, None, &format!("/ical/{first}.ics"))
        .header("if-none-match", format!("W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::NOT_MODIFIED);
    post(
        &app,
        user,
        "/api/v1/events",
        Some(json!({"title": "复盘", "start_time": "2027-01-06T10:00:00"})),
    )
    .await;
    let changed = app
        .req(Method::GET, None, &format!("/ical/{first}.ics"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(changed.text().await.unwrap().contains("SUMMARY:复盘"));

    let (status, seen) = send(&app, Method::GET, user, "/api/v1/calendar/feed", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["active"], true);
    assert_eq!(seen["alarm_minutes"], Value::Null);
    assert!(seen["last_fetched_at"].is_string(), "{seen}");
    assert!(
        seen.get("url").is_none(),
        "the address is shown once: {seen}"
    );

    // A new address replaces the old at once.
    let (second, _) = make_feed(&app, user, Some(json!({"alarm_minutes": 30}))).await;
    assert_ne!(first, second);
    assert_eq!(fetch(&app, &first).await.status(), StatusCode::NOT_FOUND);
    assert!(fetch_text(&app, &second).await.contains("TRIGGER:-PT30M"));

    // Revoked: gone.
    let (status, _) = send(&app, Method::DELETE, user, "/api/v1/calendar/feed", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(fetch(&app, &second).await.status(), StatusCode::NOT_FOUND);
    let (_, after) = send(&app, Method::GET, user, "/api/v1/calendar/feed", None).await;
    assert_eq!(after, json!({"active": false}));
}

#[tokio::test]
async fn bad_feed_requests_are_refused_and_write_nothing() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    for body in [
        json!({"alarm_minutes": 5000}),
        json!({"alarm_minutes": -1}),
        json!({"alarm_minutes": "15"}),
        json!({"alarm": 15}),
        json!([15]),
    ] {
        let (status, answer) = send(
            &app,
            Method::POST,
            user,
            "/api/v1/calendar/feed",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["code"], "validation_error", "{answer}");
    }
    assert!(
        calendar_feed::Entity::find_by_id(user)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    // Not a token of ours (wrong length, wrong characters, unknown): 404 alike.
    for token in ["short", &"!".repeat(43), &"a".repeat(43)] {
        assert_eq!(fetch(&app, token).await.status(), StatusCode::NOT_FOUND);
    }
    // The feed route still needs the gateway's internal token.
    let (token, _) = make_feed(&app, user, None).await;
    let direct = app
        .client
        .get(format!("{}/ical/{token}.ics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_feed_holds_the_doses_as_recurring_events_and_expiry_dates_with_alarms() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let warfarin = drugs_post(
        &app,
        user,
        "/api/v1/drugs",
        json!({"name": "华法林钠片", "expiry_date": "2027-06-30"}),
    )
    .await;
    let prednisone = drugs_post(&app, user, "/api/v1/drugs", json!({"name": "泼尼松片"})).await;
    // Mondays, Wednesdays and Fridays at 08:00 from Tuesday 2027-03-02: the first dose is
    // Wednesday the 3rd.
    drugs_post(
        &app,
        user,
        "/api/v1/medications",
        json!({"drug_id": warfarin["id"], "dose": {"amount": 2.5, "unit": "mg"},
               "schedule": {"times": ["08:00"], "days_of_week": [1, 3, 5],
                            "start_date": "2027-03-02", "end_date": "2027-04-30"}}),
    )
    .await;
    // A taper in New York: 3 days of 4 tablets, then 2 days of 2, at 09:00 and 21:00.
    drugs_post(
        &app,
        user,
        "/api/v1/medications",
        json!({"drug_id": prednisone["id"], "dose": {"amount": 1, "unit": "片"},
               "schedule": {"times": ["09:00", "21:00"], "start_date": "2027-03-10",
                            "timezone": "America/New_York"},
               "phases": [{"days": 3, "amount": 4}, {"days": 2, "amount": 2}]}),
    )
    .await;
    // As needed: not a calendar event.
    drugs_post(
        &app,
        user,
        "/api/v1/medications",
        json!({"drug_id": prednisone["id"], "dose": {"amount": 1, "unit": "片"},
               "schedule": {"times": [], "start_date": "2027-03-10"}, "as_needed": true}),
    )
    .await;

    // Without asking, a feed holds no medicines (its address may be shared).
    let (token, made) = make_feed(&app, user, None).await;
    assert_eq!(made["medications"], false);
    assert!(!fetch_text(&app, &token).await.contains("华法林"));
    let (token, made) = make_feed(&app, user, Some(json!({"medications": true}))).await;
    assert_eq!(made["medications"], true);
    let text = fetch_text(&app, &token).await;
    let cal: Calendar = text.parse().unwrap();

    let warfarin_doses = by_summary(&cal, "💊 华法林钠片 2.5 mg");
    assert_eq!(warfarin_doses.len(), 1, "{text}");
    let e = warfarin_doses[0];
    let (start, params) = prop(e, "DTSTART");
    assert_eq!(start, "20270303T080000");
    assert!(params.contains(&("TZID".into(), "Asia/Shanghai".into())));
    // The last dose: Friday 30 April 08:00 Shanghai = 00:00 UTC.
    assert_eq!(
        prop(e, "RRULE").0,
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20270430T000000Z"
    );
    assert!(text.contains("TRIGGER:PT0M"));

    // The taper: one series per phase and time; its days as a calendar computes them.
    let high = by_summary(&cal, "💊 泼尼松片 4 片");
    let low = by_summary(&cal, "💊 泼尼松片 2 片");
    assert_eq!((high.len(), low.len()), (2, 2), "{text}");
    let morning = high
        .iter()
        .find(|e| prop(e, "DTSTART").0 == "20270310T090000")
        .unwrap();
    let set = format!(
        "DTSTART;TZID=America/New_York:20270310T090000\nRRULE:{}",
        prop(morning, "RRULE").0
    );
    // 10, 11 and 12 March at 09:00 New York; the clocks change on the 14th, after it.
    assert_eq!(
        set.parse::<rrule::RRuleSet>()
            .unwrap()
            .all(10)
            .dates
            .iter()
            .map(|d| d.to_rfc3339())
            .collect::<Vec<_>>(),
        [
            "2027-03-10T09:00:00-05:00",
            "2027-03-11T09:00:00-05:00",
            "2027-03-12T09:00:00-05:00"
        ]
    );
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York"));

    // The expiry date, all day, with an alarm a week before.
    let expiry = by_summary(&cal, "⚠️ 华法林钠片 到期 / expires");
    assert_eq!(expiry.len(), 1);
    assert_eq!(prop(expiry[0], "DTSTART").0, "20270630");
    assert!(text.contains("TRIGGER:-P7D"));
    // Nothing for the as-needed plan.
    assert_eq!(
        text.matches("泼尼松片").count(),
        8,
        "two phases × two times, summary and alarm"
    );
}
