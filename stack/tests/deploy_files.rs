//! The deploy files cannot drift from the code: every environment variable named in
//! `docker-compose.yml`, `deploy/fc/s.yaml` and `deploy/scf/*/serverless.yml` is one the
//! configuration reads, and each function's settings load in production mode with every
//! required secret present. (The compose file's schema check is `deploy/check_compose.py`.)

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use shared::config::{Settings, key_for_variable};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v.apply_merge().unwrap();
    // Merge keys nested deeper than the top are applied too.
    fn merge_all(v: &mut Value) {
        let _ = v.apply_merge();
        match v {
            Value::Mapping(m) => m.values_mut().for_each(merge_all),
            Value::Sequence(s) => s.iter_mut().for_each(merge_all),
            _ => {}
        }
    }
    merge_all(&mut v);
    v
}

/// A stand-in for a value the platform fills in (`${env(X)}`, `${env:X}`, `${X:?...}`).
fn stand_in(name: &str) -> String {
    match name {
        "DATABASE_URL" => "postgres://unilife:pw@db.internal:5432/unilife".into(),
        n if n.starts_with("APP__SERVICES__") => "http://service.internal:9000".into(),
        n if n.contains("ORIGINS") => "https://app.example.com".into(),
        n if n.ends_with("VAPID_SUBJECT") => "mailto:ops@example.com".into(),
        n => format!("{}-0123456789abcdef0123456789abcdef", n.to_lowercase()),
    }
}

fn env_of(map: &Value) -> HashMap<String, String> {
    map.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let name = k.as_str().unwrap().to_owned();
                    let raw = match v {
                        Value::String(s) => s.clone(),
                        other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
                    };
                    let value = if raw.contains("${") {
                        stand_in(&name)
                    } else {
                        raw
                    };
                    (name, value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Check one function's environment: every name known, and it loads in production.
fn check(file: &str, function: &str, env: &HashMap<String, String>, stores_uploads: bool) {
    assert!(!env.is_empty(), "{file} {function}: no environment");
    for name in env.keys() {
        assert!(
            key_for_variable(name).is_some(),
            "{file} {function}: {name} is not read by the configuration"
        );
    }
    let settings = Settings::load_from(None, env)
        .unwrap_or_else(|e| panic!("{file} {function}: settings do not load: {e}"));
    assert!(
        settings.is_production(),
        "{file} {function}: not production mode"
    );
    if function.starts_with("scheduler") {
        settings
            .check_scheduler()
            .unwrap_or_else(|e| panic!("{file} {function}: {e}"));
    }
    if stores_uploads {
        settings
            .check_storage_for_uploads()
            .unwrap_or_else(|e| panic!("{file} {function}: {e}"));
    }
}

#[test]
fn fc_s_yaml_names_only_real_settings_and_each_function_starts_in_production() {
    let doc = load(&root().join("deploy/fc/s.yaml"));
    assert_eq!(doc["edition"].as_str(), Some("3.0.0"));
    let resources = doc["resources"].as_mapping().unwrap();
    assert_eq!(resources.len(), 4);
    for (name, res) in resources {
        let name = name.as_str().unwrap();
        assert_eq!(res["component"].as_str(), Some("fc3"), "{name}");
        let props = &res["props"];
        let code = props["code"].as_str().unwrap();
        assert!(
            code.starts_with("../../dist/fc/") && code.ends_with(".zip"),
            "{name}: {code}"
        );
        assert_eq!(
            props["customRuntimeConfig"]["port"].as_u64(),
            Some(9000),
            "{name}"
        );
        check(
            "s.yaml",
            name,
            &env_of(&props["environmentVariables"]),
            name == "drugs",
        );
        let triggers = props["triggers"].as_sequence().unwrap();
        for t in triggers {
            if t["triggerType"].as_str() == Some("http") {
                let private = t["triggerConfig"]["disableURLInternet"].as_bool().unwrap();
                assert_eq!(
                    private,
                    name != "gateway",
                    "{name}: only the gateway is public"
                );
            }
        }
        let has_timer = triggers
            .iter()
            .any(|t| t["triggerType"].as_str() == Some("timer"));
        assert_eq!(
            has_timer,
            name == "scheduler",
            "{name}: only the scheduler has a timer"
        );
    }
}

#[test]
fn scf_serverless_files_name_only_real_settings() {
    for name in ["gateway", "drugs", "chat", "scheduler", "scheduler-web"] {
        let path = root().join(format!("deploy/scf/{name}/serverless.yml"));
        let doc = load(&path);
        assert_eq!(doc["component"].as_str(), Some("scf"));
        let inputs = &doc["inputs"];
        let kind = inputs["type"].as_str().unwrap();
        assert_eq!(
            kind,
            if name == "scheduler" { "event" } else { "web" },
            "{name}"
        );
        check(
            "serverless.yml",
            name,
            &env_of(&inputs["environment"]["variables"]),
            name == "drugs",
        );
        let events = inputs["events"].as_sequence().unwrap();
        if name == "scheduler" {
            assert!(
                events.iter().any(|e| e.get("timer").is_some()),
                "the scheduler has a timer"
            );
        }
    }
}

#[test]
fn compose_names_only_real_settings() {
    let doc = load(&root().join("docker-compose.yml"));
    let services = doc["services"].as_mapping().unwrap();
    for name in ["gateway", "drugs", "chat", "scheduler"] {
        let svc = &services[name];
        let env = env_of(&svc["environment"]);
        check("docker-compose.yml", name, &env, false);
        assert_eq!(
            svc["healthcheck"]["test"][1].as_str(),
            Some("/service"),
            "{name}"
        );
    }
}
