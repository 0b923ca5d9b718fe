//! Object-level authorization (OWASP API1) over every documented route with a path
//! parameter, generated from the OpenAPI document: user A makes one object of every kind
//! through the API, user B calls every such route with A's ids and gets 404, and A's objects
//! read the same afterwards. A documented route with an id that this test cannot fill fails
//! it, so a new route is covered by naming which of A's objects it takes.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Stack, register, sse};

/// Routes whose parameter is not an object of a user, and why they are left out.
const NOT_OWNED: &[(&str, &str)] = &[
    (
        "/ical/",
        "a capability URL: the unguessable token is the authorization (tests: gateway calendar_feed)",
    ),
    (
        "/api/drugs/",
        "legacy drug-serve: one shared account by design, no users",
    ),
    (
        "/uploads/",
        "legacy drug-serve: one shared account by design, no users",
    ),
    (
        "/api/v1/notifications/send/template/",
        "built-in templates, the same for everyone: the name is no object of a user's",
    ),
];

/// The vision model's answer for any photo.
fn vision_answer() -> Value {
    let fields = json!({
        "name": "医用棉签", "brand": "可孚", "manufacturer": "可孚医疗科技股份有限公司",
        "expiry_date": "2027-10-31", "production_date": "2024-10-06"
    });
    json!({
        "id": "v", "object": "chat.completion", "model": "vision-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": fields.to_string()},
            "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    })
}

async fn model() -> MockServer {
    let model = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("image_url"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vision_answer()))
        .with_priority(1)
        .mount(&model)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("Write the user's diary"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant",
                "content": "{\"summary\": \"去看了牙医。\", \"key_insights\": [], \"extracted_signals\": []}"}}]
        })))
        .with_priority(1)
        .mount(&model)
        .await;
    // A chat turn: the model creates an event, then answers in words.
    Mock::given(method("POST"))
        .and(body_string_contains("\"role\":\"tool\""))
        .respond_with(sse(shared::testing::sse_text(&["记下了。"])))
        .with_priority(2)
        .mount(&model)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse(shared::testing::sse_tool_call(
            "create_event",
            &json!({"title": "牙医复诊", "start_time": "2026-11-25T15:00:00+08:00",
                "duration": 60, "category": "HEALTH", "event_type": "schedule"}),
        )))
        .with_priority(3)
        .mount(&model)
        .await;
    model
}

/// The stack with both fake models (keep the server as long as the stack) and this internal
/// secret. Its own clock is off: the jobs these tests need are run by hand, and a tick in the
/// middle of making A's objects would do A's expiry item before the test asks for it.
async fn stack_with_models(secret: &str) -> (MockServer, Stack) {
    shared::install_crypto_provider();
    let model = model().await;
    let stack = Stack::start(&[
        ("DEEPSEEK_BASE_URL", model.uri()),
        ("DEEPSEEK_API_KEY", "test-key".into()),
        ("API_BASE_URL", model.uri()),
        ("API_KEY", "test-key".into()),
        ("APP__AUTH__INTERNAL_SECRET", secret.into()),
        ("APP__SCHEDULER__CLOCK", "false".into()),
    ]);
    (model, stack)
}

async fn sign_up<'a>(stack: &'a Stack, login: &str) -> Client<'a> {
    let http = reqwest::Client::new();
    Client {
        access: register(&http, stack, login).await,
        http,
        stack,
    }
}

/// A user's session on the stack, with the calls the matrix needs.
struct Client<'a> {
    http: reqwest::Client,
    stack: &'a Stack,
    access: String,
}

impl Client<'_> {
    async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.to_uppercase().parse().unwrap(), self.stack.url(path))
            .bearer_auth(&self.access);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `method path` must answer `status`; its body.
    async fn expect(&self, status: u16, method: &str, path: &str, body: Value) -> Value {
        let (got, answer) = self.send(method, path, Some(&body)).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        answer
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send("get", path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// A's objects, one of every kind, made through the API; keyed by the resource a route's path
/// names before its first parameter.
async fn objects_of(
    a: &Client<'_>,
    stack: &Stack,
    secret: &str,
) -> BTreeMap<&'static str, Vec<String>> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let mut ids = BTreeMap::new();
    // First of all, a drug that expires within the warning window: the stack's own clock may
    // run today's expiry job for A at any moment from now on, and A's item is done once.
    a.expect(
        201,
        "post",
        "/api/v1/drugs",
        json!({
            "name": "布洛芬", "expiry_date": today + chrono::Duration::days(5)
        }),
    )
    .await;

    // A recognised box: the drug, its photo and the recognition.
    let photo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/drug-photos/cotton-swab-front.jpg"),
    )
    .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(photo).file_name("box.jpg"),
    );
    let res = a
        .http
        .post(stack.url("/api/v1/drugs/recognize"))
        .bearer_auth(&a.access)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let recognised: Value = res.json().await.unwrap();
    let drug = text(&recognised["drug"]["id"]);
    let image = text(&recognised["drug"]["images"][0]["id"]);
    ids.insert("drugs", vec![drug.clone(), image]);
    ids.insert(
        "drugs/recognitions",
        vec![text(&recognised["recognition"]["id"])],
    );

    let plan = a
        .expect(
            201,
            "post",
            "/api/v1/medications",
            json!({
                "drug_id": drug, "dose": {"amount": 1, "unit": "支"},
                "schedule": {"times": ["08:00"], "start_date": today}, "stock": 10
            }),
        )
        .await;
    ids.insert("medications", vec![text(&plan["id"])]);
    let doses = a
        .get(&format!(
            "/api/v1/doses?from={today}&to={}",
            today + chrono::Duration::days(2)
        ))
        .await;
    let dose = doses
        .as_array()
        .or_else(|| doses["items"].as_array())
        .and_then(|d| d.first())
        .map(|d| text(&d["id"]))
        .unwrap_or_else(|| panic!("no dose: {doses}"));
    ids.insert("doses", vec![dose]);

    // A household with a dependent (a person id the cabinet routes take in `X-Person-Id`).
    let household = a
        .expect(
            201,
            "post",
            "/api/v1/households",
            json!({"name": "alice 的家"}),
        )
        .await;
    let household = text(&household["id"]);
    let grandma = a
        .expect(
            201,
            "post",
            &format!("/api/v1/households/{household}/dependents"),
            json!({"name": "奶奶"}),
        )
        .await;
    ids.insert("households", vec![household, text(&grandma["person_id"])]);

    let event = a
        .expect(
            201,
            "post",
            "/api/v1/events",
            json!({"title": "体检", "event_date": today.to_string()}),
        )
        .await;
    ids.insert("events", vec![text(&event["event"]["id"])]);
    // The app's event pushes name the event.
    ids.insert("notifications/events", vec![text(&event["event"]["id"])]);
    let habit = a
        .expect(
            201,
            "post",
            "/api/v1/events",
            json!({
                "title": "喝水", "event_type": "habit", "habit_interval": 1,
                "event_date": today.to_string()
            }),
        )
        .await;
    ids.insert("habits", vec![text(&habit["template"]["routine_batch_id"])]);
    let project = a
        .expect(200, "post", "/api/v1/projects", json!({"title": "学日语"}))
        .await;
    ids.insert("projects", vec![text(&project["id"])]);
    let fact = a
        .expect(
            201,
            "post",
            "/api/v1/memory",
            json!({"kind": "health", "content": "对青霉素过敏"}),
        )
        .await;
    ids.insert("memory", vec![text(&fact["id"])]);

    let turn = a
        .expect(
            200,
            "post",
            "/api/v1/chat",
            json!({"message": "周三下午三点去看牙医"}),
        )
        .await;
    ids.insert("conversations", vec![text(&turn["conversation_id"])]);
    ids.insert("snapshots", vec![text(&turn["snapshot_id"])]);
    a.expect(
        201,
        "post",
        "/api/v1/diaries/generate",
        json!({"target_date": today.to_string()}),
    )
    .await;
    ids.insert("diaries", vec![today.to_string()]);

    let device = a
        .expect(
            201,
            "post",
            "/api/v1/devices",
            json!({"platform": "ios", "token": "a".repeat(64)}),
        )
        .await;
    ids.insert("devices", vec![text(&device["id"])]);
    // A notification: the expiry job for A today (the box expires in 2027; the drug expiring
    // within the warning window was added first).
    let me = a.get("/api/v1/users/me").await;
    let tokens = InternalTokens::new(&secret.to_owned().into(), 60);
    let run = a
        .http
        .post(stack.scheduler("/internal/jobs/expiry-alerts/run"))
        .header(
            INTERNAL_TOKEN_HEADER,
            tokens.mint("gateway", "scheduler", None),
        )
        .json(&json!({"user": me["id"], "date": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);
    let summary: Value = run.json().await.unwrap();
    // The alert is written by the run (deliveries may follow): the inbox is read until it has
    // it.
    let mut inbox = Value::Null;
    for _ in 0..100 {
        inbox = a.get("/api/v1/notifications").await;
        if inbox[0]["id"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        inbox[0]["id"].is_string(),
        "no expiry alert for A: run {summary}, inbox {inbox}, log {:#?}",
        stack.log()
    );
    ids.insert("notifications", vec![text(&inbox[0]["id"])]);
    for (kind, list) in &ids {
        assert!(
            list.iter().all(|id| !id.is_empty() && id != "null"),
            "{kind}: {list:?}"
        );
    }
    ids
}

/// The resource a documented path names before its first parameter
/// (`/api/v1/drugs/recognitions/{id}/retry` → `drugs/recognitions`).
fn resource(path: &str) -> String {
    let before = path.split('{').next().unwrap_or(path);
    before
        .trim_start_matches("/api/v1/")
        .trim_end_matches('/')
        .to_owned()
}

/// The path with A's ids in place of its parameters, in order.
fn filled(path: &str, ids: &[String]) -> String {
    let mut out = String::new();
    let mut rest = path;
    let mut next = ids.iter();
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(&rest[..open]);
        out.push_str(next.next().map_or("x", String::as_str));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// What A sees of their objects: every list and every object, read back.
async fn what_a_sees(a: &Client<'_>, ids: &BTreeMap<&'static str, Vec<String>>) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/api/v1/drugs".to_owned(),
        format!("/api/v1/drugs/{}", ids["drugs"][0]),
        format!("/api/v1/medications/{}", ids["medications"][0]),
        "/api/v1/medications".to_owned(),
        format!("/api/v1/events/{}", ids["events"][0]),
        format!("/api/v1/habits/{}", ids["habits"][0]),
        format!("/api/v1/projects/{}", ids["projects"][0]),
        format!("/api/v1/conversations/{}/messages", ids["conversations"][0]),
        "/api/v1/conversations".to_owned(),
        "/api/v1/snapshots".to_owned(),
        format!("/api/v1/diaries/{}", ids["diaries"][0]),
        format!("/api/v1/devices/{}", ids["devices"][0]),
        "/api/v1/notifications".to_owned(),
        "/api/v1/memory".to_owned(),
        "/api/v1/households".to_owned(),
    ] {
        seen.push(json!({"path": path, "body": a.get(&path).await}));
    }
    seen
}

/// A valid body that would change A's object if B were allowed to (so a refusal is the
/// ownership check's, not the body's validation).
fn hostile_body(
    method: &str,
    path: &str,
    today: chrono::NaiveDate,
    ids: &BTreeMap<&'static str, Vec<String>>,
) -> Option<Value> {
    let last = path.rsplit('/').next().unwrap_or_default();
    let body = match (method, resource(path).as_str(), last) {
        ("get" | "delete", ..) => return None,
        ("put", "drugs", _) => json!({"name": "B was here"}),
        // A whole plan (PUT replaces it), on A's drug.
        ("put", "medications", _) => json!({
            "drug_id": ids["drugs"][0], "dose": {"amount": 2, "unit": "支"},
            "schedule": {"times": ["09:00"], "start_date": today}, "stock": 0
        }),
        ("put", "households", "{person_id}") => json!({"role": "caregiver_act"}),
        ("put", "households", _) => json!({"name": "B was here"}),
        (_, _, "dependents") => json!({"name": "B was here"}),
        (_, _, "invitations") => json!({"role": "caregiver_act"}),
        ("put", "devices", _) => json!({"device_name": "B was here", "is_active": false}),
        ("put", "memory", _) => json!({"content": "B was here"}),
        ("put", ..) => json!({"title": "B was here"}),
        (_, _, "snooze") => json!({"minutes": 10}),
        (_, _, "refills") => json!({"amount": 5}),
        (_, _, "instances") => json!({"target_date": today}),
        (_, _, "confirm") => json!({"confirm": false}),
        (_, _, "mode") => json!({"mode": "SPRINT"}),
        _ => json!({}),
    };
    Some(body)
}

#[tokio::test]
async fn another_user_reaches_none_of_a_users_objects_on_any_documented_route() {
    let secret = "stack-authz-internal-secret-0123456789abcdef";
    let (_model, stack) = stack_with_models(secret).await;
    let (a, b) = (
        sign_up(&stack, "alice-owner").await,
        sign_up(&stack, "bob-intruder").await,
    );
    let ids = objects_of(&a, &stack, secret).await;
    let before = what_a_sees(&a, &ids).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();

    let mut tried = 0;
    for (method, path, ..) in gateway::openapi::SERVICE_ROUTES {
        if !path.contains('{') || NOT_OWNED.iter().any(|(p, _)| path.starts_with(p)) {
            continue;
        }
        let kind = resource(path);
        let Some(own) = ids.get(kind.as_str()) else {
            panic!(
                "{method} {path}: no object of A for `{kind}`: add one to objects_of (or to NOT_OWNED, with the reason)"
            );
        };
        let mut concrete = filled(path, own);
        if concrete.ends_with("/title") {
            // The original's title rename takes it in the query.
            concrete.push_str("?title=B");
        }
        let body = hostile_body(method, path, today, &ids);
        let (status, answer) = b.send(method, &concrete, body.as_ref()).await;
        assert_eq!(status, 404, "B: {method} {concrete} → {status} {answer}");
        let leaked = own
            .iter()
            .any(|id| answer.to_string().contains(id.as_str()))
            || answer.to_string().contains("alice");
        assert!(
            !leaked,
            "B: {method} {concrete} answered A's data: {answer}"
        );
        tried += 1;
    }
    assert!(tried >= 30, "only {tried} routes tried");
    let after = what_a_sees(&a, &ids).await;
    assert_eq!(before, after, "B changed A's objects");
    stack.interrupt();
}

/// Fields that name an owner, a role, an id or a server-kept value, each added alone to every
/// body (added together, the first unknown one refuses the body and hides the others).
fn owner_fields(intruder: &str, injected: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("user_id", json!(intruder)),
        ("owner_id", json!(intruder)),
        ("created_by", json!(intruder)),
        ("is_admin", json!(true)),
        ("id", json!(injected)),
        ("created_at", json!("2000-01-01T00:00:00Z")),
    ]
}

/// Mass assignment (OWASP API3): every create and update body, with fields naming owners,
/// roles and ids added, either is refused (400, nothing written) or leaves them as the server
/// sets them: the object is A's, its id is not the sent one, B cannot reach it, and A is not
/// an admin.
#[tokio::test]
async fn owner_role_and_id_fields_in_a_body_change_nothing() {
    let secret = "stack-mass-assignment-secret-0123456789abcdef";
    let (_model, stack) = stack_with_models(secret).await;
    let (a, b) = (
        sign_up(&stack, "alice-owner").await,
        sign_up(&stack, "bob-intruder").await,
    );
    let a_id = text(&a.get("/api/v1/users/me").await["id"]);
    let b_id = text(&b.get("/api/v1/users/me").await["id"]);
    let ids = objects_of(&a, &stack, secret).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let drug = &ids["drugs"][0];
    // (method, path, a valid body, where the object is read back)
    let writes: Vec<(&str, String, Value, Option<String>)> = vec![
        (
            "post",
            "/api/v1/drugs".into(),
            json!({"name": "维生素C"}),
            None,
        ),
        (
            "put",
            format!("/api/v1/drugs/{drug}"),
            json!({"name": "维生素C"}),
            Some(format!("/api/v1/drugs/{drug}")),
        ),
        (
            "post",
            "/api/v1/medications".into(),
            json!({
                "drug_id": drug, "dose": {"amount": 1, "unit": "片"},
                "schedule": {"times": ["20:00"], "start_date": today}
            }),
            None,
        ),
        (
            "post",
            "/api/v1/events".into(),
            json!({"title": "跑步", "event_date": today.to_string()}),
            None,
        ),
        (
            "put",
            format!("/api/v1/events/{}", ids["events"][0]),
            json!({"title": "跑步"}),
            Some(format!("/api/v1/events/{}", ids["events"][0])),
        ),
        (
            "post",
            "/api/v1/projects".into(),
            json!({"title": "健身"}),
            None,
        ),
        (
            "put",
            format!("/api/v1/projects/{}", ids["projects"][0]),
            json!({"title": "健身"}),
            Some(format!("/api/v1/projects/{}", ids["projects"][0])),
        ),
        (
            "post",
            "/api/v1/devices".into(),
            json!({"platform": "ios", "token": "b".repeat(64)}),
            None,
        ),
        (
            "put",
            format!("/api/v1/devices/{}", ids["devices"][0]),
            json!({"device_name": "手机"}),
            Some(format!("/api/v1/devices/{}", ids["devices"][0])),
        ),
        (
            "put",
            "/api/v1/users/me".into(),
            json!({"nickname": "Alice"}),
            Some("/api/v1/users/me".into()),
        ),
    ];
    let drugs_before = a.get("/api/v1/drugs").await["total"].clone();
    let (mut kept, mut refused) = (0, 0);
    for (method, path, body, read_back) in &writes {
        let injected = uuid::Uuid::new_v4().to_string();
        for (field, value) in owner_fields(&b_id, &injected) {
            if field == "user_id" && path == "/api/v1/users/me" {
                // There `user_id` is the account's own login name (the app's contract):
                // renaming oneself is the route's job.
                refused += 1;
                continue;
            }
            let mut body = body.clone();
            body[field] = value;
            let (status, answer) = a.send(method, path, Some(&body)).await;
            if status == 400 {
                // Refused as a whole, naming the field; nothing written (counted below).
                let message = answer["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(field),
                    "{method} {path} +{field}: {answer}"
                );
                refused += 1;
                continue;
            }
            assert!(
                (200..300).contains(&status),
                "{method} {path} +{field}: {status} {answer}"
            );
            kept += 1;
            let object = if answer["event"].is_object() {
                &answer["event"]
            } else {
                &answer
            };
            let id = text(&object["id"]);
            // The app chooses the ids of the events it makes (offline first, API.md); any
            // other object's id is the server's.
            if !(field == "id" && path == "/api/v1/events") {
                assert_ne!(id, injected, "{method} {path}: the client chose the id");
            }
            if let Some(owner) = object.get("user_id").filter(|v| !v.is_null()) {
                assert!(
                    text(owner) == a_id || text(owner) == "alice-owner",
                    "{method} {path} +{field}: owner is {owner}"
                );
            }
            if let Some(by) = object.get("created_by").filter(|v| !v.is_null()) {
                assert_ne!(text(by), b_id, "{method} {path}");
            }
            let read = read_back.clone().unwrap_or_else(|| format!("{path}/{id}"));
            let seen = a.get(&read).await;
            assert!(
                !seen.to_string().contains("2000-01-01"),
                "{read} took the sent created_at: {seen}"
            );
            if read != "/api/v1/users/me" {
                let (status, _) = b.send("get", &read, None).await;
                assert_eq!(
                    status, 404,
                    "B reads {read} after A's {method} {path} +{field}"
                );
            }
        }
    }
    println!("owner fields: {kept} ignored, {refused} refused");
    assert_eq!(kept + refused, writes.len() * 6);
    assert!(kept >= 10, "the ignoring paths were exercised: {kept}");
    // One drug per accepted POST /drugs, none per refused one.
    let drugs_after = a.get("/api/v1/drugs").await["total"].as_i64().unwrap();
    assert!(
        drugs_after >= drugs_before.as_i64().unwrap(),
        "{drugs_after}"
    );

    // A chosen id that is another user's event is refused, and A's event is untouched.
    let a_event = format!("/api/v1/events/{}", ids["events"][0]);
    let before = a.get(&a_event).await;
    let (status, answer) = b
        .send(
            "post",
            "/api/v1/events",
            Some(&json!({"id": ids["events"][0], "title": "B was here", "event_date": today.to_string()})),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(!answer.to_string().contains("体检"), "{answer}");
    assert_eq!(a.get(&a_event).await, before);

    // Nobody became an admin, and B's account is untouched.
    let url = format!("sqlite://{}/data/unilife.db?mode=ro", stack.dir.display());
    let db = sea_orm::Database::connect(url).await.unwrap();
    use sea_orm::EntityTrait;
    let users = shared::entities::user::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert!(users.iter().all(|u| !u.is_admin), "{users:?}");
    assert_eq!(
        text(&b.get("/api/v1/users/me").await["nickname"]),
        "bob-intruder"
    );
    stack.interrupt();
}
