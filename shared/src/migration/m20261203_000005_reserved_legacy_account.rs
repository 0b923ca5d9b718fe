//! The legacy drug-serve routes used to act as whichever user had the login `legacy` (the
//! system created it when nobody had). The account is now reserved under
//! `user::LEGACY_LOGIN`, which nobody can register: the row the system created (recognised by
//! its unusable password) moves there with its cabinet; a `legacy` login somebody registered
//! stays theirs and is no longer reachable from the anonymous routes.

use sea_orm_migration::prelude::*;

use crate::entities::user;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let update = Query::update()
            .table(user::Entity)
            .value(user::Column::Login, user::LEGACY_LOGIN)
            .and_where(Expr::col(user::Column::Login).eq("legacy"))
            .and_where(Expr::col(user::Column::PasswordHash).eq("!legacy-account-no-password"))
            .to_owned();
        manager.exec_stmt(update).await
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
