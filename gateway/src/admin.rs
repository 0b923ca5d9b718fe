//! The operator's command to grant or revoke the admin role (`gateway admin grant <login>`,
//! `stack admin …`): run where the service's configuration is, against its database. Nothing
//! reachable over HTTP grants the role.

use sea_orm::{ActiveModelTrait, DatabaseConnection, IntoActiveModel, Set};
use shared::entities::user;

use crate::repo::users;

/// What `admin` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    Grant(String),
    Revoke(String),
}

impl AdminCommand {
    /// `grant <login>` or `revoke <login>` (the words after `admin`).
    pub fn parse(args: &[String]) -> Result<AdminCommand, String> {
        match args {
            [verb, login] if verb == "grant" => Ok(AdminCommand::Grant(login.clone())),
            [verb, login] if verb == "revoke" => Ok(AdminCommand::Revoke(login.clone())),
            _ => Err("usage: admin grant <login> | admin revoke <login>".into()),
        }
    }
}

/// Set the account's admin flag; the line to print, or why not.
pub async fn run(db: &DatabaseConnection, command: &AdminCommand) -> Result<String, String> {
    let (login, admin) = match command {
        AdminCommand::Grant(l) => (l.as_str(), true),
        AdminCommand::Revoke(l) => (l.as_str(), false),
    };
    let account = users::find_by_login(db, login.trim())
        .await
        .map_err(|e| format!("database: {e}"))?
        .ok_or_else(|| format!("no account with the login {login:?}"))?;
    let id = account.id;
    let mut row: user::ActiveModel = account.into_active_model();
    row.is_admin = Set(admin);
    row.update(db).await.map_err(|e| format!("database: {e}"))?;
    Ok(format!(
        "{login} ({id}) {}",
        if admin {
            "is now an admin"
        } else {
            "is no longer an admin"
        }
    ))
}

/// `<binary> admin …`: run it against the configured database and exit; otherwise return.
pub async fn run_if_asked(settings: &shared::config::Settings) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("admin") {
        return;
    }
    let outcome = match AdminCommand::parse(&args[1..]) {
        Ok(command) => match shared::db::connect(&settings.database).await {
            Ok(db) => run(&db, &command).await,
            Err(e) => Err(format!("database: {e}")),
        },
        Err(usage) => Err(usage),
    };
    match outcome {
        Ok(line) => {
            println!("{line}");
            std::process::exit(0);
        }
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(2);
        }
    }
}
