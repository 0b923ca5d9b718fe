//! The operator's command: `gateway admin grant|revoke <login>` run as a program against the
//! configured database, the only way the admin role is given.

use std::process::Command;

use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use shared::entities::user;
use uuid::Uuid;

use crate::helpers::spawn_app;

fn admin(app: &crate::helpers::TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("admin")
        .args(args)
        .env("DATABASE_URL", app.settings.database.url.expose_secret())
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

async fn is_admin(app: &crate::helpers::TestApp, id: &str) -> bool {
    user::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .is_admin
}

#[tokio::test]
async fn an_operator_grants_and_revokes_the_admin_role_from_the_command_line() {
    let app = spawn_app().await;
    let session = app.register("operator-friend").await;
    assert!(
        !is_admin(&app, &session.user_id).await,
        "nobody is born an admin"
    );

    let out = admin(&app, &["grant", "operator-friend"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("is now an admin"),
        "{out:?}"
    );
    assert!(is_admin(&app, &session.user_id).await);

    let out = admin(&app, &["revoke", "operator-friend"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!is_admin(&app, &session.user_id).await);

    // An unknown login and a wrong verb fail with a reason and change nothing.
    let out = admin(&app, &["grant", "nobody-here"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no account"),
        "{out:?}"
    );
    let out = admin(&app, &["promote", "operator-friend"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("usage"),
        "{out:?}"
    );
    assert!(!is_admin(&app, &session.user_id).await);
}
