//! What the stack's benchmarks share: starting the system (one process, or the services apart
//! as deployed), waiting for it, signing a user up.

#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// One row of the table `perf_table` prints: the path, our figure, the baseline measured in
/// the same run, the target and whether it is met. Each benchmark prints its rows beside its
/// own output; `perf_table` runs the benchmarks and gathers them. `met` is `None` for a figure
/// without a target.
pub fn table_row(path: &str, ours: &str, baseline: &str, target: &str, met: Option<bool>) {
    let met = match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "—",
    };
    println!("table|{path}|{ours}|{baseline}|{target}|{met}");
}

/// A number from the environment, or its default.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A binary of this workspace: `BENCH_PROFILE`'s build (`release` unless set).
pub fn binary(name: &str) -> PathBuf {
    let profile = std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "release".into());
    root().join("target").join(profile).join(name)
}

/// The system under measurement; its processes end when it is dropped.
pub struct System {
    children: Vec<Child>,
    /// The gateway's base URL.
    pub gw: String,
    /// Process ids by name, for RSS readings.
    pub pids: Vec<(&'static str, u32)>,
}

const SETTINGS: [(&str, &str); 5] = [
    ("APP__RATE_LIMIT__ENABLED", "false"),
    ("APP__SCHEDULER__CLOCK", "false"),
    ("APP__SCHEDULER__CHECKINS", "false"),
    ("LOG_LEVEL", "warn"),
    ("APP__SERVER__HOST", "127.0.0.1"),
];

fn spawn(mut command: Command, dir: &Path, env: &[(&str, String)]) -> Child {
    command
        .current_dir(dir)
        .envs(SETTINGS)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null());
    command.spawn().unwrap_or_else(|e| {
        panic!(
            "{:?}: {e} (cargo build --release -p stack -p gateway -p svc-drugs -p svc-chat -p svc-scheduler)",
            command.get_program()
        )
    })
}

impl System {
    /// `cargo run -p stack`: the gateway and the three services in one process, on `db_url`
    /// (`BENCH_STACK_BIN` runs another build of it). `env` is added to its environment.
    pub async fn one_process(dir: &Path, db_url: &str, env: &[(&str, String)]) -> Self {
        let bin = std::env::var_os("BENCH_STACK_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| binary("stack"));
        let port = shared::testing::free_port();
        let mut command = Command::new(&bin);
        command.args(["--port", &port.to_string()]);
        let mut env = env.to_vec();
        env.push(("DATABASE_URL", db_url.to_owned()));
        let child = spawn(command, dir, &env);
        let system = Self {
            pids: vec![("stack", child.id())],
            children: vec![child],
            gw: format!("http://127.0.0.1:{port}"),
        };
        wait_healthy(&format!("{}/health", system.gw)).await;
        system
    }

    /// As deployed: the gateway, svc-drugs, svc-chat and svc-scheduler each in its own
    /// process, in production mode, on one database (PostgreSQL), h2c between them, pools as
    /// the deploy files make them (5; `BENCH_POOL`).
    pub async fn apart(dir: &Path, db_url: &str, env: &[(&str, String)]) -> Self {
        let ports: Vec<u16> = (0..4).map(|_| shared::testing::free_port()).collect();
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        let mut common = vec![
            ("APP__APP__MODE", "production".to_owned()),
            ("DATABASE_URL", db_url.to_owned()),
            (
                "APP__DATABASE__MAX_CONNECTIONS",
                env_or("BENCH_POOL", 5).to_string(),
            ),
            (
                "JWT_SECRET_KEY",
                "bench-jwt-secret-0123456789abcdef01234".to_owned(),
            ),
            (
                "APP__AUTH__INTERNAL_SECRET",
                "bench-internal-secret-0123456789abcdef0".to_owned(),
            ),
            (
                "APP__SCHEDULER__CHANNEL_KEY",
                "bench-channel-key-0123456789abcdef0123".to_owned(),
            ),
            ("APP__SERVICES__DRUGS", url(ports[1])),
            ("APP__SERVICES__CHAT", url(ports[2])),
            ("APP__SERVICES__SCHEDULER", url(ports[3])),
            ("APP__SERVICES__H2C", "true".to_owned()),
            ("UPLOAD_DIR", dir.join("uploads").display().to_string()),
        ];
        common.extend_from_slice(env);
        let mut system = Self {
            children: Vec::new(),
            gw: url(ports[0]),
            pids: Vec::new(),
        };
        // The services first (the first one migrates the database), the gateway last.
        for (name, port) in [
            ("svc-drugs", ports[1]),
            ("svc-chat", ports[2]),
            ("svc-scheduler", ports[3]),
            ("gateway", ports[0]),
        ] {
            let mut env = common.clone();
            env.push(("PORT", port.to_string()));
            let child = spawn(Command::new(binary(name)), dir, &env);
            system.pids.push((name, child.id()));
            system.children.push(child);
            wait_healthy(&format!("{}/healthz", url(port))).await;
        }
        system
    }
}

impl Drop for System {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for `url` to answer 200 (10 s at most).
pub async fn wait_healthy(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not come up");
}

/// Signs `name` up (zone Asia/Shanghai); its access token.
pub async fn register(client: &reqwest::Client, gw: &str, name: &str) -> String {
    let session: Value = client
        .post(format!("{gw}/api/v1/auth/register"))
        .json(&json!({"user_id": name, "password": "bench-passw0rd!", "timezone": "Asia/Shanghai"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("register: {session}"))
        .to_owned()
}
