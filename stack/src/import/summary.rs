//! What an import did, per table: rows read, created, already there, skipped (with why), and
//! notes on rows imported with something left out.

use std::collections::BTreeMap;
use std::fmt;

/// Ids listed per skip reason before "and N more".
const IDS_SHOWN: usize = 5;

#[derive(Debug, Default)]
pub struct Summary {
    pub dry_run: bool,
    pub tables: Vec<TableSummary>,
}

#[derive(Debug, Default)]
pub struct TableSummary {
    pub name: &'static str,
    /// The source has no such table (an older database); nothing was read.
    pub absent: bool,
    pub read: usize,
    pub created: usize,
    pub existing: usize,
    /// Reason → original ids of the rows skipped for it.
    pub skipped: BTreeMap<String, Vec<String>>,
    /// Rows imported with a value left out or replaced, and why.
    pub notes: Vec<String>,
}

impl TableSummary {
    pub fn skip(&mut self, id: &str, reason: impl Into<String>) {
        self.skipped
            .entry(reason.into())
            .or_default()
            .push(id.to_owned());
    }

    pub fn note(&mut self, id: &str, what: impl fmt::Display) {
        self.notes.push(format!("{id}: {what}"));
    }

    pub fn skipped_count(&self) -> usize {
        self.skipped.values().map(Vec::len).sum()
    }
}

impl Summary {
    pub fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            tables: Vec::new(),
        }
    }

    /// The table's entry, added on first use (tables print in that order).
    pub fn table(&mut self, name: &'static str) -> &mut TableSummary {
        let at = match self.tables.iter().position(|t| t.name == name) {
            Some(at) => at,
            None => {
                self.tables.push(TableSummary {
                    name,
                    ..TableSummary::default()
                });
                self.tables.len() - 1
            }
        };
        &mut self.tables[at]
    }

    /// The table's entry if it was imported.
    pub fn get(&self, name: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn created(&self) -> usize {
        self.tables.iter().map(|t| t.created).sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "Import summary (dry run: nothing was written)")?;
        } else {
            writeln!(f, "Import summary")?;
        }
        writeln!(
            f,
            "  {:<14} {:>6} {:>8} {:>14} {:>8}",
            "table", "read", "created", "already there", "skipped"
        )?;
        for t in &self.tables {
            if t.absent {
                writeln!(f, "  {:<14} (no such table in the source)", t.name)?;
                continue;
            }
            writeln!(
                f,
                "  {:<14} {:>6} {:>8} {:>14} {:>8}",
                t.name,
                t.read,
                t.created,
                t.existing,
                t.skipped_count()
            )?;
        }
        for t in &self.tables {
            for (reason, ids) in &t.skipped {
                let shown: Vec<&str> = ids.iter().take(IDS_SHOWN).map(String::as_str).collect();
                let more = ids.len().saturating_sub(IDS_SHOWN);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                writeln!(
                    f,
                    "skipped {} {}: {reason} ({}{more})",
                    ids.len(),
                    t.name,
                    shown.join(", ")
                )?;
            }
        }
        for t in &self.tables {
            for note in &t.notes {
                writeln!(f, "note {}: {note}", t.name)?;
            }
        }
        Ok(())
    }
}
