//! An original SQLite database, opened read-only. Every value is read as text (`CAST(… AS
//! TEXT)`) and parsed by the importer: SQLite keeps whatever type was written, and a column
//! an older database never got is simply absent from the row.

use std::collections::HashMap;
use std::path::Path;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement};

/// One row: column → text; a NULL or a missing column has no entry.
#[derive(Debug, Default)]
pub struct Row(HashMap<String, String>);

impl Row {
    /// The column's text, `None` when NULL, missing or blank.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0
            .get(column)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The column's text as it is, blank included.
    pub fn raw(&self, column: &str) -> Option<&str> {
        self.0.get(column).map(String::as_str)
    }
}

pub struct Source {
    db: DatabaseConnection,
}

impl Source {
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            anyhow::bail!("{}: no such file", path.display());
        }
        let url = format!("sqlite://{}?mode=ro", path.display());
        let db = Database::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("{}: cannot open: {e}", path.display()))?;
        let source = Self { db };
        source
            .query("SELECT name FROM sqlite_master LIMIT 1")
            .await
            .map_err(|e| anyhow::anyhow!("{}: not an SQLite database: {e}", path.display()))?;
        Ok(source)
    }

    async fn query(&self, sql: &str) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
    }

    /// The table's columns, `None` when the database has no such table.
    pub async fn columns(&self, table: &str) -> Result<Option<Vec<String>>, DbErr> {
        let rows = self
            .query(&format!("PRAGMA table_info({})", quote(table)))
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        rows.iter()
            .map(|r| r.try_get::<String>("", "name"))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Every row of the table in the order written, `None` when there is no such table.
    pub async fn rows(&self, table: &str) -> Result<Option<Vec<Row>>, DbErr> {
        let Some(columns) = self.columns(table).await? else {
            return Ok(None);
        };
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("CAST({q} AS TEXT) AS {q}", q = quote(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY rowid",
            select.join(", "),
            quote(table)
        );
        let rows = self.query(&sql).await?;
        Ok(Some(
            rows.iter()
                .map(|r| {
                    Row(columns
                        .iter()
                        // A value that is not UTF-8 text is read as missing; NUL
                        // characters, which PostgreSQL text cannot hold, are dropped.
                        .filter_map(|c| {
                            r.try_get::<Option<String>>("", c)
                                .ok()
                                .flatten()
                                .map(|v| (c.clone(), v.replace('\0', "")))
                        })
                        .collect())
                })
                .collect(),
        ))
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
