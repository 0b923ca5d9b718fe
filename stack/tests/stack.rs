//! The README's first command, as a user runs it: the real binary in an empty directory,
//! the whole system answering through the printed URL, and a clean stop on Ctrl-C (SIGINT).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "stack_tests/authorization.rs"]
mod authorization;
#[path = "stack_tests/web.rs"]
mod web;

/// The stack binary running in its own empty directory.
struct Stack {
    child: Child,
    dir: PathBuf,
    base: String,
    /// Loopback ports of drugs, chat and scheduler, as printed.
    services: Vec<u16>,
    stdout: mpsc::Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Stack {
    fn start(envs: &[(&str, String)]) -> Self {
        let dir = std::env::temp_dir().join(format!("stack-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_stack"));
        command
            .args(["--port", "0"])
            .current_dir(&dir)
            .env_remove("DATABASE_URL")
            .env_remove("POSTGRESQL_URL")
            .env_remove("JWT_SECRET_KEY")
            .env_remove("APP__AUTH__INTERNAL_SECRET")
            .env("LOG_LEVEL", "warn")
            // The daily check-ins go at the users' own hours and ask the model: off unless a
            // test is about them (they would talk to the fake model at some hours of the day).
            .env("APP__SCHEDULER__CHECKINS", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("stack: {line}");
                sink.lock().unwrap().push(line);
            }
        });
        let mut stack = Self {
            child,
            dir,
            base: String::new(),
            services: Vec::new(),
            stdout: rx,
            log,
        };
        let started = Instant::now();
        while stack.base.is_empty() || stack.services.is_empty() {
            let line = stack
                .stdout
                .recv_timeout(Duration::from_secs(60))
                .expect("the stack prints its URL and its services");
            let line = line.trim();
            if let Some(url) = line.strip_prefix("open").map(str::trim) {
                stack.base = url.trim_end_matches('/').to_owned();
            }
            if let Some(rest) = line.strip_prefix("services") {
                stack.services = rest
                    .split_whitespace()
                    .filter_map(|w| w.strip_prefix(':')?.parse().ok())
                    .collect();
            }
        }
        println!("stack up in {:?} at {}", started.elapsed(), stack.base);
        stack
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn scheduler(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.services[2])
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Ctrl-C, then a clean exit that says so.
    fn interrupt(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                Instant::now() < deadline,
                "the stack did not stop within 20 s of Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "{exit:?}");
        let lines: Vec<String> = self.stdout.try_iter().collect();
        assert!(lines.iter().any(|l| l.contains("Stopped.")), "{lines:?}");
    }
}

/// A failed assertion must not leave the stack running.
impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_string(body)
}

async fn register(client: &reqwest::Client, stack: &Stack, login: &str) -> String {
    let register = client
        .post(stack.url("/api/v1/auth/register"))
        .json(&json!({"user_id": login, "password": "s3cret-passw0rd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let session: Value = register.json().await.unwrap();
    session["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_stack_starts_every_service_and_stops_cleanly_on_ctrl_c() {
    shared::install_crypto_provider();
    // The chat model, streaming a three-token reply.
    let model = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse(shared::testing::sse_text(&["Hello", ", ", "stack"])))
        .mount(&model)
        .await;
    let stack = Stack::start(&[
        ("DEEPSEEK_BASE_URL", model.uri()),
        ("DEEPSEEK_API_KEY", "test-key".into()),
    ]);
    let client = reqwest::Client::new();
    let health = client
        .get(stack.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "healthy", "{body}");
    for service in ["drugs", "chat", "scheduler", "gateway"] {
        assert_eq!(body["services"][service], "up", "{body}");
    }
    let access = register(&client, &stack, "stack-user").await;
    // Each service answers through the gateway (h2c between them inside the stack).
    for path in [
        "/api/v1/drugs",
        "/api/v1/conversations",
        "/api/v1/notifications",
    ] {
        let res = client
            .get(stack.url(path))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        // HEAD answers as GET would (the body's absence is checked on the wire in
        // svc-drugs' legacy walk test; a client never reads one here).
        let head = client
            .head(stack.url(path))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
    }
    let streamed = client
        .post(stack.url("/api/v1/chat"))
        .bearer_auth(&access)
        .json(&json!({"message": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert!(
        streamed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = streamed.text().await.unwrap();
    // Every event has an id (resumable); pieces arriving at once may go out together.
    let data = |block: &str| -> Value {
        serde_json::from_str(
            block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap(),
        )
        .unwrap()
    };
    let deltas: String = text
        .split("\n\n")
        .filter(|block| block.contains("\nevent: delta\n"))
        .map(|block| data(block)["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(deltas, "Hello, stack", "{text}");
    assert!(text.starts_with("id: "), "{text}");
    let done = text
        .split("\n\n")
        .find(|block| block.contains("\nevent: done\n"))
        .and_then(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .expect("a done event");
    let done: Value = serde_json::from_str(done).unwrap();
    assert_eq!(done["reply"], "Hello, stack", "{text}");
    assert!(
        stack.dir.join("data/unilife.db").exists(),
        "SQLite database under ./data"
    );
    check_secrets_file(&stack.dir);
    // The operator gives the admin role from a shell beside the stack, and only there.
    let admin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_stack"))
            .arg("admin")
            .args(args)
            .current_dir(&stack.dir)
            .env_remove("DATABASE_URL")
            .env_remove("POSTGRESQL_URL")
            .env("LOG_LEVEL", "warn")
            .output()
            .unwrap()
    };
    let granted = admin(&["grant", "stack-user"]);
    assert!(granted.status.success(), "{granted:?}");
    assert!(
        String::from_utf8_lossy(&granted.stdout).contains("stack-user"),
        "{granted:?}"
    );
    let unknown = admin(&["grant", "nobody-at-all"]);
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no account with the login \"nobody-at-all\""),
        "{unknown:?}"
    );
    stack.interrupt();
}

/// The secrets were made at first start, kept owner-only, and are not the built-in value.
fn check_secrets_file(dir: &Path) {
    let path = dir.join("data/secrets");
    let text = std::fs::read_to_string(&path).expect("data/secrets");
    assert!(text.contains("jwt_secret = "), "{text}");
    assert!(!text.contains(shared::config::DEV_SECRET));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// Every call one service makes to another, made inside the one-process stack: the scheduler
/// asks svc-drugs for due doses and expiring drugs and svc-chat for a diary; svc-chat asks
/// svc-drugs for the cabinet. Nothing in the stack's log may say a service was unreachable.
#[tokio::test]
async fn every_cross_service_call_reaches_its_service_inside_the_stack() {
    shared::install_crypto_provider();
    let model = MockServer::start().await;
    // Diary requests (plain completions) by their prompt.
    Mock::given(method("POST"))
        .and(body_string_contains("Write the user's diary"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant",
                "content": "{\"summary\": \"吃了布洛芬，状态不错。\", \"key_insights\": [], \"extracted_signals\": []}"}}]
        })))
        .with_priority(1)
        .mount(&model)
        .await;
    // A chat turn: once the cabinet tool has answered, the model replies in words ...
    Mock::given(method("POST"))
        .and(body_string_contains("\"role\":\"tool\""))
        .respond_with(sse(shared::testing::sse_text(&["你的药箱里有布洛芬。"])))
        .with_priority(2)
        .mount(&model)
        .await;
    // ... and before that it asks for the cabinet.
    Mock::given(method("POST"))
        .respond_with(sse(shared::testing::sse_tool_call(
            "get_medicine_cabinet",
            &json!({}),
        )))
        .with_priority(3)
        .mount(&model)
        .await;
    let internal_secret = "stack-test-internal-secret-0123456789abcdef";
    let stack = Stack::start(&[
        ("DEEPSEEK_BASE_URL", model.uri()),
        ("DEEPSEEK_API_KEY", "test-key".into()),
        ("APP__AUTH__INTERNAL_SECRET", internal_secret.into()),
    ]);
    let client = reqwest::Client::new();
    let access = register(&client, &stack, "cross-service").await;
    let get = |path: &str| client.get(stack.url(path)).bearer_auth(&access).send();
    let me: Value = get("/api/v1/users/me").await.unwrap().json().await.unwrap();
    let user = me["id"].as_str().expect("the user's id").to_owned();
    let tz: chrono_tz::Tz = me["timezone"].as_str().unwrap().parse().unwrap();
    let local_now = chrono::Utc::now().with_timezone(&tz);
    let today = local_now.date_naive();
    // Awake whenever this runs (equal wake and sleep times): the expiry alert is pushed at once.
    let res = client
        .put(stack.url("/api/v1/users/me/notification-settings"))
        .bearer_auth(&access)
        .json(&json!({"wake_time": "00:00", "sleep_time": "00:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);

    // A drug that expires in ten days, with a dose due this minute.
    let drug: Value = client
        .post(stack.url("/api/v1/drugs"))
        .bearer_auth(&access)
        .json(&json!({"name": "布洛芬缓释胶囊", "expiry_date": today + chrono::Duration::days(10)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plan = client
        .post(stack.url("/api/v1/medications"))
        .bearer_auth(&access)
        .json(&json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "粒"},
            "schedule": {"times": [local_now.format("%H:%M").to_string()], "start_date": today},
            "stock": 10
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(plan.status(), 201, "{}", plan.text().await.unwrap());

    // The user looks after grandpa (a dependent without a login): his dose 40 minutes ago is
    // still unmarked, past its 30 minutes, so the scheduler tells the user.
    let post = |path: &str, body: Value, person: Option<&str>| {
        let mut req = client
            .post(stack.url(path))
            .bearer_auth(&access)
            .json(&body);
        if let Some(p) = person {
            req = req.header("X-Person-Id", p);
        }
        req.send()
    };
    let household: Value = post("/api/v1/households", json!({"name": "我们家"}), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grandpa: Value = post(
        &format!(
            "/api/v1/households/{}/dependents",
            household["id"].as_str().unwrap()
        ),
        json!({"name": "爷爷"}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let grandpa = grandpa["person_id"]
        .as_str()
        .expect("grandpa's id")
        .to_owned();
    let his: Value = post(
        "/api/v1/drugs",
        json!({"name": "氨氯地平片"}),
        Some(&grandpa),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let dose_at = chrono::Utc::now() - chrono::Duration::minutes(40);
    let res = post(
        "/api/v1/medications",
        json!({
            "drug_id": his["id"], "dose": {"amount": 1, "unit": "片"},
            "schedule": {"times": [dose_at.format("%H:%M").to_string()],
                "start_date": dose_at.date_naive() - chrono::Duration::days(1), "timezone": "UTC"},
            "escalate_after_minutes": 30
        }),
        Some(&grandpa),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    // Made yesterday (a dose from before a plan existed is history, not missed).
    let plan: Value = res.json().await.unwrap();
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}?mode=rw",
        stack.dir.join("data/unilife.db").display()
    ))
    .await
    .unwrap();
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        use shared::entities::medication_plan;
        let id: uuid::Uuid = plan["id"].as_str().unwrap().parse().unwrap();
        let changed = medication_plan::Entity::update_many()
            .col_expr(
                medication_plan::Column::CreatedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(1)),
            )
            .filter(medication_plan::Column::Id.eq(id))
            .exec(&db)
            .await
            .unwrap();
        assert_eq!(changed.rows_affected, 1);
    }

    // A platform timer (FC's, on the scheduler's loopback port): the scheduler asks svc-drugs
    // for due doses, and the reminder lands in the inbox.
    let tick = client
        .post(stack.scheduler("/invoke"))
        .json(&json!({"triggerName": "test", "triggerTime": chrono::Utc::now()}))
        .send()
        .await
        .unwrap();
    assert_eq!(tick.status(), 200, "{}", tick.text().await.unwrap());
    let tokens = InternalTokens::new(&internal_secret.to_owned().into(), 60);
    let run = |job: &str, body: Value| {
        client
            .post(stack.scheduler(&format!("/internal/jobs/{job}/run")))
            .header(
                INTERNAL_TOKEN_HEADER,
                tokens.mint("gateway", "scheduler", None),
            )
            .json(&body)
            .send()
    };
    // For today, whatever the hour (the job is otherwise due at 09:00 local time).
    let expiry = run("expiry-alerts", json!({"user": user, "date": today}))
        .await
        .unwrap();
    let summary: Value = expiry.json().await.unwrap();
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(summary["error"], Value::Null, "{summary}");
    // The stack's own clock may be running the dose job at this moment: the run that claimed
    // the dose first writes the reminder, so the inbox is read until it has both.
    let mut inbox = Value::Null;
    for _ in 0..100 {
        inbox = get("/api/v1/notifications")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let text = inbox.to_string();
        if text.contains("dose_reminder")
            && text.contains("expiry_alert")
            && text.contains("dose_escalation")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let kinds: Vec<&str> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"dose_reminder"), "{inbox}");
    assert!(kinds.contains(&"expiry_alert"), "{inbox}");
    assert!(kinds.contains(&"dose_escalation"), "{inbox}");
    let text = inbox.to_string();
    assert!(text.contains("布洛芬缓释胶囊"), "{inbox}");
    assert!(text.contains("爷爷 还没有服药"), "{inbox}");

    // A chat turn whose model calls the cabinet tool: svc-chat asks svc-drugs, and the model's
    // second request carries the user's drugs.
    let chat = client
        .post(stack.url("/api/v1/chat"))
        .bearer_auth(&access)
        .json(&json!({"message": "我的药箱里有什么？"}))
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), 200);
    let answer: Value = chat.json().await.unwrap();
    assert_eq!(answer["reply"], "你的药箱里有布洛芬。", "{answer}");
    let requests = model.received_requests().await.unwrap();
    let tool_round = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .find(|b| b.contains("\"role\":\"tool\""))
        .expect("the model was sent the tool's result");
    assert!(tool_round.contains("布洛芬缓释胶囊"), "{tool_round}");

    // The nightly diary job for today: the scheduler asks svc-chat, which writes it.
    let diary = run("daily-diaries", json!({"user": user, "date": today}))
        .await
        .unwrap();
    let summary: Value = diary.json().await.unwrap();
    assert_eq!(summary["done"], 1, "{summary}");
    let diaries: Value = get("/api/v1/diaries").await.unwrap().json().await.unwrap();
    assert_eq!(
        diaries["diaries"][0]["summary"], "吃了布洛芬，状态不错。",
        "{diaries}"
    );

    let log = stack.log();
    let failures: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("unreachable") || l.contains("failed"))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    stack.interrupt();
}

/// The routes the services register in their source (`svc-*/src/routes/`): (method, path)
/// under the public scopes, path parameters written `{}`.
fn served_public_routes() -> std::collections::BTreeSet<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = std::collections::BTreeSet::new();
    for service in ["svc-drugs", "svc-chat", "svc-scheduler"] {
        let mut stack = vec![root.join(service).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.extend(routes_in(&text));
                }
            }
        }
    }
    out.retain(|(_, p)| {
        ["/api/v1/", "/api/drugs", "/uploads/", "/ical/"]
            .iter()
            .any(|prefix| p.starts_with(prefix))
    });
    out
}

/// `.route("path", web::method()` inside `web::scope("prefix")` (or a `web::resource("path")`
/// with `.route(web::method()`), by reading the source text.
fn routes_in(text: &str) -> Vec<(String, String)> {
    let literal_after = |at: usize| -> Option<(String, usize)> {
        let start = text[at..].find('"')? + at + 1;
        let end = text[start..].find('"')? + start;
        Some((text[start..end].to_owned(), end))
    };
    // Scopes: prefix and the span of the call that holds them.
    let mut scopes = Vec::new();
    for (at, _) in text.match_indices("web::scope(") {
        let Some((prefix, _)) = literal_after(at) else {
            continue;
        };
        // The scope lasts until the parenthesis open before it closes.
        let mut depth = 0i32;
        let mut open = at;
        for (i, c) in text[..at].char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' if depth == 0 => {
                    open = i;
                    break;
                }
                '(' => depth -= 1,
                _ => {}
            }
        }
        let mut depth = 0i32;
        let mut close = text.len();
        for (i, c) in text[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        scopes.push((prefix, at, close));
    }
    let prefix_at = |at: usize| {
        scopes
            .iter()
            .filter(|(_, start, end)| *start < at && at < *end)
            .map(|(p, _, _)| p.as_str())
            .collect::<String>()
    };
    let method_after = |at: usize| -> Option<String> {
        let rest = &text[at..];
        let m = rest.find("web::")?;
        let name: String = rest[m + 5..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        ["get", "post", "put", "delete", "patch"]
            .contains(&name.as_str())
            .then_some(name)
    };
    let normalise = |p: String| {
        let mut out = String::new();
        let mut in_param = false;
        for c in p.chars() {
            match c {
                '{' => {
                    in_param = true;
                    out.push_str("{}");
                }
                '}' => in_param = false,
                c if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut out = Vec::new();
    for (at, _) in text.match_indices(".route(") {
        let Some((path, end)) = literal_after(at) else {
            continue;
        };
        // `.route(web::get()...)` on a resource has no path literal of its own.
        if text[at + 7..].trim_start().starts_with("web::") {
            continue;
        }
        if let Some(method) = method_after(end) {
            out.push((method, normalise(format!("{}{path}", prefix_at(at)))));
        }
    }
    for (at, _) in text.match_indices("web::resource(") {
        let Some((path, end)) = literal_after(at) else {
            continue;
        };
        let block_end = text[end..].find(";").map_or(text.len(), |i| end + i);
        let block = &text[end..block_end];
        for (i, _) in block.match_indices(".route(") {
            if let Some(method) = method_after(end + i) {
                out.push((method, normalise(format!("{}{path}", prefix_at(at)))));
            }
        }
    }
    out
}

/// The OpenAPI document and the services agree route for route: every documented route is
/// answered through the gateway by a handler (not the router's 404 or a 405), and every
/// public route a service registers is documented.
#[tokio::test]
async fn every_documented_route_is_served_and_every_served_route_is_documented() {
    shared::install_crypto_provider();
    let documented: std::collections::BTreeSet<(String, String)> = gateway::openapi::SERVICE_ROUTES
        .iter()
        .map(|(m, p, ..)| {
            let mut path = String::new();
            let mut in_param = false;
            for c in p.chars() {
                match c {
                    '{' => {
                        in_param = true;
                        path.push_str("{}");
                    }
                    '}' => in_param = false,
                    c if !in_param => path.push(c),
                    _ => {}
                }
            }
            ((*m).to_owned(), path)
        })
        .collect();
    // A served parameter matches any documented segment (`/doses/{}/{}` is documented as
    // `/doses/{}/taken`, `/skipped` and `/snooze`).
    let matches = |served: &str, doc: &str| {
        let (s, d): (Vec<&str>, Vec<&str>) =
            (served.split('/').collect(), doc.split('/').collect());
        s.len() == d.len() && s.iter().zip(&d).all(|(a, b)| a == b || *a == "{}")
    };
    let served = served_public_routes();
    // The reader found the services' routes (a change of layout must not make this vacuous).
    for expected in [
        ("post", "/api/v1/drugs/recognize"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/notifications"),
        ("put", "/api/drugs/{}"),
        ("get", "/uploads/{}"),
        ("get", "/ical/{}"),
    ] {
        assert!(
            served.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not found in the services' source: {served:#?}"
        );
    }
    assert!(served.len() >= 40, "{}", served.len());
    let undocumented: Vec<_> = served
        .iter()
        .filter(|(m, p)| !documented.iter().any(|(dm, dp)| dm == m && matches(p, dp)))
        .collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:#?}"
    );

    let stack = Stack::start(&[("APP__LEGACY__ENABLED", "true".into())]);
    let client = reqwest::Client::new();
    let access = register(&client, &stack, "route-walker").await;
    for (method, path) in &documented {
        let concrete = path.replacen("{}", &uuid::Uuid::new_v4().to_string(), 1);
        let concrete = concrete.replace("{}", "x");
        let request = client
            .request(method.to_uppercase().parse().unwrap(), stack.url(&concrete))
            .bearer_auth(&access);
        let request = if method == "get" || method == "delete" {
            request
        } else {
            request.json(&json!({}))
        };
        let res = request.send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !(status == 404 && body["code"] == "not_found"),
            "{method} {path} is documented but no handler answers: {body}"
        );
    }
    stack.interrupt();
}
