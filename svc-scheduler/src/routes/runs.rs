use actix_web::{HttpResponse, web};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use shared::ApiError;
use shared::entities::{job_item, job_run, user};
use shared::internal_auth::UserId;

use crate::jobs::Job;
use crate::state::Ctx;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    job: Option<String>,
    limit: Option<u64>,
}

/// Recent runs with their counts, and the work items behind them: the caller's own items and
/// the runs they were in, or everyone's for an admin (`gateway admin grant <login>`).
pub async fn list(
    ctx: web::Data<Ctx>,
    UserId(caller): UserId,
    query: web::Query<RunsQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation("limit must be between 1 and 100"));
    }
    let mut runs = job_run::Entity::find();
    let mut items = job_item::Entity::find();
    if let Some(name) = query.job.as_deref().filter(|j| !j.is_empty()) {
        let job = Job::parse(name)
            .ok_or_else(|| ApiError::validation(format!("no job named {name:?}")))?;
        runs = runs.filter(job_run::Column::Job.eq(job.name()));
        items = items.filter(job_item::Column::Job.eq(job.name()));
    }
    let admin = user::Entity::find_by_id(caller)
        .one(&ctx.db)
        .await?
        .is_some_and(|u| u.is_admin);
    if !admin {
        // A user sees their own work and the runs it was done in, nobody else's.
        items = items.filter(job_item::Column::UserId.eq(caller));
        runs = runs.filter(
            job_run::Column::Id.in_subquery(
                Query::select()
                    .column(job_item::Column::RunId)
                    .from(job_item::Entity)
                    .and_where(job_item::Column::UserId.eq(caller))
                    .to_owned(),
            ),
        );
    }
    let runs = runs
        .order_by_desc(job_run::Column::StartedAt)
        .limit(limit)
        .all(&ctx.db)
        .await?;
    let items = items
        .order_by_desc(job_item::Column::UpdatedAt)
        .limit(limit * 10)
        .all(&ctx.db)
        .await?;
    let runs: Vec<serde_json::Value> = runs
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id, "job": r.job, "trigger": r.trigger, "status": r.status,
                "total": r.total, "done": r.done, "skipped": r.skipped, "failed": r.failed,
                "error": r.error, "started_at": r.started_at, "finished_at": r.finished_at,
            })
        })
        .collect();
    let items: Vec<serde_json::Value> = items
        .into_iter()
        .map(|i| serde_json::json!({
            "job": i.job, "user_id": i.user_id, "period": i.period, "status": i.status,
            "attempts": i.attempts, "error": i.error, "run_id": i.run_id, "updated_at": i.updated_at,
        }))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"runs": runs, "items": items})))
}
