//! The public OpenAPI document: the gateway's own routes from their annotations, plus every
//! public route of the services behind it, from [`SERVICE_ROUTES`].
//!
//! A test compares this document with the route table, so a proxied prefix without
//! documentation fails the build's tests.

use utoipa::OpenApi;
use utoipa::openapi::Required;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, SecurityRequirement};

use crate::routes::{apple, auth, health, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "UniLife + Medicine cabinet API", description = "Public API served by the gateway. Errors use one envelope: {code, message, detail, request_id}."),
    paths(auth::register, auth::login, auth::refresh, auth::logout, apple::sign_in_with_apple, apple::providers, users::get_me, users::update_me, users::update_energy, health::get_health, health::get_health_compat),
    components(schemas(shared_schemas::ErrorEnvelope)),
    tags((name = "auth"), (name = "users"), (name = "health"), (name = "drugs"), (name = "medications"), (name = "households"), (name = "assistant"), (name = "notifications"), (name = "legacy"))
)]
struct GatewayDoc;

mod shared_schemas {
    /// Every error answer.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    pub struct ErrorEnvelope {
        pub code: String,
        pub message: String,
        pub detail: String,
        pub request_id: String,
    }
}

/// The resume protocol of streamed replies, as the chat routes describe it.
const STREAM_PROTOCOL: &str = "Streamed replies (`stream: true` or `Accept: text/event-stream`) are \
server-sent events, each with an `id`: the stream opens with an id alone (`<turn>:0`, nothing \
dispatched), every `delta` event (`{text}`) has `<turn>:<bytes of reply sent so far>`, and the \
last event, `done` (the whole answer) or `error` (the error envelope with its `status`), has \
`<turn>:end`. A comment (`: keep-alive`) goes after every 15 s of silence. The turn goes on and \
is stored if the client leaves. To take a cut stream up again, send `GET /api/v1/chat/resume` \
(or the same `POST /api/v1/chat` again) with the header `Last-Event-ID: <the last id received>` \
(or `?last_event_id=`): the answer streams what came after it, on any instance, nothing twice; \
400 for an id that is not one, 404 `turn_not_found` for an unknown turn or after a day, 204 \
after `<turn>:end`.";

/// (method, path, tag, summary, needs a bearer token) of every proxied public route.
pub const SERVICE_ROUTES: &[(&str, &str, &str, &str, bool)] = &[
    (
        "post",
        "/api/v1/drugs/recognize",
        "drugs",
        "Recognise a medicine box from one to five photos (multipart field `files`)",
        true,
    ),
    (
        "post",
        "/api/v1/drugs/recognitions/{id}/retry",
        "drugs",
        "Retry a recognition that failed at the model, with its kept photos",
        true,
    ),
    ("post", "/api/v1/drugs", "drugs", "Add a drug by hand", true),
    (
        "get",
        "/api/v1/drugs",
        "drugs",
        "List and search the cabinet (q, status, sort, limit, cursor)",
        true,
    ),
    (
        "get",
        "/api/v1/drugs/expiring",
        "drugs",
        "Drugs expiring within `days` (expired included)",
        true,
    ),
    (
        "get",
        "/api/v1/drugs/checks",
        "drugs",
        "Safety checks across the cabinet: interactions from the offline table, duplicate active ingredients (never \"safe\"); ?with=<name> checks a medicine not in the cabinet yet",
        true,
    ),
    (
        "post",
        "/api/v1/drugs/codes",
        "drugs",
        "What a scanned code says (GS1 DataMatrix, 药品追溯码, product barcode); `save` adds the drug from the catalogue, a box already there is answered as itself",
        true,
    ),
    ("get", "/api/v1/drugs/{id}", "drugs", "One drug", true),
    ("put", "/api/v1/drugs/{id}", "drugs", "Update a drug", true),
    (
        "delete",
        "/api/v1/drugs/{id}",
        "drugs",
        "Delete a drug",
        true,
    ),
    (
        "get",
        "/api/v1/drugs/{id}/images/{image_id}",
        "drugs",
        "A stored (normalised) image of the owner's drug",
        true,
    ),
    (
        "post",
        "/api/v1/medications",
        "medications",
        "Create a medication plan",
        true,
    ),
    (
        "get",
        "/api/v1/medications",
        "medications",
        "List medication plans",
        true,
    ),
    (
        "get",
        "/api/v1/medications/adherence",
        "medications",
        "Adherence over a range (from, to)",
        true,
    ),
    (
        "get",
        "/api/v1/export/fhir",
        "medications",
        "FHIR R4 Bundle (application/fhir+json): Patient, a MedicationStatement per plan, a MedicationAdministration per recorded dose in ?from=&to= (the last 30 days by default, at most 92)",
        true,
    ),
    (
        "get",
        "/api/v1/export/report",
        "medications",
        "Printable report for a doctor's visit (HTML): medicines, plans, adherence, missed doses, interaction checks; ?from=&to=&lang=zh|en",
        true,
    ),
    (
        "get",
        "/api/v1/households",
        "households",
        "Households the caller is in, with members and `your_role`",
        true,
    ),
    (
        "post",
        "/api/v1/households",
        "households",
        "Create a household {name, your_name?}; the caller is its owner",
        true,
    ),
    (
        "post",
        "/api/v1/households/join",
        "households",
        "Join with an invitation code {code, name?}: used once, before it expires (404 `invitation_not_found`, 409 `invitation_used`/`already_member`, 410 `invitation_expired`)",
        true,
    ),
    (
        "get",
        "/api/v1/households/{id}",
        "households",
        "A household the caller is in",
        true,
    ),
    (
        "put",
        "/api/v1/households/{id}",
        "households",
        "Rename (owner)",
        true,
    ),
    (
        "delete",
        "/api/v1/households/{id}",
        "households",
        "Delete (owner); 409 `dependent_has_records` while a dependent without a login has records",
        true,
    ),
    (
        "post",
        "/api/v1/households/{id}/dependents",
        "households",
        "Add a dependent without a login {name} (owner): a new person_id for `X-Person-Id`",
        true,
    ),
    (
        "post",
        "/api/v1/households/{id}/invitations",
        "households",
        "Invite {role: caregiver_view|caregiver_act|dependent, expires_in_minutes?} (owner): a one-time code",
        true,
    ),
    (
        "get",
        "/api/v1/households/{id}/audit",
        "households",
        "What was done for others in the household, newest first (?limit=&before=)",
        true,
    ),
    (
        "put",
        "/api/v1/households/{id}/members/{person_id}",
        "households",
        "Change a member's role {role} (owner); `owner` hands the household over",
        true,
    ),
    (
        "delete",
        "/api/v1/households/{id}/members/{person_id}",
        "households",
        "Remove a member (owner) or leave (yourself); access ends at once",
        true,
    ),
    (
        "post",
        "/api/v1/medications/{id}/take",
        "medications",
        "Take a dose of an as-needed plan now, within its minimum interval and maximum per 24 hours (409 `prn_limit_reached` otherwise; a warning one dose before the limit)",
        true,
    ),
    (
        "post",
        "/api/v1/medications/{id}/refills",
        "medications",
        "Log a refill (now or afterwards): the stock grows, the run-out and refill dates move",
        true,
    ),
    (
        "get",
        "/api/v1/medications/{id}/refills",
        "medications",
        "A plan's refills, latest first",
        true,
    ),
    (
        "get",
        "/api/v1/medications/{id}",
        "medications",
        "One plan",
        true,
    ),
    (
        "put",
        "/api/v1/medications/{id}",
        "medications",
        "Update a plan",
        true,
    ),
    (
        "delete",
        "/api/v1/medications/{id}",
        "medications",
        "Delete a plan",
        true,
    ),
    (
        "get",
        "/api/v1/doses",
        "medications",
        "Dose instances between from and to",
        true,
    ),
    (
        "post",
        "/api/v1/doses/{dose_id}/taken",
        "medications",
        "Mark a dose taken (idempotent)",
        true,
    ),
    (
        "post",
        "/api/v1/doses/{dose_id}/skipped",
        "medications",
        "Mark a dose skipped (idempotent)",
        true,
    ),
    (
        "post",
        "/api/v1/doses/{dose_id}/snooze",
        "medications",
        "Snooze a dose",
        true,
    ),
    (
        "post",
        "/api/v1/chat",
        "assistant",
        "Chat with the assistant (JSON, or SSE with stream:true; resumable with Last-Event-ID)",
        true,
    ),
    (
        "get",
        "/api/v1/memory",
        "assistant",
        "What the assistant remembers about you, with each fact's source (?include_history=)",
        true,
    ),
    (
        "post",
        "/api/v1/memory",
        "assistant",
        "Tell it a fact to remember {kind, content}",
        true,
    ),
    (
        "put",
        "/api/v1/memory/{id}",
        "assistant",
        "Edit a remembered fact {kind?, content?}",
        true,
    ),
    (
        "delete",
        "/api/v1/memory/{id}",
        "assistant",
        "Delete a remembered fact (its words redacted where kept)",
        true,
    ),
    (
        "post",
        "/api/v1/memory/forget",
        "assistant",
        "Forget words everywhere: facts, messages, diaries {words}",
        true,
    ),
    (
        "put",
        "/api/v1/users/me/ai-identity",
        "assistant",
        "Name the assistant {name, emoji?, vibe?}",
        true,
    ),
    (
        "get",
        "/api/v1/chat/resume",
        "assistant",
        "Take up a streamed reply where it stopped (Last-Event-ID)",
        true,
    ),
    (
        "post",
        "/api/v1/conversations",
        "assistant",
        "Create a conversation",
        true,
    ),
    (
        "get",
        "/api/v1/conversations",
        "assistant",
        "List conversations",
        true,
    ),
    (
        "get",
        "/api/v1/conversations/{id}",
        "assistant",
        "One conversation",
        true,
    ),
    (
        "delete",
        "/api/v1/conversations/{id}",
        "assistant",
        "Delete a conversation",
        true,
    ),
    (
        "put",
        "/api/v1/conversations/{id}/title",
        "assistant",
        "Rename a conversation (?title=)",
        true,
    ),
    (
        "get",
        "/api/v1/conversations/{id}/messages",
        "assistant",
        "Messages of a conversation",
        true,
    ),
    (
        "get",
        "/api/v1/events",
        "assistant",
        "List events: {instances, templates} (start_date, end_date, status, event_type, category, time_period, project_id, include_templates, expand_virtual, limit); routine and habit days as virtual instances (id virtual_<template>_<YYYYMMDD>)",
        true,
    ),
    (
        "post",
        "/api/v1/events",
        "assistant",
        "Create an event",
        true,
    ),
    (
        "get",
        "/api/v1/events/today",
        "assistant",
        "Today's events in the user's time zone",
        true,
    ),
    (
        "get",
        "/api/v1/events/conflicts",
        "assistant",
        "Events overlapping start_time..end_time",
        true,
    ),
    (
        "get",
        "/api/v1/events/{id}",
        "assistant",
        "One event, or a routine day by its virtual id",
        true,
    ),
    (
        "put",
        "/api/v1/events/{id}",
        "assistant",
        "Update an event",
        true,
    ),
    (
        "delete",
        "/api/v1/events/{id}",
        "assistant",
        "Delete an event or a routine day; delete_series=true|following|false for the series, this day on, or this day",
        true,
    ),
    (
        "post",
        "/api/v1/events/{id}/complete",
        "assistant",
        "Complete an event",
        true,
    ),
    (
        "post",
        "/api/v1/events/{id}/uncomplete",
        "assistant",
        "Mark a completed event pending again",
        true,
    ),
    (
        "post",
        "/api/v1/events/{id}/instances",
        "assistant",
        "The instance of a habit or routine template on target_date",
        true,
    ),
    (
        "get",
        "/api/v1/calendar/feed",
        "assistant",
        "Whether the user has a calendar subscription, when it was made and last read",
        true,
    ),
    (
        "post",
        "/api/v1/calendar/feed",
        "assistant",
        "A new calendar subscription address {alarm_minutes?} (shown once; replaces the old one)",
        true,
    ),
    (
        "delete",
        "/api/v1/calendar/feed",
        "assistant",
        "Revoke the calendar subscription address",
        true,
    ),
    (
        "get",
        "/ical/{token}.ics",
        "assistant",
        "The user's events as iCalendar (RFC 5545) for calendar apps; the address is the key, no token",
        false,
    ),
    (
        "get",
        "/api/v1/habits/{batch_id}",
        "assistant",
        "A habit's days: those made into instances and up to 20 coming ones",
        true,
    ),
    (
        "get",
        "/api/v1/habits/{batch_id}/stats",
        "assistant",
        "A habit's record: days due, done, completion rate, current and best streak",
        true,
    ),
    (
        "post",
        "/api/v1/habits/{batch_id}/confirm",
        "assistant",
        "Keep a habit {confirm: true} (replenished daily) or cancel its remaining days",
        true,
    ),
    (
        "get",
        "/api/v1/projects",
        "assistant",
        "The user's life projects with their task statistics (active_only, include_stats)",
        true,
    ),
    (
        "post",
        "/api/v1/projects",
        "assistant",
        "Create a life project {title, description?, type?, base_tier?, energy_type?, target_kpi?}",
        true,
    ),
    (
        "get",
        "/api/v1/projects/quests/overview",
        "assistant",
        "A day's tasks as MAIN, SIDE and DAILY quests (date=YYYY-MM-DD, the user's time zone)",
        true,
    ),
    (
        "get",
        "/api/v1/projects/{id}",
        "assistant",
        "One project with its task statistics",
        true,
    ),
    (
        "put",
        "/api/v1/projects/{id}",
        "assistant",
        "Update a project",
        true,
    ),
    (
        "delete",
        "/api/v1/projects/{id}",
        "assistant",
        "Archive a project (is_active false; its events stay)",
        true,
    ),
    (
        "post",
        "/api/v1/projects/{id}/mode",
        "assistant",
        "Switch a project to NORMAL or SPRINT (a warning when another project sprints)",
        true,
    ),
    (
        "post",
        "/api/v1/chat/feedback",
        "assistant",
        "Rate an assistant message {message_id, rating 1-5, comment?}",
        true,
    ),
    (
        "get",
        "/api/v1/sync",
        "assistant",
        "Changes to events since a cursor (since, limit), deletions included",
        true,
    ),
    (
        "get",
        "/api/v1/sync/status",
        "assistant",
        "Event count and the latest change",
        true,
    ),
    (
        "get",
        "/api/v1/snapshots",
        "assistant",
        "Snapshots of chat turns that changed events",
        true,
    ),
    (
        "post",
        "/api/v1/snapshots/{id}/revert",
        "assistant",
        "Restore events to a snapshot",
        true,
    ),
    (
        "post",
        "/api/v1/snapshots/undo",
        "assistant",
        "Undo the last change",
        true,
    ),
    (
        "get",
        "/api/v1/diaries",
        "assistant",
        "Recent diaries",
        true,
    ),
    (
        "post",
        "/api/v1/diaries/generate",
        "assistant",
        "Write the diary of a date",
        true,
    ),
    (
        "get",
        "/api/v1/diaries/profile/evolution",
        "assistant",
        "How the profile changed",
        true,
    ),
    (
        "post",
        "/api/v1/diaries/profile/analyze",
        "assistant",
        "Run a daily or weekly profile analysis",
        true,
    ),
    (
        "get",
        "/api/v1/diaries/{date}",
        "assistant",
        "The diary of a date",
        true,
    ),
    (
        "get",
        "/api/v1/users/me/profile",
        "assistant",
        "The user's profile",
        true,
    ),
    (
        "post",
        "/api/v1/chat/clear_context",
        "assistant",
        "Clear the assistant's context (messages stay in the history)",
        true,
    ),
    (
        "get",
        "/api/v1/messages/history",
        "assistant",
        "Messages of all conversations, newest first (before, limit)",
        true,
    ),
    (
        "get",
        "/api/v1/messages/history/dates",
        "assistant",
        "Dates with messages (YYYY-MM-DD, the user's time zone), newest first",
        true,
    ),
    (
        "get",
        "/api/v1/users/me/stats",
        "assistant",
        "Counts of the user's events by status, category and type; profile points",
        true,
    ),
    (
        "get",
        "/api/v1/users/me/onboarding-status",
        "assistant",
        "Whether the app should show onboarding ({needs_onboarding})",
        true,
    ),
    (
        "post",
        "/api/v1/users/me/onboarding-status/dismiss",
        "assistant",
        "Dismiss onboarding",
        true,
    ),
    (
        "get",
        "/api/v1/users/me/ai-identity",
        "assistant",
        "The assistant's name, emoji, creature and vibe for this user",
        true,
    ),
    (
        "get",
        "/api/v1/notifications",
        "notifications",
        "Inbox (unread=)",
        true,
    ),
    (
        "post",
        "/api/v1/notifications/{id}/read",
        "notifications",
        "Mark a notification read",
        true,
    ),
    (
        "post",
        "/api/v1/notifications/send",
        "notifications",
        "Send a notification to one's own devices now or at scheduled_for (NotificationPayload; notification_type, device_id, platform, priority in the query) -> NotificationRecord",
        true,
    ),
    (
        "post",
        "/api/v1/notifications/send/template/{name}",
        "notifications",
        "Send a built-in template with its variables (the body) -> NotificationRecord",
        true,
    ),
    (
        "post",
        "/api/v1/notifications/events/{event_id}/remind",
        "notifications",
        "Push an event's reminder now (minutes_before=) -> NotificationRecord",
        true,
    ),
    (
        "post",
        "/api/v1/notifications/events/{event_id}/starting",
        "notifications",
        "Push that an event is starting now -> NotificationRecord",
        true,
    ),
    (
        "get",
        "/api/v1/notifications/templates",
        "notifications",
        "The built-in notification templates",
        true,
    ),
    (
        "get",
        "/api/v1/notifications/history",
        "notifications",
        "What was sent, newest first, with delivery status (limit=1..200) -> [NotificationRecord]",
        true,
    ),
    (
        "post",
        "/api/v1/notifications/test",
        "notifications",
        "A test notification to all one's devices -> NotificationRecord",
        true,
    ),
    (
        "post",
        "/api/v1/devices",
        "notifications",
        "Register a phone for push ({platform, token, ...}) or add a channel ({url, channel?, name?}: https webhook, bark://, wecombot://, dingtalk://, feishu://, schan://, ntfy://; or a browser: {channel: webpush, subscription: PushSubscription.toJSON()}; a webhook's whsec_ secret is in the answer, once)",
        true,
    ),
    (
        "post",
        "/api/v1/devices/register",
        "notifications",
        "Register a phone for push, or refresh its registration ({platform, token, device_id, ...})",
        true,
    ),
    (
        "get",
        "/api/v1/devices",
        "notifications",
        "The user's phones as {devices, total} (channel=channels: every channel, keys hidden; channel=webhook, bark, ...: one kind)",
        true,
    ),
    (
        "get",
        "/api/v1/devices/{id}",
        "notifications",
        "One registered phone",
        true,
    ),
    (
        "put",
        "/api/v1/devices/{id}",
        "notifications",
        "Update a phone's name, is_active or metadata",
        true,
    ),
    (
        "delete",
        "/api/v1/devices/{id}",
        "notifications",
        "Remove a phone or a channel",
        true,
    ),
    (
        "get",
        "/api/v1/devices/webpush-key",
        "notifications",
        "The server's VAPID public key for a browser's pushManager.subscribe (404 when Web Push is off); add the subscription with POST /devices {channel: webpush, subscription}",
        true,
    ),
    (
        "post",
        "/api/v1/devices/{id}/test",
        "notifications",
        "Send a test message through the channel's service now: {ok, status_code, error, duration_ms}",
        true,
    ),
    (
        "post",
        "/api/v1/devices/{id}/rotate-secret",
        "notifications",
        "A new webhook secret (shown once); the old one keeps signing beside it for 24 hours",
        true,
    ),
    (
        "get",
        "/api/v1/devices/{id}/deliveries",
        "notifications",
        "The channel's delivery log, newest first (limit=1..100): each delivery's status and every try",
        true,
    ),
    (
        "get",
        "/api/v1/users/me/notification-settings",
        "notifications",
        "Routine times and notification switches",
        true,
    ),
    (
        "put",
        "/api/v1/users/me/notification-settings",
        "notifications",
        "Save routine times and notification switches (left-out fields take their defaults)",
        true,
    ),
    (
        "get",
        "/api/v1/jobs/runs",
        "notifications",
        "Recent job runs with counts",
        true,
    ),
    (
        "post",
        "/api/drugs/upload",
        "legacy",
        "drug-serve: upload images (when legacy routes are enabled)",
        false,
    ),
    (
        "post",
        "/api/drugs/analyze-batch",
        "legacy",
        "drug-serve: analyse uploaded images together",
        false,
    ),
    (
        "post",
        "/api/drugs/{image_id}/analyze",
        "legacy",
        "drug-serve: analyse one image",
        false,
    ),
    (
        "get",
        "/api/drugs",
        "legacy",
        "drug-serve: list drugs",
        false,
    ),
    (
        "get",
        "/api/drugs/expiring",
        "legacy",
        "drug-serve: drugs expiring within 30 days",
        false,
    ),
    (
        "get",
        "/api/drugs/search",
        "legacy",
        "drug-serve: search by name",
        false,
    ),
    (
        "put",
        "/api/drugs/{id}",
        "legacy",
        "drug-serve: update a drug",
        false,
    ),
    (
        "delete",
        "/api/drugs/{id}",
        "legacy",
        "drug-serve: delete a drug",
        false,
    ),
    (
        "get",
        "/uploads/{file}",
        "legacy",
        "drug-serve: a stored image",
        false,
    ),
];

fn method(name: &str) -> HttpMethod {
    match name {
        "post" => HttpMethod::Post,
        "put" => HttpMethod::Put,
        "delete" => HttpMethod::Delete,
        "patch" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

/// Build the whole document once at start; it is served from memory.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = GatewayDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    let error = ResponseBuilder::new()
        .description("Error envelope")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .build();
    for (m, path, tag, summary, secured) in SERVICE_ROUTES {
        let mut op = OperationBuilder::new()
            .tag(*tag)
            .summary(Some(*summary))
            .response("200", ResponseBuilder::new().description("Success").build())
            .response("default", error.clone());
        if *secured {
            op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        if matches!(*path, "/api/v1/chat" | "/api/v1/chat/resume") {
            op = op.description(Some(STREAM_PROTOCOL)).parameter(
                ParameterBuilder::new()
                    .name("Last-Event-ID")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The id of the last event received, to resume a stream (or ?last_event_id=)",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                    .build(),
            );
        }
        if [
            "/api/v1/drugs",
            "/api/v1/medications",
            "/api/v1/doses",
            "/api/v1/export",
        ]
        .iter()
        .any(|p| path.starts_with(p))
        {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("X-Person-Id")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Act for a dependent the caller looks after (their person_id): 404 `person_not_found` for anyone else, 403 for a view-only caregiver's change; audited",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                    .build(),
            );
        }
        let item = PathItem::new(method(m), op.build());
        match doc.paths.paths.get_mut(*path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                doc.paths.paths.insert((*path).to_owned(), item);
            }
        }
    }
    doc
}
