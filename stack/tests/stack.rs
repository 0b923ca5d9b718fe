//! The README's first command, as a user runs it: the real binary in an empty directory,
//! the whole system answering through the printed URL, and a clean stop on Ctrl-C (SIGINT).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_stack_starts_every_service_and_stops_cleanly_on_ctrl_c() {
    shared::install_crypto_provider();
    let dir = std::env::temp_dir().join(format!("stack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The chat model, streaming a three-token reply.
    let model = wiremock::MockServer::start().await;
    let mut sse = String::new();
    for token in ["Hello", ", ", "stack"] {
        let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": token}}]});
        sse.push_str(&format!("data: {chunk}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "text/event-stream")
                .set_body_string(sse),
        )
        .mount(&model)
        .await;
    let child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(["--port", "0"])
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("POSTGRESQL_URL")
        .env("LOG_LEVEL", "warn")
        .env("DEEPSEEK_BASE_URL", model.uri())
        .env("DEEPSEEK_API_KEY", "test-key")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let mut base = None;
    while base.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the stack prints its URL");
        if let Some(url) = line.trim().strip_prefix("open").map(str::trim) {
            base = Some(url.trim_end_matches("/docs").to_owned());
        }
    }
    let base = base.unwrap();
    println!("stack up in {:?} at {base}", started.elapsed());

    let client = reqwest::Client::new();
    let health = client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "healthy", "{body}");
    for service in ["drugs", "chat", "scheduler", "gateway"] {
        assert_eq!(body["services"][service], "up", "{body}");
    }
    let register = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&serde_json::json!({"user_id": "stack-user", "password": "s3cret-passw0rd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let session: serde_json::Value = register.json().await.unwrap();
    let access = session["access_token"].as_str().unwrap();
    // Each service answers through the gateway (h2c between them inside the stack).
    for path in [
        "/api/v1/drugs",
        "/api/v1/conversations",
        "/api/v1/notifications",
    ] {
        let res = client
            .get(format!("{base}{path}"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let streamed = client
        .post(format!("{base}/api/v1/chat"))
        .bearer_auth(access)
        .json(&serde_json::json!({"message": "hi", "stream": true}))
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
    let deltas = text.matches("event: delta").count();
    assert_eq!(deltas, 3, "{text}");
    let done = text
        .split("\n\n")
        .find(|block| block.starts_with("event: done"))
        .and_then(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .expect("a done event");
    let done: serde_json::Value = serde_json::from_str(done).unwrap();
    assert_eq!(done["reply"], "Hello, stack", "{text}");
    assert!(
        dir.join("data/unilife.db").exists(),
        "SQLite database under ./data"
    );

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the stack did not stop within 20 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let lines: Vec<String> = rx.try_iter().collect();
    assert!(lines.iter().any(|l| l.contains("Stopped.")), "{lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A failed assertion must not leave the stack running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
