//! Routes of svc-drugs: the public cabinet API (reached through the gateway), the legacy
//! drug-serve routes, and internal routes for svc-scheduler and svc-chat. Each handler reads
//! its input, calls one feature function and answers; errors become the envelope through
//! `crate::error`. Handlers never call one another.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use bytes::Bytes;

pub mod doses;
pub mod drugs;
pub mod export;
pub mod households;
pub mod internal;
pub mod legacy;
pub mod medications;
pub mod recognize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(
                crate::household::audit_caregiver_actions,
            ))
            .configure(households::configure)
            .route("/drugs/recognize", web::post().to(recognize::recognize))
            .route(
                "/drugs/recognitions/{id}/retry",
                web::post().to(recognize::retry),
            )
            .route("/drugs/expiring", web::get().to(drugs::expiring))
            .route("/drugs/checks", web::get().to(drugs::checks))
            .route("/drugs/codes", web::post().to(drugs::scan))
            .route("/drugs", web::get().to(drugs::list))
            .route("/drugs", web::post().to(drugs::create))
            .route("/drugs/{id}", web::get().to(drugs::get))
            .route("/drugs/{id}", web::put().to(drugs::update))
            .route("/drugs/{id}", web::delete().to(drugs::delete))
            .route("/drugs/{id}/images/{image_id}", web::get().to(drugs::image))
            .route(
                "/medications/adherence",
                web::get().to(medications::adherence),
            )
            .route("/medications", web::get().to(medications::list))
            .route("/medications", web::post().to(medications::create))
            .route("/medications/{id}/take", web::post().to(medications::take))
            .route(
                "/medications/{id}/refills",
                web::post().to(medications::add_refill),
            )
            .route(
                "/medications/{id}/refills",
                web::get().to(medications::refills),
            )
            .route("/medications/{id}", web::get().to(medications::get))
            .route("/medications/{id}", web::put().to(medications::update))
            .route("/medications/{id}", web::delete().to(medications::delete))
            .route("/export/fhir", web::get().to(export::fhir))
            .route("/export/report", web::get().to(export::report))
            .route("/doses", web::get().to(doses::list))
            .route("/doses/{dose_id}/{action}", web::post().to(doses::act)),
    )
    .configure(legacy::configure)
    .configure(internal::configure);
}

/// A drug or plan just added, with what the safety checks found about its drug.
#[derive(serde::Serialize)]
struct Added<T: serde::Serialize> {
    #[serde(flatten)]
    item: T,
    checks: Option<crate::safety::Report>,
}

/// A stored photo: private to its owner, cacheable by their browser for a day.
fn jpeg(bytes: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(bytes)
}
