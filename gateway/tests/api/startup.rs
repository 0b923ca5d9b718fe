use std::process::Command;

/// The real binary, started the way a platform would, with the shipped development secret.
#[test]
fn the_gateway_refuses_to_start_in_production_with_a_default_secret() {
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .env("APP__APP__MODE", "production")
        .env("FC_SERVER_PORT", "0")
        .env(
            "APP__AUTH__INTERNAL_SECRET",
            "0123456789abcdef0123456789abcdef-internal",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JWT_SECRET_KEY"), "{stderr}");
}

#[test]
fn the_gateway_refuses_an_unknown_key_in_its_config_file() {
    let dir = std::env::temp_dir().join(format!("gw-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("app.toml");
    std::fs::write(&file, "[auth]\njwt_secrte = \"typo\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_clear()
        .env("APP_CONFIG_FILE", &file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("jwt_secrte"), "{stderr}");
}
