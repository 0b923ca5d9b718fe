//! `drugs.search_text`: the searched fields folded in Rust (`shared::text`), so that search is
//! case-insensitive for any Unicode text and the same on SQLite and PostgreSQL. Existing rows
//! are filled here.

use sea_orm::{ConnectionTrait, FromQueryResult};
use sea_orm_migration::prelude::*;

use crate::entities::drug;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(FromQueryResult)]
struct Row {
    id: uuid::Uuid,
    name: String,
    brand: Option<String>,
    generic_name: Option<String>,
    manufacturer: Option<String>,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A new database already has it: the drugs migration creates the table from the
        // entity as it is now.
        if !manager.has_column("drugs", "search_text").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(drug::Entity)
                        .add_column(
                            ColumnDef::new(drug::Column::SearchText)
                                .text()
                                .not_null()
                                .default(""),
                        )
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let select = Query::select()
            .columns([
                drug::Column::Id,
                drug::Column::Name,
                drug::Column::Brand,
                drug::Column::GenericName,
                drug::Column::Manufacturer,
            ])
            .from(drug::Entity)
            .to_owned();
        let rows = Row::find_by_statement(backend.build(&select))
            .all(db)
            .await?;
        for row in rows {
            let text = crate::text::search_text([
                Some(row.name.as_str()),
                row.brand.as_deref(),
                row.generic_name.as_deref(),
                row.manufacturer.as_deref(),
            ]);
            let update = Query::update()
                .table(drug::Entity)
                .value(drug::Column::SearchText, text)
                .and_where(Expr::col(drug::Column::Id).eq(row.id))
                .to_owned();
            db.execute(&update).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(drug::Entity)
                    .drop_column(drug::Column::SearchText)
                    .to_owned(),
            )
            .await
    }
}
