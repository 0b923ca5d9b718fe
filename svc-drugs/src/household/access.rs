//! Whose cabinet a request is about: the caller's own, or with `X-Person-Id` a dependent the
//! caller looks after; and the audit of what is done for someone else.

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use shared::ApiError;
use shared::internal_auth::UserId;
use uuid::Uuid;

use super::{HouseholdError, repo};
use crate::state::AppState;

/// The header naming the person a request acts for (their person id).
pub const PERSON_HEADER: &str = "x-person-id";

/// The person whose cabinet a request reads or changes: the caller, or the dependent named by
/// `X-Person-Id` when the caller's role allows it (to see: owner or caregiver; to change:
/// owner or caregiver who can act). Anyone else's id answers 404, as if there were no such
/// person; a view-only caregiver's change answers 403.
#[derive(Debug, Clone, Copy)]
pub struct Person(pub Uuid);

/// Left on the request when it acts for someone else, for the audit.
#[derive(Debug, Clone, Copy)]
struct ActingFor {
    household: Uuid,
    actor: Uuid,
    person: Uuid,
}

fn changes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

impl FromRequest for Person {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = UserId::from_request(req, payload).into_inner();
        let named = req
            .headers()
            .get(PERSON_HEADER)
            .map(|v| v.to_str().ok().and_then(|s| Uuid::parse_str(s.trim()).ok()));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let UserId(actor) = caller?;
            let person = match named {
                None => return Ok(Person(actor)),
                Some(None) => {
                    return Err(ApiError::validation(
                        "X-Person-Id 应为家人的 person_id（UUID）。X-Person-Id must be a person id (a UUID).",
                    ));
                }
                Some(Some(p)) if p == actor => return Ok(Person(actor)),
                Some(Some(p)) => p,
            };
            let state = state.ok_or_else(|| ApiError::internal("svc-drugs state missing"))?;
            let (household, role) = repo::role_over(&state.db, actor, person)
                .await?
                .ok_or(HouseholdError::PersonNotFound)?;
            // Audited from here on, a refused change too.
            req.extensions_mut().insert(ActingFor {
                household,
                actor,
                person,
            });
            if changes(req.method()) && !role.can_act() {
                return Err(HouseholdError::ViewOnly.into());
            }
            Ok(Person(person))
        })
    }
}

/// Middleware: every change made for someone else, and every export of their records, is
/// written to the household's audit (who, what, the answer's status, when). The path holds
/// ids only; bodies and query strings are not kept.
pub async fn audit_caregiver_actions(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let res = next.call(req).await?;
    let request = res.request();
    let acting = request.extensions().get::<ActingFor>().copied();
    if let Some(a) = acting
        && (changes(request.method()) || request.path().starts_with("/api/v1/export/"))
        && let Some(state) = request.app_data::<web::Data<AppState>>()
    {
        let action = format!("{} {}", request.method(), request.path());
        let status = res.status().as_u16();
        if let Err(e) =
            repo::record(&state.db, a.household, a.actor, a.person, action, status).await
        {
            // The change is made; its audit line is not. Logged, never silently.
            tracing::error!(error = %e, household = %a.household, "caregiver action not audited");
        }
    }
    Ok(res)
}
