//! Listing the cabinet: text search, expiry status, sort order and paging.

use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, QueryOrder, Select};
use serde::Deserialize;
use shared::entities::drug;

use super::CabinetError;
use shared::contracts::ExpiryStatus;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// A list query, checked.
pub(super) struct ListParams<'a> {
    pub text: Option<&'a str>,
    pub status: Option<ExpiryStatus>,
    pub sort: &'a str,
    pub limit: u64,
    pub offset: u64,
}

impl ListQuery {
    pub(super) fn params(&self) -> Result<ListParams<'_>, CabinetError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(CabinetError::invalid("limit must be between 1 and 200"));
        }
        let offset: u64 = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => c
                .parse()
                .map_err(|_| CabinetError::invalid("cursor is not one this server gave out"))?,
            None => 0,
        };
        let text = self.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if text.is_some_and(|t| t.chars().count() > 100) {
            return Err(CabinetError::invalid("q is longer than 100 characters"));
        }
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(ExpiryStatus::parse(s).ok_or_else(|| {
                CabinetError::invalid("status must be one of ok, expiring, expired, unknown")
            })?),
            None => None,
        };
        Ok(ListParams {
            text,
            status,
            sort: self.sort.as_deref().unwrap_or("-created_at"),
            limit,
            offset,
        })
    }
}

/// `%` and `_` in a search are literal; the query is folded as the stored text is.
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in shared::text::fold(q).chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A substring of name, brand, generic name or maker, case-insensitive for any Unicode text
/// and the same on SQLite and PostgreSQL (`drugs.search_text`, folded by `shared::text`).
pub fn search_condition(q: &str) -> Condition {
    Condition::all().add(
        Expr::col((drug::Entity, drug::Column::SearchText))
            .like(LikeExpr::new(like_pattern(q)).escape('\\')),
    )
}

pub(super) fn status_condition(
    status: ExpiryStatus,
    today: NaiveDate,
    warning_days: i64,
) -> Condition {
    let horizon = today + Duration::days(warning_days);
    match status {
        ExpiryStatus::Unknown => Condition::all().add(drug::Column::ExpiryDate.is_null()),
        ExpiryStatus::Expired => Condition::all().add(drug::Column::ExpiryDate.lt(today)),
        ExpiryStatus::Expiring => Condition::all()
            .add(drug::Column::ExpiryDate.gte(today))
            .add(drug::Column::ExpiryDate.lte(horizon)),
        ExpiryStatus::Ok => Condition::all().add(drug::Column::ExpiryDate.gt(horizon)),
    }
}

/// The select in the asked order; ties broken by id so pages never overlap.
pub(super) fn sorted(
    select: Select<drug::Entity>,
    sort: &str,
) -> Result<Select<drug::Entity>, CabinetError> {
    Ok(match sort {
        "-created_at" | "created_at_desc" => select.order_by_desc(drug::Column::CreatedAt),
        "created_at" => select.order_by_asc(drug::Column::CreatedAt),
        "expiry_date" => select
            .order_by_asc(Expr::col(drug::Column::ExpiryDate).is_null())
            .order_by_asc(drug::Column::ExpiryDate),
        "name" => select.order_by_asc(drug::Column::Name),
        _ => {
            return Err(CabinetError::invalid(
                "sort must be one of -created_at, created_at, expiry_date, name",
            ));
        }
    }
    .order_by_asc(drug::Column::Id))
}
