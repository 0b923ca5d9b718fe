//! svc-chat's per-user state for the UniLife app (context cleared, onboarding, the
//! assistant's identity). Created from its entity definition (frozen once released).

use sea_orm_migration::prelude::*;

use super::create_from_entity as create;

use crate::entities::chat_user_state;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, chat_user_state::Entity).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("chat_user_state"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
