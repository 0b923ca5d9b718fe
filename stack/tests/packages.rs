//! The deploy packages, run the way the platforms run them (`deploy/package.sh` first; CI
//! runs these with `--ignored` after packaging, against PostgreSQL):
//!
//! - each FC zip unpacked into a directory the service must not write to (checked: nothing in
//!   it changes), with a separate writable temp dir, `bootstrap` started with `FC_SERVER_PORT`
//!   and the code directory as working directory, in production + serverless mode;
//! - FC lifecycle hooks and HTTP-trigger requests, then a full flow across the four unpacked
//!   packages: register, add a drug, plan a dose, an FC timer fires `/invoke`, the reminder
//!   is in the inbox;
//! - the SCF packages: `scf_bootstrap` serving on 9000, the scheduler's `bootstrap` serving the
//!   runtime API loop against a fake runtime, and `/event-invoke` timer events.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

fn dist() -> PathBuf {
    std::env::var_os("UNILIFE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"))
}

/// Unpack a zip with the platform's tool semantics (modes from the archive) and make the
/// directory read-only.
fn unpack(zip: &Path, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    let ok = Command::new("unzip")
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(into)
        .status()
        .unwrap();
    assert!(ok.success(), "unzip {}", zip.display());
    Command::new("chmod")
        .args(["-R", "a-w"])
        .arg(into)
        .status()
        .unwrap();
}

/// Name, size and modification time of everything under a directory.
fn listing(dir: &Path) -> BTreeMap<String, (u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        out.insert(
            entry.file_name().to_string_lossy().into_owned(),
            (meta.len(), meta.modified().unwrap()),
        );
    }
    out
}

struct Proc {
    child: Child,
    name: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(clippy::zombie_processes, reason = "Proc kills and waits in Drop")]
fn start(
    name: &str,
    code: &Path,
    program: &str,
    args: &[&str],
    env: &[(String, String)],
    tmp: &Path,
) -> Proc {
    let log = std::fs::File::create(tmp.join(format!("{name}.log"))).unwrap();
    let child = Command::new(code.join(program))
        .args(args)
        .current_dir(code)
        .env_clear()
        .env("TMPDIR", tmp)
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Proc {
        child,
        name: name.to_owned(),
    }
}

async fn wait_healthy(client: &reqwest::Client, base: &str, proc: &mut Proc, tmp: &Path) {
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            let log =
                std::fs::read_to_string(tmp.join(format!("{}.log", proc.name))).unwrap_or_default();
            panic!("{} exited with {status}:\n{log}", proc.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never became healthy", proc.name);
}

struct S3 {
    _proc: Proc,
    endpoint: String,
}

async fn s3(tmp: &Path) -> S3 {
    let port = shared::testing::free_port();
    let log = std::fs::File::create(tmp.join("moto.log")).unwrap();
    #[allow(clippy::zombie_processes, reason = "Proc kills and waits in Drop")]
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("moto_server (pip install 'moto[server]')");
    let s3 = S3 {
        _proc: Proc {
            child,
            name: "moto".into(),
        },
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(&s3.endpoint).send().await.is_ok() {
            client
                .put(format!("{}/cabinet", s3.endpoint))
                .send()
                .await
                .unwrap();
            return s3;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto did not start");
}

fn production_env(
    database_url: &str,
    s3: &str,
    ports: &BTreeMap<&str, u16>,
) -> Vec<(String, String)> {
    let url = |n: &str| format!("http://127.0.0.1:{}", ports[n]);
    [
        ("APP__APP__MODE", "production".to_owned()),
        ("SERVERLESS", "true".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "5".to_owned()),
        (
            "JWT_SECRET_KEY",
            "package-test-jwt-secret-0123456789abcdef".to_owned(),
        ),
        (
            "APP__AUTH__INTERNAL_SECRET",
            "package-test-internal-secret-0123456789ab".to_owned(),
        ),
        (
            "APP__SCHEDULER__CHANNEL_KEY",
            "package-test-channel-key-0123456789abcdef".to_owned(),
        ),
        ("APP__SERVICES__DRUGS", url("svc-drugs")),
        ("APP__SERVICES__CHAT", url("svc-chat")),
        ("APP__SERVICES__SCHEDULER", url("svc-scheduler")),
        ("APP__STORAGE__BACKEND", "s3".to_owned()),
        ("APP__STORAGE__S3_ENDPOINT", s3.to_owned()),
        ("APP__STORAGE__S3_BUCKET", "cabinet".to_owned()),
        ("APP__STORAGE__S3_PATH_STYLE", "true".to_owned()),
        ("APP__STORAGE__S3_ACCESS_KEY_ID", "test".to_owned()),
        ("APP__STORAGE__S3_SECRET_ACCESS_KEY", "test".to_owned()),
        ("LOG_LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

async fn pg_database() -> String {
    let db = shared::testing::TestDatabase::create().await.unwrap();
    assert!(
        db.url.starts_with("postgres"),
        "set TEST_DATABASE_URL to PostgreSQL: the platforms run on it"
    );
    db.url
}

#[tokio::test]
#[ignore = "needs deploy/package.sh output and PostgreSQL; run by .ci/run"]
async fn fc_packages_cold_start_read_only_and_carry_a_full_flow() {
    shared::install_crypto_provider();
    let work = std::env::temp_dir().join(format!("fc-packages-{}", uuid::Uuid::new_v4()));
    let tmp = work.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let s3 = s3(&tmp).await;
    let database = pg_database().await;
    let services = ["gateway", "svc-drugs", "svc-chat", "svc-scheduler"];
    let ports: BTreeMap<&str, u16> = services
        .iter()
        .map(|s| (*s, shared::testing::free_port()))
        .collect();
    let env = production_env(&database, &s3.endpoint, &ports);
    let client = reqwest::Client::new();

    let mut procs = Vec::new();
    let mut before = Vec::new();
    for s in services {
        let code = work.join(s);
        unpack(&dist().join(format!("fc/{s}.zip")), &code);
        before.push((code.clone(), listing(&code)));
        let mut env = env.clone();
        env.push(("FC_SERVER_PORT".into(), ports[s].to_string()));
        // All four start at once: migrations run under the advisory lock.
        procs.push(start(s, &code, "bootstrap", &[], &env, &tmp));
    }
    for (s, p) in services.iter().zip(procs.iter_mut()) {
        let base = format!("http://127.0.0.1:{}", ports[s]);
        wait_healthy(&client, &base, p, &tmp).await;
        // FC lifecycle hooks answer 2xx without an internal token.
        let r = client
            .post(format!("{base}/initialize"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{s} /initialize: {}", r.status());
        let r = client.get(format!("{base}/pre-stop")).send().await.unwrap();
        assert!(r.status().is_success(), "{s} /pre-stop: {}", r.status());
    }
    // The internal services refuse calls without an internal token.
    let r = client
        .get(format!(
            "http://127.0.0.1:{}/api/v1/drugs",
            ports["svc-drugs"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // HTTP-trigger requests through the gateway package, as FC delivers them.
    let gw = format!("http://127.0.0.1:{}", ports["gateway"]);
    let r = client
        .post(format!("{gw}/api/v1/auth/register"))
        .header("x-fc-request-id", "fc-req-0001")
        .json(&json!({"user_id": "pkg-user", "password": "s3cret-passw0rd", "timezone": "Asia/Shanghai"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-request-id"], "fc-req-0001");
    let session: Value = r.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let drug: Value = client
        .post(format!("{gw}/api/v1/drugs"))
        .bearer_auth(&token)
        .json(&json!({"name": "阿莫西林胶囊", "quantity": 20, "unit": "粒"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(drug["id"].is_string(), "{drug}");
    // The photo decoder is C (libjpeg-turbo) that reports a fatal error by unwinding into Rust:
    // in the static, fat-LTO binary a JPEG cut inside its headers is a 422
    // `unprocessable_image`, and the service goes on serving.
    let mut cut = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/drug-photos/cotton-swab-front.jpg"),
    )
    .unwrap()[..600]
        .to_vec();
    cut.extend(std::iter::repeat_n(0u8, 4000));
    let r = client
        .post(format!("{gw}/api/v1/drugs/recognize?save=false"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(cut).file_name("cut.jpg"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unprocessable_image", "{body}");
    let r = client
        .get(format!("{gw}/api/v1/drugs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let r = client
        .post(format!("{gw}/api/v1/medications"))
        .bearer_auth(&token)
        .json(&json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "粒"},
            "schedule": {"times": [local.format("%H:%M").to_string()], "start_date": local.date_naive().to_string()}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // The timer fires: FC's event invocation of the scheduler package.
    let r = client
        .post(format!("http://127.0.0.1:{}/invoke", ports["svc-scheduler"]))
        .header("x-fc-control-path", "/invoke")
        .header("content-type", "application/octet-stream")
        .body(json!({"triggerTime": chrono::Utc::now().to_rfc3339(), "triggerName": "every-minute", "payload": "tick"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let inbox: Value = client
        .get(format!("{gw}/api/v1/notifications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let inbox = inbox.as_array().unwrap_or_else(|| panic!("{inbox}"));
    assert!(
        inbox.iter().any(|n| n["kind"] == "dose_reminder"),
        "{inbox:?}"
    );

    drop(procs);
    for (code, listing_before) in before {
        assert_eq!(
            listing(&code),
            listing_before,
            "{} was written to",
            code.display()
        );
    }
    Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&work)
        .status()
        .unwrap();
    let _ = std::fs::remove_dir_all(&work);
}

#[tokio::test]
#[ignore = "needs deploy/package.sh output and PostgreSQL; run by .ci/run"]
async fn scf_packages_serve_on_9000_and_the_scheduler_runs_the_runtime_api_loop() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    shared::install_crypto_provider();
    let work = std::env::temp_dir().join(format!("scf-packages-{}", uuid::Uuid::new_v4()));
    let tmp = work.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let s3 = s3(&tmp).await;
    let database = pg_database().await;
    let ports: BTreeMap<&str, u16> = ["gateway", "svc-drugs", "svc-chat", "svc-scheduler"]
        .iter()
        .map(|s| (*s, shared::testing::free_port()))
        .collect();
    let env = production_env(&database, &s3.endpoint, &ports);
    let client = reqwest::Client::new();

    // A web function: scf_bootstrap listens on 9000.
    assert!(
        TcpListener::bind("0.0.0.0:9000").is_ok(),
        "port 9000 must be free for the SCF web function test"
    );
    let code = work.join("gateway");
    unpack(&dist().join("scf/gateway.zip"), &code);
    let mut web = start("scf-gateway", &code, "scf_bootstrap", &[], &env, &tmp);
    wait_healthy(&client, "http://127.0.0.1:9000", &mut web, &tmp).await;
    let r = client
        .get("http://127.0.0.1:9000/health")
        .header("x-scf-request-id", "scf-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "scf-1");
    drop(web);

    // The scheduler's event function: bootstrap serves the runtime API loop.
    let runtime = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/runtime/init/ready"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&runtime)
        .await;
    Mock::given(method("GET"))
        .and(path("/runtime/invocation/next"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Type": "Timer", "TriggerName": "every-5-minutes", "Time": chrono::Utc::now().to_rfc3339(), "Message": "tick"})))
        .up_to_n_times(1)
        .mount(&runtime)
        .await;
    Mock::given(method("GET"))
        .and(path("/runtime/invocation/next"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(300)))
        .mount(&runtime)
        .await;
    Mock::given(method("POST"))
        .and(path("/runtime/invocation/response"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&runtime)
        .await;
    let code = work.join("svc-scheduler");
    unpack(&dist().join("scf/svc-scheduler.zip"), &code);
    let addr = runtime.address();
    let mut event_env = env.clone();
    event_env.push(("SCF_RUNTIME_API".into(), addr.ip().to_string()));
    event_env.push(("SCF_RUNTIME_API_PORT".into(), addr.port().to_string()));
    let _loop = start("scf-scheduler", &code, "bootstrap", &[], &event_env, &tmp);
    let mut answer = None;
    for _ in 0..300 {
        let reqs = runtime.received_requests().await.unwrap();
        if let Some(r) = reqs
            .iter()
            .find(|r| r.url.path() == "/runtime/invocation/response")
        {
            answer = Some(serde_json::from_slice::<Value>(&r.body).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = answer.unwrap_or_else(|| {
        panic!(
            "no invocation response; log:\n{}",
            std::fs::read_to_string(tmp.join("scf-scheduler.log")).unwrap_or_default()
        )
    });
    assert_eq!(answer["trigger"], "scf");
    assert_eq!(
        runtime.received_requests().await.unwrap()[0].url.path(),
        "/runtime/init/ready"
    );

    // The same binary as an image function: timer events at /event-invoke.
    let mut image_env = env.clone();
    image_env.push(("PORT".into(), ports["svc-scheduler"].to_string()));
    let mut image = start(
        "scf-image-scheduler",
        &code,
        "svc-scheduler",
        &[],
        &image_env,
        &tmp,
    );
    let base = format!("http://127.0.0.1:{}", ports["svc-scheduler"]);
    wait_healthy(&client, &base, &mut image, &tmp).await;
    let r = client
        .post(format!("{base}/event-invoke"))
        .header("x-scf-trigger-src", "Timer")
        .json(&json!({"Type": "Timer", "TriggerName": "every-5-minutes", "Time": chrono::Utc::now().to_rfc3339(), "Message": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tick: Value = r.json().await.unwrap();
    assert_eq!(tick["trigger"], "scf");
    drop(image);
    Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&work)
        .status()
        .unwrap();
    let _ = std::fs::remove_dir_all(&work);
}
