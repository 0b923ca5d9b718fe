//! Typed settings, loaded once at start.
//!
//! Sources, later ones winning: built-in defaults → optional TOML file (`APP_CONFIG_FILE`
//! or `--config`) → the original products' flat variable names (`DATABASE_URL`,
//! `JWT_SECRET_KEY`, ...) → `APP__SECTION__KEY` variables → the platform's port variables
//! (`FC_SERVER_PORT`, then `FC_CUSTOM_LISTEN_PORT`, then `PORT`).
//!
//! Unknown keys are an error (typos in a deploy file must not be silently ignored), and a
//! production run refuses to start with a default or empty secret.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment as EnvSource, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The development-only secret shipped in the defaults. Production refuses it.
pub const DEV_SECRET: &str = "dev-only-insecure-secret-change-me";

/// Flat variable names of the original products, mapped to their place in [`Settings`].
///
/// Earlier entries of the same key lose to later ones: `POSTGRESQL_URL` (UniLife) is read
/// before `DATABASE_URL` (drug-serve), so `DATABASE_URL` wins when both are set.
pub const FLAT_ALIASES: &[(&str, &str)] = &[
    ("POSTGRESQL_URL", "database.url"),
    ("DATABASE_URL", "database.url"),
    ("API_BASE_URL", "llm_vision.base_url"),
    ("API_KEY", "llm_vision.api_key"),
    ("MODEL_ID", "llm_vision.model"),
    ("UPLOAD_DIR", "storage.upload_dir"),
    ("MAX_FILE_SIZE", "storage.max_file_size"),
    ("DEEPSEEK_API_KEY", "llm_chat.api_key"),
    ("DEEPSEEK_BASE_URL", "llm_chat.base_url"),
    ("DEEPSEEK_MODEL", "llm_chat.model"),
    ("JWT_SECRET_KEY", "auth.jwt_secret"),
    ("JWT_ALGORITHM", "auth.jwt_algorithm"),
    ("JWT_EXPIRE_MINUTES", "auth.jwt_expire_minutes"),
    ("SERVERLESS", "app.serverless"),
    ("LOG_LEVEL", "app.log_level"),
    ("DEBUG", "app.debug"),
];

/// Settings with no default (absent unless configured), beside those in the defaults.
pub const OPTIONAL_KEYS: &[&str] = &[
    "server.public_url",
    "llm_vision.api_key",
    "llm_chat.api_key",
    "llm_vision.ca_file",
    "llm_chat.ca_file",
    "services.ca_file",
    "storage.s3_endpoint",
    "storage.s3_bucket",
    "storage.s3_access_key_id",
    "storage.s3_secret_access_key",
    "telemetry.otlp_endpoint",
    "telemetry.json_logs",
    "legacy.account",
    "apns.key",
    "scheduler.vapid_private_key",
    "apns.endpoint",
    "apns.ca_file",
];

/// Every setting's dotted key (`database.max_connections`, ...): what an `APP__SECTION__KEY`
/// variable may name. Deploy files are checked against it so they cannot drift from the code.
pub fn known_keys() -> Vec<String> {
    let mut keys: Vec<String> = OPTIONAL_KEYS.iter().map(|k| (*k).to_owned()).collect();
    // The defaults are flat TOML: `[section]` headers and `key = value` lines.
    let mut section = String::new();
    for line in DEFAULTS.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if let Some((key, _)) = line.split_once('=')
            && !section.is_empty()
        {
            keys.push(format!("{section}.{}", key.trim()));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The environment variable a flat alias or `APP__` name sets, if this configuration reads
/// it: the dotted key, or `None` for a variable the configuration does not know.
pub fn key_for_variable(name: &str) -> Option<String> {
    if let Some((_, key)) = FLAT_ALIASES.iter().find(|(v, _)| *v == name) {
        return Some((*key).to_owned());
    }
    if PORT_VARIABLES.contains(&name) {
        return Some("server.port".to_owned());
    }
    let rest = name.strip_prefix("APP__")?;
    let (section, key) = rest.split_once("__")?;
    let dotted = format!("{}.{}", section.to_lowercase(), key.to_lowercase());
    known_keys().contains(&dotted).then_some(dotted)
}

/// Port variables in order of precedence: the platform's first.
pub const PORT_VARIABLES: &[&str] = &["FC_SERVER_PORT", "FC_CUSTOM_LISTEN_PORT", "PORT"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is invalid: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("{variable} must be set to a strong secret in production (it is {problem})")]
    WeakSecret {
        variable: &'static str,
        problem: &'static str,
    },
    #[error("invalid value for {key}: {reason}")]
    BadValue { key: &'static str, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    Local,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub app: AppSettings,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub services: ServiceUrls,
    pub llm_vision: LlmSettings,
    pub llm_chat: LlmSettings,
    pub storage: StorageSettings,
    pub telemetry: TelemetrySettings,
    pub cors: CorsSettings,
    pub rate_limit: RateLimitSettings,
    pub legacy: LegacySettings,
    pub drugs: DrugsSettings,
    pub scheduler: SchedulerSettings,
    pub chat: ChatSettings,
    pub apple: AppleSettings,
    pub apns: ApnsSettings,
    pub compat: CompatSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    pub mode: RunMode,
    pub serverless: bool,
    pub log_level: String,
    pub debug: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// 0 means one worker per core.
    pub workers: usize,
    /// Largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// A service stops a request that has not answered (its response head) in this many
    /// seconds: 504 `deadline_exceeded`. Requests through the gateway carry the gateway's own
    /// route timeout (`x-request-deadline-ms`), used instead when shorter.
    pub request_timeout_secs: u64,
    /// The address clients reach the gateway at (`https://api.example.com`, with a path
    /// prefix if a proxy adds one), for links the services write: the calendar feed's. Unset:
    /// the request's own `Host` and scheme (the proxy's forwarded ones when
    /// `rate_limit.trust_forwarded_for`).
    #[serde(default)]
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub min_connections: u32,
    pub connect_timeout_secs: u64,
    pub acquire_timeout_secs: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub jwt_algorithm: String,
    /// Access-token lifetime; short, since a client renews it with its refresh token.
    pub jwt_expire_minutes: i64,
    pub refresh_expire_days: i64,
    /// How long the gateway trusts its last look at whether an access token's session was
    /// revoked (logout, refresh-token reuse, sessions ended); 0 looks on every request.
    pub session_check_secs: u64,
    pub internal_secret: SecretString,
    pub internal_token_ttl_secs: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceUrls {
    pub drugs: String,
    pub chat: String,
    pub scheduler: String,
    /// Speak HTTP/2 with prior knowledge (h2c) to plain `http://` service URLs: every proxied
    /// request shares one connection per gateway worker. Our services accept it; leave it off
    /// when a service URL points at something that only speaks HTTP/1.1. HTTPS URLs use
    /// HTTP/2 when the service's TLS negotiation (ALPN) accepts it, else HTTP/1.1.
    pub h2c: bool,
    /// A PEM file of extra certificate authorities trusted for HTTPS service URLs, beside the
    /// platform's roots, by every internal hop: the gateway's proxy and health probes and each
    /// service's internal client (`shared::certs::services_ca`).
    pub ca_file: Option<PathBuf>,
    /// Per-route upstream timeouts, in seconds.
    pub default_timeout_secs: u64,
    pub stream_timeout_secs: u64,
    pub upload_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout_secs: u64,
    pub max_concurrency: usize,
    /// A PEM file of extra certificate authorities to trust for `base_url`, beside the
    /// platform's roots: for a self-hosted or proxied model endpoint behind a private CA.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// `fs` (a directory; local runs) or `s3` (any S3-compatible store: Alibaba OSS, Tencent
    /// COS, MinIO).
    pub backend: String,
    pub upload_dir: PathBuf,
    /// Largest accepted upload per file, in bytes.
    pub max_file_size: usize,
    /// S3 endpoint, e.g. `https://oss-cn-hangzhou.aliyuncs.com` or
    /// `https://cos.ap-guangzhou.myqcloud.com`.
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<SecretString>,
    pub s3_secret_access_key: Option<SecretString>,
    /// Path-style URLs (MinIO); OSS and COS want virtual-hosted style (false).
    pub s3_path_style: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSettings {
    /// Model requests one user may make per day (chat turns and tool rounds; diaries and
    /// profiles written by the scheduler do not count).
    pub daily_quota: i32,
    /// Chat turns (streamed or not) one user may have in progress at once, per instance.
    pub max_turns_in_progress: usize,
    /// Model calls per chat turn when the model keeps calling tools.
    pub max_tool_rounds: usize,
    /// Estimated tokens of recent conversation sent verbatim with each turn (English text
    /// ~0.3 token a character, Chinese ~0.6); older turns go as dated one-line summaries.
    pub history_tokens: usize,
    /// Seconds a streamed answer may stay silent before a heartbeat comment goes (1 to 15),
    /// so proxies keep an idle stream open while the model thinks or a tool runs.
    pub stream_heartbeat_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    /// Run the jobs from an in-process clock every minute (long-running mode). Off on
    /// serverless platforms, where timer triggers call `/invoke` or `/event-invoke`.
    pub clock: bool,
    /// Stop claiming new work this many seconds after a run starts (keep it under the
    /// function's timeout); the next trigger carries on.
    pub run_budget_secs: u64,
    /// Work items processed at once.
    pub concurrency: usize,
    /// Items claimed per round.
    pub batch_size: u64,
    /// Attempts before an item or a delivery is given up (`dead`).
    pub max_attempts: i32,
    /// First retry delay; it doubles per attempt.
    pub retry_base_secs: u64,
    /// How long a claim holds before a crashed claimant's item may be taken again.
    pub lease_secs: u64,
    pub webhook_timeout_secs: u64,
    /// Let webhooks reach loopback, private and link-local addresses (a household's own
    /// server on its LAN, tests). Off: only public addresses, checked when a webhook is set
    /// and again on every delivery (SSRF).
    pub webhook_allow_private: bool,
    /// Seals channel URLs and webhook secrets at rest (AES-256-GCM under a key derived from
    /// this text). Required in production (32+ characters, not the default): without it the
    /// scheduler does not start. Changing it makes the stored channels unreadable (they fail
    /// their deliveries until set again).
    pub channel_key: SecretString,
    /// Where the chat apps' push APIs are (self-hosted Bark and ntfy servers are named in the
    /// channel URL itself); tests point them at local fakes.
    pub bark_endpoint: String,
    pub wecombot_endpoint: String,
    pub dingtalk_endpoint: String,
    pub feishu_endpoint: String,
    pub schan_endpoint: String,
    pub ntfy_endpoint: String,
    /// Run the four daily check-ins (morning briefing, afternoon check-in, evening switch,
    /// closing ritual; each user still turns each on or off). Off: no check-in and no model
    /// calls for them.
    pub checkins: bool,
    /// Web Push to the console (RFC 8030/8291/8292): the VAPID private key, the 32-byte P-256
    /// scalar in base64url (`svc-scheduler vapid-keys` makes a pair). Off while unset.
    pub vapid_private_key: Option<SecretString>,
    /// Who the push services may contact about our pushes: `mailto:…` or `https://…`.
    /// Required with a VAPID key.
    pub vapid_subject: String,
}

/// Push to the UniLife app's iPhones through Apple's APNs, with token-based auth (a `.p8` key
/// from the Apple developer account). Off while `key` is unset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsSettings {
    /// The `.p8` key's text (PEM; `\n` may stand for its line breaks in an environment variable).
    pub key: Option<SecretString>,
    /// The key's id (10 characters, beside the key in the developer account).
    pub key_id: String,
    /// The team id (10 characters).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// Apple's development server (`api.sandbox.push.apple.com`): for builds from Xcode.
    pub sandbox: bool,
    /// Another server than Apple's (tests).
    pub endpoint: Option<String>,
    /// Extra certificate authorities for that server (tests).
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: u64,
}

impl ApnsSettings {
    pub fn enabled(&self) -> bool {
        self.key
            .as_ref()
            .is_some_and(|k| !k.expose_secret().trim().is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrugsSettings {
    /// Most photos in one recognition.
    pub max_files: usize,
    /// Largest decoded image accepted, width × height (decompression bombs).
    pub max_pixels: u64,
    /// Largest allocation the image decoder may make, in bytes.
    pub max_decode_bytes: u64,
    /// Long edge of stored and forwarded images.
    pub max_long_edge: u32,
    pub jpeg_quality: u8,
    /// Days before expiry a drug counts as `expiring`, unless the user's preferences say
    /// otherwise (`expiry_warning_days`).
    pub expiry_warning_days: i64,
    /// Vision-model calls per account per UTC day (0: no limit). Repeats of earlier photos
    /// are free.
    pub daily_recognitions_per_user: u32,
    /// Vision-model calls per client network (IPv4 address, IPv6 /64) per UTC day (0: no
    /// limit), over every account and the legacy routes.
    pub daily_recognitions_per_address: u32,
    /// Drugs one user's cabinet holds at most.
    pub max_drugs_per_user: u64,
    /// Medication plans one user has at most.
    pub max_plans_per_user: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP/HTTP endpoint (e.g. `http://jaeger:4318`); export is off when empty.
    pub otlp_endpoint: Option<String>,
    /// JSON logs; defaults to on in production.
    pub json_logs: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// Login and register attempts per minute from one IP address.
    pub auth_per_ip_per_minute: u32,
    /// Login attempts per minute against one account (its login and its email share them).
    pub auth_per_account_per_minute: u32,
    /// Authenticated requests per minute for one user, all routes together.
    pub user_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy such as
    /// the platform's HTTP trigger).
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacySettings {
    /// Serve the original drug-serve routes (`/api/drugs/...`, `/uploads/...`). They act as
    /// one shared, reserved account without authentication, as the original did.
    pub enabled: bool,
    /// Production refuses `enabled` unless this acknowledges that anyone who can reach the
    /// gateway then reads and writes that shared cabinet.
    pub allow_unauthenticated_in_production: bool,
    /// Deprecated and ignored: the routes used to act as the user with this login. Accepted so
    /// an existing deploy file still loads; the gateway warns at start when it is set.
    pub account: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppleSettings {
    /// The app's bundle identifiers: an identity token's `aud` must be one of them. Empty
    /// turns Sign in with Apple off.
    pub bundle_ids: Vec<String>,
    /// Where Apple publishes the keys its identity tokens are signed with (operator setting;
    /// https in production).
    pub jwks_url: String,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_cache_secs: u64,
    /// At most one fetch in this many seconds, however many tokens name a key we do not know.
    pub jwks_min_refetch_secs: u64,
    /// Clock skew allowed on `exp`.
    pub leeway_secs: u64,
    /// Timeout of one key fetch.
    pub timeout_secs: u64,
    /// The Services ID the web console signs in with (Apple's `client_id` on the web; its
    /// return URL, the console's address, registered with Apple). Empty: no Apple button on
    /// the web.
    pub web_service_id: String,
    /// Where the web console sends the browser to sign in with Apple (operator setting; https
    /// in production).
    pub authorize_url: String,
}

impl AppleSettings {
    /// The identity tokens' accepted audiences — the bundle ids and the web Services ID,
    /// blanks dropped: none means Sign in with Apple is off.
    pub fn audiences(&self) -> Vec<String> {
        self.bundle_ids
            .iter()
            .chain(std::iter::once(&self.web_service_id))
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .collect()
    }

    /// The web console's Sign in with Apple, when configured: its client id and where to go.
    pub fn web(&self) -> Option<(&str, &str)> {
        let id = self.web_service_id.trim();
        (!id.is_empty()).then(|| (id, self.authorize_url.trim()))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatSettings {
    /// The original UniLife backend's sign-in by a bare `user_id` (no password, no proof):
    /// whoever knows an account's `user_id` signs in as it. Only for accounts that have
    /// neither a password nor Sign in with Apple.
    pub passwordless_login: bool,
    /// Production refuses `passwordless_login` unless this acknowledges the risk.
    pub allow_passwordless_login_in_production: bool,
}

const DEFAULTS: &str = r#"
[app]
mode = "local"
serverless = false
log_level = "info"
debug = false

[server]
host = "0.0.0.0"
port = 8080
workers = 0
json_limit = 1048576
request_timeout_secs = 300

[database]
url = "sqlite://data/unilife.db?mode=rwc"
max_connections = 10
min_connections = 0
connect_timeout_secs = 5
acquire_timeout_secs = 5
migrate_on_start = true

[auth]
jwt_secret = "dev-only-insecure-secret-change-me"
jwt_algorithm = "HS256"
jwt_expire_minutes = 15
refresh_expire_days = 30
session_check_secs = 5
internal_secret = "dev-only-insecure-secret-change-me"
internal_token_ttl_secs = 120

[services]
drugs = "http://127.0.0.1:8081"
chat = "http://127.0.0.1:8082"
scheduler = "http://127.0.0.1:8083"
h2c = false
default_timeout_secs = 30
stream_timeout_secs = 600
upload_timeout_secs = 180

[llm_vision]
base_url = "https://ark.cn-beijing.volces.com/api/v3"
model = "doubao-seed-1-6-vision-250815"
timeout_secs = 90
max_concurrency = 8

[llm_chat]
base_url = "https://api.deepseek.com"
model = "deepseek-chat"
timeout_secs = 120
max_concurrency = 16

[storage]
backend = "fs"
upload_dir = "data/uploads"
max_file_size = 10485760
s3_region = "us-east-1"
s3_path_style = false

[chat]
daily_quota = 200
max_turns_in_progress = 3
max_tool_rounds = 5
history_tokens = 3000
stream_heartbeat_secs = 15

[scheduler]
clock = true
run_budget_secs = 240
concurrency = 8
batch_size = 50
max_attempts = 5
retry_base_secs = 30
lease_secs = 300
webhook_timeout_secs = 10
webhook_allow_private = false
channel_key = "dev-only-insecure-secret-change-me"
bark_endpoint = "https://api.day.app"
wecombot_endpoint = "https://qyapi.weixin.qq.com"
dingtalk_endpoint = "https://oapi.dingtalk.com"
feishu_endpoint = "https://open.feishu.cn"
schan_endpoint = "https://sctapi.ftqq.com"
ntfy_endpoint = "https://ntfy.sh"
vapid_subject = ""
checkins = true

[drugs]
max_files = 5
max_pixels = 50000000
max_decode_bytes = 268435456
max_long_edge = 1536
jpeg_quality = 85
expiry_warning_days = 30
daily_recognitions_per_user = 50
daily_recognitions_per_address = 100
max_drugs_per_user = 1000
max_plans_per_user = 100

[telemetry]

[cors]
allowed_origins = ["http://localhost:3000", "http://localhost:5173"]

[rate_limit]
enabled = true
auth_per_ip_per_minute = 30
auth_per_account_per_minute = 10
user_per_minute = 600
trust_forwarded_for = false

[legacy]
enabled = false
allow_unauthenticated_in_production = false

[apns]
key_id = ""
team_id = ""
topic = ""
sandbox = false
timeout_secs = 10

[apple]
bundle_ids = []
jwks_url = "https://appleid.apple.com/auth/keys"
jwks_cache_secs = 3600
jwks_min_refetch_secs = 60
leeway_secs = 60
timeout_secs = 10
web_service_id = ""
authorize_url = "https://appleid.apple.com/auth/authorize"

[compat]
passwordless_login = false
allow_passwordless_login_in_production = false
"#;

impl Settings {
    /// Load from the real process environment, with an optional file named by
    /// `APP_CONFIG_FILE`.
    pub fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let file = env.get("APP_CONFIG_FILE").map(PathBuf::from);
        Self::load_from(file.as_deref(), &env)
    }

    /// Load from an explicit file and environment map, so tests never touch process state.
    pub fn load_from(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).required(true));
        }
        let mut app_vars: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("APP__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // A flat alias fills its key unless the specific `APP__` name is set too.
        let mut aliased: HashMap<String, String> = HashMap::new();
        for (variable, key) in FLAT_ALIASES {
            if let Some(value) = env.get(*variable).filter(|v| !v.is_empty()) {
                aliased.insert(
                    format!("APP__{}", key.replace('.', "__").to_uppercase()),
                    value.clone(),
                );
            }
        }
        for (name, value) in aliased {
            app_vars.entry(name).or_insert(value);
        }
        builder = builder.add_source(
            EnvSource::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("cors.allowed_origins")
                .with_list_parse_key("apple.bundle_ids")
                .try_parsing(true)
                .source(Some(app_vars)),
        );
        if let Some(port) = PORT_VARIABLES
            .iter()
            .find_map(|v| env.get(*v).filter(|p| !p.is_empty()))
        {
            let port: u16 = port.parse().map_err(|_| ConfigError::BadValue {
                key: "server.port",
                reason: format!("{port:?} is not a port number"),
            })?;
            builder = builder.set_override("server.port", port)?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Where uploads may live: refuses the `fs` backend on a serverless production instance,
    /// whose disk is thrown away with it (svc-drugs calls this at start).
    pub fn check_storage_for_uploads(&self) -> Result<(), ConfigError> {
        if self.is_production() && self.app.serverless && self.storage.backend == "fs" {
            return Err(ConfigError::BadValue {
                key: "storage.backend",
                reason: "files on a serverless instance's disk are lost with the instance; \
                         set APP__STORAGE__BACKEND=s3 and the bucket settings"
                    .into(),
            });
        }
        Ok(())
    }

    /// The sign-in settings: the Apple key URL is https in production (an `http://` one lets
    /// anyone on the path hand us keys), and the original's password-less sign-in is refused in
    /// production unless acknowledged. Checked on load and again when the gateway starts.
    pub fn check_sign_in(&self) -> Result<(), ConfigError> {
        let url = self.apple.jwks_url.trim();
        let authorize = self.apple.authorize_url.trim();
        for (key, value) in [("apple.jwks_url", url), ("apple.authorize_url", authorize)] {
            if !(value.starts_with("https://") || value.starts_with("http://")) {
                return Err(ConfigError::BadValue {
                    key,
                    reason: format!("{value:?} is not an http(s) URL"),
                });
            }
        }
        if self.apple.timeout_secs == 0 {
            return Err(ConfigError::BadValue {
                key: "apple.timeout_secs",
                reason: "must be at least 1".into(),
            });
        }
        if !self.is_production() {
            return Ok(());
        }
        if !url.starts_with("https://") {
            return Err(ConfigError::BadValue {
                key: "apple.jwks_url",
                reason: "Apple's keys must be fetched over https in production \
                         (APP__APPLE__JWKS_URL)"
                    .into(),
            });
        }
        if self.apple.web().is_some() && !authorize.starts_with("https://") {
            return Err(ConfigError::BadValue {
                key: "apple.authorize_url",
                reason: "the browser must be sent to Apple over https in production \
                         (APP__APPLE__AUTHORIZE_URL)"
                    .into(),
            });
        }
        if self.compat.passwordless_login && !self.compat.allow_passwordless_login_in_production {
            return Err(ConfigError::BadValue {
                key: "compat.passwordless_login",
                reason: "password-less sign-in lets anyone who knows an account's user_id \
                         sign in as it; in production set \
                         APP__COMPAT__ALLOW_PASSWORDLESS_LOGIN_IN_PRODUCTION=true to accept \
                         that, or turn it off"
                    .into(),
            });
        }
        Ok(())
    }

    /// What the scheduler needs beyond the common settings: in production, a real key for the
    /// channels it stores (checked when the scheduler starts, so other services need not
    /// carry it).
    pub fn check_scheduler(&self) -> Result<(), ConfigError> {
        if self.is_production() {
            check_secret(&self.scheduler.channel_key, "APP__SCHEDULER__CHANNEL_KEY")?;
        }
        if self
            .scheduler
            .vapid_private_key
            .as_ref()
            .is_some_and(|k| !k.expose_secret().trim().is_empty())
        {
            let subject = self.scheduler.vapid_subject.trim();
            if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
                return Err(ConfigError::BadValue {
                    key: "scheduler.vapid_subject",
                    reason: "with a VAPID key, set APP__SCHEDULER__VAPID_SUBJECT to a mailto: or \
                             https:// address the push services may contact"
                        .into(),
                });
            }
        }
        let apns = &self.apns;
        if apns.enabled()
            && [&apns.key_id, &apns.team_id, &apns.topic]
                .iter()
                .any(|v| v.trim().is_empty())
        {
            return Err(ConfigError::BadValue {
                key: "apns.key",
                reason: "with an APNs key, set APP__APNS__KEY_ID, APP__APNS__TEAM_ID and \
                         APP__APNS__TOPIC (the app's bundle id) too"
                    .into(),
            });
        }
        Ok(())
    }

    pub fn is_production(&self) -> bool {
        self.app.mode == RunMode::Production
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(
            self.auth.jwt_algorithm.as_str(),
            "HS256" | "HS384" | "HS512"
        ) {
            return Err(ConfigError::BadValue {
                key: "auth.jwt_algorithm",
                reason: "only HS256, HS384 and HS512 are supported".into(),
            });
        }
        if self.auth.jwt_expire_minutes <= 0 || self.auth.refresh_expire_days <= 0 {
            return Err(ConfigError::BadValue {
                key: "auth.jwt_expire_minutes",
                reason: "token lifetimes must be positive".into(),
            });
        }
        match self.storage.backend.as_str() {
            "fs" => {}
            "s3" => {
                if self.storage.s3_bucket.as_deref().is_none_or(str::is_empty) {
                    return Err(ConfigError::BadValue {
                        key: "storage.s3_bucket",
                        reason: "the s3 backend needs APP__STORAGE__S3_BUCKET".into(),
                    });
                }
            }
            other => {
                return Err(ConfigError::BadValue {
                    key: "storage.backend",
                    reason: format!("{other:?} is not a storage backend (fs or s3)"),
                });
            }
        }
        if self.drugs.max_files == 0 || self.drugs.max_long_edge < 64 {
            return Err(ConfigError::BadValue {
                key: "drugs.max_files",
                reason: "max_files must be at least 1 and max_long_edge at least 64".into(),
            });
        }
        if !(1..=15).contains(&self.chat.stream_heartbeat_secs) {
            return Err(ConfigError::BadValue {
                key: "chat.stream_heartbeat_secs",
                reason: "a heartbeat goes every 1 to 15 seconds of silence".into(),
            });
        }
        if let Some(url) = &self.server.public_url {
            check_public_url(url)?;
        }
        self.check_sign_in()?;
        if self.is_production() {
            check_secret(
                &self.auth.jwt_secret,
                "JWT_SECRET_KEY (or APP__AUTH__JWT_SECRET)",
            )?;
            check_secret(&self.auth.internal_secret, "APP__AUTH__INTERNAL_SECRET")?;
            if self.app.serverless && self.database.url.expose_secret().starts_with("sqlite") {
                return Err(ConfigError::BadValue {
                    key: "database.url",
                    reason: "SQLite on a serverless instance's disk is read-only or lost with the instance; \
                             set DATABASE_URL to a PostgreSQL URL"
                        .into(),
                });
            }
            if self.legacy.enabled && !self.legacy.allow_unauthenticated_in_production {
                return Err(ConfigError::BadValue {
                    key: "legacy.enabled",
                    reason: "the legacy drug-serve routes act as one shared account without \
                             authentication; in production set \
                             APP__LEGACY__ALLOW_UNAUTHENTICATED_IN_PRODUCTION=true to accept \
                             that, or turn them off"
                        .into(),
                });
            }
            if self.auth.jwt_secret.expose_secret() == self.auth.internal_secret.expose_secret() {
                return Err(ConfigError::WeakSecret {
                    variable: "APP__AUTH__INTERNAL_SECRET",
                    problem: "the same as the JWT secret",
                });
            }
        }
        Ok(())
    }
}

/// `server.public_url`: an absolute http(s) address without query, fragment or credentials.
fn check_public_url(url: &str) -> Result<(), ConfigError> {
    let bad = |reason: &str| ConfigError::BadValue {
        key: "server.public_url",
        reason: format!("{url:?}: {reason}"),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with https:// or http://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if url.contains(['?', '#', '@'])
        || url
            .chars()
            .any(|c| !c.is_ascii() || c.is_whitespace() || c.is_control())
    {
        return Err(bad(
            "must be a plain ASCII address (no query, fragment, credentials or spaces; \
             a non-ASCII host name in its xn-- form)",
        ));
    }
    Ok(())
}

fn check_secret(secret: &SecretString, variable: &'static str) -> Result<(), ConfigError> {
    let value = secret.expose_secret();
    let problem = if value.trim().is_empty() {
        "empty"
    } else if value == DEV_SECRET {
        "the built-in development default"
    } else if value.len() < 32 {
        "shorter than 32 characters"
    } else {
        return Ok(());
    };
    Err(ConfigError::WeakSecret { variable, problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_in_local_mode() {
        let s = Settings::load_from(None, &env(&[])).unwrap();
        assert!(!s.is_production());
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.storage.max_file_size, 10 * 1024 * 1024);
    }

    #[test]
    fn flat_aliases_fill_their_sections() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://a@b/c"),
                ("DEEPSEEK_API_KEY", "sk-1"),
                ("DEEPSEEK_MODEL", "deepseek-reasoner"),
                ("API_KEY", "ark-1"),
                ("MODEL_ID", "vision-x"),
                ("MAX_FILE_SIZE", "2048"),
                ("JWT_EXPIRE_MINUTES", "60"),
                ("SERVERLESS", "true"),
                ("LOG_LEVEL", "debug"),
                ("APP__LLM_CHAT__CA_FILE", "/etc/model-ca.pem"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.llm_chat.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/model-ca.pem"))
        );
        assert_eq!(s.llm_vision.ca_file, None);
        assert_eq!(s.database.url.expose_secret(), "postgres://a@b/c");
        assert_eq!(s.llm_chat.api_key.as_ref().unwrap().expose_secret(), "sk-1");
        assert_eq!(s.llm_chat.model, "deepseek-reasoner");
        assert_eq!(
            s.llm_vision.api_key.as_ref().unwrap().expose_secret(),
            "ark-1"
        );
        assert_eq!(s.llm_vision.model, "vision-x");
        assert_eq!(s.storage.max_file_size, 2048);
        assert_eq!(s.auth.jwt_expire_minutes, 60);
        assert!(s.app.serverless);
        assert_eq!(s.app.log_level, "debug");
    }

    #[test]
    fn database_url_wins_over_postgresql_url_and_app_vars_win_over_both() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("POSTGRESQL_URL", "postgres://p"),
                ("DATABASE_URL", "postgres://d"),
            ]),
        )
        .unwrap();
        assert_eq!(s.database.url.expose_secret(), "postgres://d");
        let s = Settings::load_from(
            None,
            &env(&[
                ("DATABASE_URL", "postgres://d"),
                ("APP__DATABASE__URL", "postgres://app"),
            ]),
        )
        .unwrap();
        assert_eq!(s.database.url.expose_secret(), "postgres://app");
    }

    #[test]
    fn platform_port_variables_take_precedence_in_order() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("PORT", "7000"),
                ("FC_CUSTOM_LISTEN_PORT", "9001"),
                ("FC_SERVER_PORT", "9000"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
        let s = Settings::load_from(
            None,
            &env(&[("PORT", "7000"), ("FC_CUSTOM_LISTEN_PORT", "9001")]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9001);
        let s = Settings::load_from(None, &env(&[("PORT", "7000"), ("APP__SERVER__PORT", "1")]))
            .unwrap();
        assert_eq!(s.server.port, 7000);
    }

    #[test]
    fn a_non_numeric_port_is_rejected_with_its_name() {
        let err = Settings::load_from(None, &env(&[("PORT", "eighty")])).unwrap_err();
        assert!(err.to_string().contains("server.port"), "{err}");
    }

    #[test]
    fn list_values_parse_from_comma_separated_variables() {
        let s = Settings::load_from(
            None,
            &env(&[(
                "APP__CORS__ALLOWED_ORIGINS",
                "https://a.example,https://b.example",
            )]),
        )
        .unwrap();
        assert_eq!(
            s.cors.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn unknown_keys_in_a_file_are_an_error() {
        let dir = std::env::temp_dir().join(format!("cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.toml");
        std::fs::write(&path, "[server]\nprot = 9000\n").unwrap();
        let err = Settings::load_from(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
        std::fs::write(&path, "[server]\nport = 9100\n").unwrap();
        let s = Settings::load_from(Some(&path), &env(&[])).unwrap();
        assert_eq!(s.server.port, 9100);
    }

    #[test]
    fn production_refuses_the_default_secret_and_names_the_variable() {
        let err = Settings::load_from(None, &env(&[("APP__APP__MODE", "production")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("JWT_SECRET_KEY"), "{text}");
        assert!(text.contains("development default"), "{text}");
    }

    #[test]
    fn a_production_scheduler_needs_its_own_channel_key() {
        let base = [
            ("APP__APP__MODE", "production"),
            ("JWT_SECRET_KEY", "jwt-secret-0123456789abcdef0123456789"),
            (
                "APP__AUTH__INTERNAL_SECRET",
                "internal-0123456789abcdef0123456789",
            ),
        ];
        let s = Settings::load_from(None, &env(&base)).unwrap();
        let err = s.check_scheduler().unwrap_err().to_string();
        assert!(err.contains("APP__SCHEDULER__CHANNEL_KEY"), "{err}");
        let mut with_key = base.to_vec();
        with_key.push((
            "APP__SCHEDULER__CHANNEL_KEY",
            "channel-key-0123456789abcdef012345",
        ));
        let s = Settings::load_from(None, &env(&with_key)).unwrap();
        assert!(s.check_scheduler().is_ok());
        // Outside production the built-in key does (a development stack needs no setup).
        assert!(
            Settings::load_from(None, &env(&[]))
                .unwrap()
                .check_scheduler()
                .is_ok()
        );
    }

    #[test]
    fn production_refuses_an_empty_internal_secret() {
        let err = Settings::load_from(
            None,
            &env(&[
                ("APP__APP__MODE", "production"),
                ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
                ("APP__AUTH__INTERNAL_SECRET", " "),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("APP__AUTH__INTERNAL_SECRET"),
            "{err}"
        );
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn production_starts_with_strong_distinct_secrets() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("APP__APP__MODE", "production"),
                ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
                (
                    "APP__AUTH__INTERNAL_SECRET",
                    "0123456789abcdef0123456789abcdef-int",
                ),
            ]),
        )
        .unwrap();
        assert!(s.is_production());
    }

    #[test]
    fn public_url_must_be_a_plain_http_address() {
        for bad in [
            "api.example.com",
            "ftp://api.example.com",
            "https://",
            "https://api.example.com/?x=1",
            "https://user:pw@api.example.com",
            "https://api.example.com/a b",
            "https://例子.中国",
        ] {
            let err =
                Settings::load_from(None, &env(&[("APP__SERVER__PUBLIC_URL", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("server.public_url"),
                "{bad}: {err}"
            );
        }
        for good in ["https://api.example.com", "http://10.0.0.2:8080/unilife/"] {
            let s = Settings::load_from(None, &env(&[("APP__SERVER__PUBLIC_URL", good)])).unwrap();
            assert_eq!(s.server.public_url.as_deref(), Some(good));
        }
    }

    #[test]
    fn serverless_production_refuses_sqlite() {
        let strong = [
            ("APP__APP__MODE", "production"),
            ("SERVERLESS", "true"),
            ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
            (
                "APP__AUTH__INTERNAL_SECRET",
                "0123456789abcdef0123456789abcdef-int",
            ),
        ];
        let err = Settings::load_from(None, &env(&strong)).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
        let mut with_pg = strong.to_vec();
        with_pg.push(("DATABASE_URL", "postgres://u:p@db/unilife"));
        // Loads, but uploads on the instance's disk are refused where they are kept.
        let loaded = Settings::load_from(None, &env(&with_pg)).unwrap();
        let err = loaded.check_storage_for_uploads().unwrap_err();
        assert!(err.to_string().contains("APP__STORAGE__BACKEND"), "{err}");
        // The s3 backend needs its bucket.
        with_pg.push(("APP__STORAGE__BACKEND", "s3"));
        let err = Settings::load_from(None, &env(&with_pg)).unwrap_err();
        assert!(err.to_string().contains("S3_BUCKET"), "{err}");
        with_pg.push(("APP__STORAGE__S3_BUCKET", "cabinet-photos"));
        assert!(Settings::load_from(None, &env(&with_pg)).is_ok());
    }

    #[test]
    fn every_known_key_is_a_real_setting() {
        // Setting each key through its APP__ variable loads (unknown keys would be refused).
        for key in known_keys() {
            let var = format!("APP__{}", key.replace('.', "__").to_uppercase());
            let value = match key.as_str() {
                k if k.ends_with("mode") => "local",
                k if k.ends_with("level") => "info",
                k if k.ends_with("algorithm") => "HS256",
                k if k.ends_with("backend") => "fs",
                k if k.ends_with("bundle_ids") => "com.example.app",
                k if k.ends_with("json_logs")
                    || k.contains("enabled")
                    || k.ends_with("serverless")
                    || k.ends_with("debug")
                    || k.ends_with("clock")
                    || k.ends_with("path_style")
                    || k.ends_with("trust_forwarded_for")
                    || k.ends_with("migrate_on_start")
                    || k.ends_with("h2c")
                    || k.starts_with("legacy.")
                    || k.starts_with("compat.") =>
                {
                    "true"
                }
                k if k.contains("url")
                    || k.contains("endpoint")
                    || k.starts_with("services.") && !k.ends_with("secs") =>
                {
                    "http://x.example"
                }
                k if k.ends_with("origins") => "http://a.example",
                k if k.ends_with("heartbeat_secs") => "7",
                k if k.contains("secret")
                    || k.contains("key")
                    || k.ends_with("bucket")
                    || k.ends_with("model")
                    || k.ends_with("region")
                    || k.ends_with("host")
                    || k.ends_with("upload_dir") =>
                {
                    "0123456789abcdef0123456789abcdef-x"
                }
                _ => "77",
            };
            let loaded = Settings::load_from(None, &env(&[(&var, value)]));
            assert!(loaded.is_ok(), "{var}={value}: {:?}", loaded.err());
            assert_eq!(key_for_variable(&var), Some(key.clone()));
        }
        assert_eq!(key_for_variable("APP__DATABASE__MAX_CONNEXIONS"), None);
        assert_eq!(
            key_for_variable("DATABASE_URL").as_deref(),
            Some("database.url")
        );
        assert!(
            Settings::load_from(None, &env(&[("APP__DATABASE__MAX_CONNEXIONS", "5")])).is_err()
        );
    }

    #[test]
    fn production_refuses_the_legacy_routes_unless_acknowledged() {
        let mut vars = vec![
            ("APP__APP__MODE", "production"),
            ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
            (
                "APP__AUTH__INTERNAL_SECRET",
                "0123456789abcdef0123456789abcdef-int",
            ),
            ("APP__LEGACY__ENABLED", "true"),
        ];
        let err = Settings::load_from(None, &env(&vars)).unwrap_err();
        assert!(
            err.to_string()
                .contains("APP__LEGACY__ALLOW_UNAUTHENTICATED_IN_PRODUCTION"),
            "{err}"
        );
        vars.push(("APP__LEGACY__ALLOW_UNAUTHENTICATED_IN_PRODUCTION", "true"));
        assert!(
            Settings::load_from(None, &env(&vars))
                .unwrap()
                .legacy
                .enabled
        );
        // Local mode needs no acknowledgement.
        let local = Settings::load_from(None, &env(&[("APP__LEGACY__ENABLED", "true")]));
        assert!(local.unwrap().legacy.enabled);
    }

    #[test]
    fn production_refuses_passwordless_login_unless_acknowledged() {
        let mut vars = vec![
            ("APP__APP__MODE", "production"),
            ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
            (
                "APP__AUTH__INTERNAL_SECRET",
                "0123456789abcdef0123456789abcdef-int",
            ),
            ("APP__COMPAT__PASSWORDLESS_LOGIN", "true"),
        ];
        let err = Settings::load_from(None, &env(&vars)).unwrap_err();
        assert!(
            err.to_string()
                .contains("APP__COMPAT__ALLOW_PASSWORDLESS_LOGIN_IN_PRODUCTION"),
            "{err}"
        );
        vars.push((
            "APP__COMPAT__ALLOW_PASSWORDLESS_LOGIN_IN_PRODUCTION",
            "true",
        ));
        assert!(
            Settings::load_from(None, &env(&vars))
                .unwrap()
                .compat
                .passwordless_login
        );
        let local = Settings::load_from(None, &env(&[("APP__COMPAT__PASSWORDLESS_LOGIN", "true")]));
        assert!(local.unwrap().compat.passwordless_login);
    }

    #[test]
    fn apple_settings_parse_a_list_of_bundle_ids_and_want_https_keys_in_production() {
        let s = Settings::load_from(
            None,
            &env(&[(
                "APP__APPLE__BUNDLE_IDS",
                "com.example.app, ,com.example.app.dev",
            )]),
        )
        .unwrap();
        assert_eq!(
            s.apple.audiences(),
            vec!["com.example.app", "com.example.app.dev"]
        );
        let one = Settings::load_from(None, &env(&[("APP__APPLE__BUNDLE_IDS", "com.example.app")]))
            .unwrap();
        assert_eq!(one.apple.audiences(), vec!["com.example.app"]);
        let off = Settings::load_from(None, &env(&[])).unwrap();
        assert!(off.apple.audiences().is_empty());
        let err = Settings::load_from(
            None,
            &env(&[
                ("APP__APP__MODE", "production"),
                ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
                (
                    "APP__AUTH__INTERNAL_SECRET",
                    "0123456789abcdef0123456789abcdef-int",
                ),
                ("APP__APPLE__JWKS_URL", "http://keys.example/auth/keys"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("APP__APPLE__JWKS_URL"), "{err}");
        let err =
            Settings::load_from(None, &env(&[("APP__APPLE__JWKS_URL", "ftp://x")])).unwrap_err();
        assert!(err.to_string().contains("apple.jwks_url"), "{err}");

        // The web console's Services ID is an audience too, and its authorize page is https in
        // production (an http one would hand the identity token to whoever is on the path).
        let web = Settings::load_from(
            None,
            &env(&[
                ("APP__APPLE__BUNDLE_IDS", "com.example.app"),
                ("APP__APPLE__WEB_SERVICE_ID", "com.example.web"),
            ]),
        )
        .unwrap();
        assert_eq!(
            web.apple.audiences(),
            vec!["com.example.app", "com.example.web"]
        );
        assert_eq!(
            web.apple.web(),
            Some((
                "com.example.web",
                "https://appleid.apple.com/auth/authorize"
            ))
        );
        assert_eq!(off.apple.web(), None);
        let production = [
            ("APP__APP__MODE", "production"),
            ("JWT_SECRET_KEY", "0123456789abcdef0123456789abcdef-jwt"),
            (
                "APP__AUTH__INTERNAL_SECRET",
                "0123456789abcdef0123456789abcdef-int",
            ),
            ("APP__APPLE__WEB_SERVICE_ID", "com.example.web"),
            (
                "APP__APPLE__AUTHORIZE_URL",
                "http://apple.example/auth/authorize",
            ),
        ];
        let err = Settings::load_from(None, &env(&production)).unwrap_err();
        assert!(
            err.to_string().contains("APP__APPLE__AUTHORIZE_URL"),
            "{err}"
        );
        let err = Settings::load_from(None, &env(&[("APP__APPLE__AUTHORIZE_URL", "javascript:x")]))
            .unwrap_err();
        assert!(err.to_string().contains("apple.authorize_url"), "{err}");
    }

    #[test]
    fn an_unsupported_jwt_algorithm_is_rejected() {
        let err = Settings::load_from(None, &env(&[("JWT_ALGORITHM", "none")])).unwrap_err();
        assert!(err.to_string().contains("jwt_algorithm"), "{err}");
    }
}
