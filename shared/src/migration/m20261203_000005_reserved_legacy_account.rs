//! The legacy drug-serve routes used to act as whichever user had the configured login
//! (`legacy.account`, by default `legacy`; the system created it, without a usable password,
//! when nobody had that login). The account is now reserved under `user::LEGACY_LOGIN`, which
//! nobody can register: the row the system created — recognised by its unusable password,
//! whatever login was configured — moves there with its cabinet. A login somebody registered
//! stays theirs and is no longer reachable from the anonymous routes. If several rows carry
//! the marker (the setting was changed over time), none is moved: which cabinet the routes
//! should show is the operator's choice, and the routes start with a new, empty one.

use sea_orm::{ConnectionTrait, FromQueryResult};
use sea_orm_migration::prelude::*;

use crate::entities::user;

/// The password hash the system gave the account it created (not a PHC string: nothing
/// verifies against it).
const SYSTEM_MADE: &str = "!legacy-account-no-password";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(FromQueryResult)]
struct Row {
    id: uuid::Uuid,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let select = Query::select()
            .column(user::Column::Id)
            .from(user::Entity)
            .and_where(Expr::col(user::Column::PasswordHash).eq(SYSTEM_MADE))
            .and_where(Expr::col(user::Column::Login).ne(user::LEGACY_LOGIN))
            .to_owned();
        let made = Row::find_by_statement(backend.build(&select))
            .all(db)
            .await?;
        let reserved_exists = Query::select()
            .column(user::Column::Id)
            .from(user::Entity)
            .and_where(Expr::col(user::Column::Login).eq(user::LEGACY_LOGIN))
            .to_owned();
        let reserved_exists = Row::find_by_statement(backend.build(&reserved_exists))
            .one(db)
            .await?
            .is_some();
        if let [only] = made.as_slice()
            && !reserved_exists
        {
            let update = Query::update()
                .table(user::Entity)
                .value(user::Column::Login, user::LEGACY_LOGIN)
                .and_where(Expr::col(user::Column::Id).eq(only.id))
                .to_owned();
            db.execute(&update).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let update = Query::update()
            .table(user::Entity)
            .value(user::Column::Login, "legacy")
            .and_where(Expr::col(user::Column::Login).eq(user::LEGACY_LOGIN))
            .to_owned();
        manager.exec_stmt(update).await
    }
}
