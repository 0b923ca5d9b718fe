//! Households and caregivers: `/api/v1/households…`.

use actix_web::{HttpResponse, web};
use shared::ApiError;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::household::{
    self, AuditQuery, DependentInput, HouseholdInput, InviteInput, JoinInput, RoleInput,
};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/households", web::get().to(list))
        .route("/households", web::post().to(create))
        .route("/households/join", web::post().to(join))
        .route("/households/{id}", web::get().to(get))
        .route("/households/{id}", web::put().to(rename))
        .route("/households/{id}", web::delete().to(delete))
        .route("/households/{id}/dependents", web::post().to(add_dependent))
        .route("/households/{id}/invitations", web::post().to(invite))
        .route("/households/{id}/audit", web::get().to(audit))
        .route(
            "/households/{id}/members/{person_id}",
            web::put().to(set_role),
        )
        .route(
            "/households/{id}/members/{person_id}",
            web::delete().to(remove_member),
        );
}

async fn list(state: web::Data<AppState>, UserId(me): UserId) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(household::list(&state, me).await?))
}

async fn create(
    state: web::Data<AppState>,
    UserId(me): UserId,
    body: web::Json<HouseholdInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(household::create(&state, me, body.into_inner()).await?))
}

async fn join(
    state: web::Data<AppState>,
    UserId(me): UserId,
    body: web::Json<JoinInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(household::join(&state, me, body.into_inner()).await?))
}

async fn get(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(household::get(&state, me, path.into_inner()).await?))
}

async fn rename(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<Uuid>,
    body: web::Json<HouseholdInput>,
) -> Result<HttpResponse, ApiError> {
    let view = household::rename(&state, me, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn delete(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    household::delete(&state, me, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn add_dependent(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<Uuid>,
    body: web::Json<DependentInput>,
) -> Result<HttpResponse, ApiError> {
    let member = household::add_dependent(&state, me, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(member))
}

async fn invite(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<Uuid>,
    body: web::Json<InviteInput>,
) -> Result<HttpResponse, ApiError> {
    let invitation = household::invite(&state, me, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(invitation))
}

async fn audit(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<Uuid>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let entries = household::audit(&state, me, path.into_inner(), query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(entries))
}

async fn set_role(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RoleInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, person) = path.into_inner();
    let member = household::set_role(&state, me, id, person, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(member))
}

async fn remove_member(
    state: web::Data<AppState>,
    UserId(me): UserId,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, person) = path.into_inner();
    household::remove_member(&state, me, id, person).await?;
    Ok(HttpResponse::NoContent().finish())
}
