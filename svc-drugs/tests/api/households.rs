//! Households and caregivers: dependents' cabinets looked after by the roles that allow it,
//! invitations used once before they expire, removal taking effect at once, the audit, and
//! unmarked doses sent to caregivers.

use chrono::{Duration, Utc};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shared::contracts::DoseEscalation;
use shared::entities::{
    caregiver_action, dose_log, drug, household_invitation, household_member, medication_plan,
};
use uuid::Uuid;

use crate::helpers::*;

const PERSON: &str = "x-person-id";

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// Refused with this status and code.
async fn expect_refusal(res: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(assert_envelope(res, status).await, code);
}

/// `method path` as `who`, without a body.
async fn call(app: &TestApp, method: &str, who: Uuid, path: &str) -> reqwest::Response {
    match method {
        "get" => app.get(who, path),
        _ => app.delete(who, path),
    }
    .send()
    .await
    .unwrap()
}

/// `method path` as `who`, acting for `person` (`X-Person-Id`).
async fn send_for(
    app: &TestApp,
    method: &str,
    who: Uuid,
    person: Uuid,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let req = match method {
        "get" => app.get(who, path),
        "post" => app.post(who, path),
        "put" => app.put(who, path),
        _ => app.delete(who, path),
    };
    let req = req.header(PERSON, person.to_string());
    match body {
        Some(b) => req.json(b),
        None => req,
    }
    .send()
    .await
    .unwrap()
}

async fn household(app: &TestApp, owner: Uuid, name: &str) -> Uuid {
    let h = created(
        app.post(owner, "/api/v1/households")
            .json(&json!({"name": name, "your_name": "妈妈"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(h["your_role"], "owner");
    h["id"].as_str().unwrap().parse().unwrap()
}

async fn dependent(app: &TestApp, owner: Uuid, h: Uuid, name: &str) -> Uuid {
    let m = created(
        app.post(owner, &format!("/api/v1/households/{h}/dependents"))
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(m["role"], "dependent");
    assert_eq!(m["has_login"], false);
    m["person_id"].as_str().unwrap().parse().unwrap()
}

async fn invite(app: &TestApp, owner: Uuid, h: Uuid, role: &str) -> String {
    let inv = created(
        app.post(owner, &format!("/api/v1/households/{h}/invitations"))
            .json(&json!({"role": role}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    inv["code"].as_str().unwrap().to_owned()
}

async fn join(app: &TestApp, who: Uuid, code: &str) -> reqwest::Response {
    app.post(who, "/api/v1/households/join")
        .json(&json!({"code": code, "name": "家人"}))
        .send()
        .await
        .unwrap()
}

/// Invite `who` with `role` and have them join.
async fn add_member(app: &TestApp, owner: Uuid, h: Uuid, who: Uuid, role: &str) {
    let code = invite(app, owner, h, role).await;
    let joined = created(join(app, who, &code).await).await;
    assert_eq!(joined["your_role"], role);
}

async fn drug_name(app: &TestApp, id: Uuid) -> String {
    drug::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .name
}

#[tokio::test]
async fn caregivers_look_after_a_dependent_as_their_role_allows_and_actions_are_audited() {
    let app = spawn_app().await;
    let owner = app.user("Asia/Shanghai").await;
    let helper = app.user("Asia/Shanghai").await;
    let watcher = app.user("Asia/Shanghai").await;
    let stranger = app.user("Asia/Shanghai").await;
    let h = household(&app, owner, "我们家").await;
    let grandma = dependent(&app, owner, h, "奶奶").await;
    add_member(&app, owner, h, helper, "caregiver_act").await;
    add_member(&app, owner, h, watcher, "caregiver_view").await;

    // The owner fills grandma's cabinet: her drug, not the owner's.
    let warfarin = created(
        send_for(
            &app,
            "post",
            owner,
            grandma,
            "/api/v1/drugs",
            Some(&json!({"name": "华法林钠片"})),
        )
        .await,
    )
    .await;
    let owners_own: Value = app.get_as(owner, "/api/v1/drugs").await;
    assert_eq!(owners_own["total"], 0, "{owners_own}");
    // Her checks: the NSAID the helper adds meets her warfarin.
    let added = created(
        send_for(
            &app,
            "post",
            helper,
            grandma,
            "/api/v1/drugs",
            Some(&json!({"name": "布洛芬缓释胶囊"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        added["checks"]["interactions"][0]["severity"], "major",
        "{added}"
    );
    let start = Utc::now().date_naive() - Duration::days(1);
    let plan = created(
        send_for(
            &app,
            "post",
            helper,
            grandma,
            "/api/v1/medications",
            Some(&json!({
                "drug_id": warfarin["id"], "dose": {"amount": 1, "unit": "片"},
                "schedule": {"times": ["08:00"], "start_date": start, "timezone": "UTC"},
                "escalate_after_minutes": 45
            })),
        )
        .await,
    )
    .await;
    assert_eq!(plan["escalate_after_minutes"], 45);
    let plan_id = plan["id"].as_str().unwrap();
    let dose_id = format!(
        "{plan_id}_{}",
        start.and_hms_opt(8, 0, 0).unwrap().and_utc().timestamp()
    );

    // The view-only caregiver sees her cabinet and doses, and may not change them.
    let seen = send_for(&app, "get", watcher, grandma, "/api/v1/drugs", None).await;
    assert_eq!(seen.status(), StatusCode::OK);
    let seen: Value = seen.json().await.unwrap();
    assert_eq!(seen["total"], 2, "{seen}");
    let refused = send_for(
        &app,
        "post",
        watcher,
        grandma,
        &format!("/api/v1/doses/{dose_id}/taken"),
        None,
    )
    .await;
    expect_refusal(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let logs = dose_log::Entity::find()
        .filter(dose_log::Column::UserId.eq(grandma))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(logs, 0);

    // The caregiver who can act marks the dose; it is grandma's, and the audit says who.
    let taken = send_for(
        &app,
        "post",
        helper,
        grandma,
        &format!("/api/v1/doses/{dose_id}/taken"),
        None,
    )
    .await;
    assert_eq!(
        taken.status(),
        StatusCode::OK,
        "{}",
        taken.text().await.unwrap()
    );
    let log = dose_log::Entity::find()
        .filter(dose_log::Column::UserId.eq(grandma))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the dose is grandma's");
    assert_eq!(log.plan_id.to_string(), plan_id);

    // A stranger, and a caregiver without the header, find nothing of hers.
    for (who, header, expected) in [
        (stranger, true, "person_not_found"),
        (helper, false, "drug_not_found"),
    ] {
        let mut req = app.get(
            who,
            &format!("/api/v1/drugs/{}", warfarin["id"].as_str().unwrap()),
        );
        if header {
            req = req.header(PERSON, grandma.to_string());
        }
        let res = req.send().await.unwrap();
        expect_refusal(res, StatusCode::NOT_FOUND, expected).await;
    }
    let bad = app
        .get(owner, "/api/v1/drugs")
        .header(PERSON, "奶奶")
        .send()
        .await
        .unwrap();
    expect_refusal(bad, StatusCode::BAD_REQUEST, "validation_error").await;

    // The audit: the owner's and helper's changes for grandma, the watcher's refusal; reads
    // are not listed.
    let audit: Vec<Value> = app
        .get_as(owner, &format!("/api/v1/households/{h}/audit"))
        .await;
    let lines: Vec<(String, String, i64)> = audit
        .iter()
        .filter(|a| a["person_id"] == grandma.to_string())
        .map(|a| {
            (
                a["actor_id"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
                a["status"].as_i64().unwrap(),
            )
        })
        .collect();
    let took = format!("POST /api/v1/doses/{dose_id}/taken");
    assert!(
        lines.contains(&(helper.to_string(), took.clone(), 200)),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(watcher.to_string(), took, 403)),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(owner.to_string(), "POST /api/v1/drugs".into(), 201)),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(owner.to_string(), "dependent_added".into(), 201)),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|(_, a, _)| !a.starts_with("GET")),
        "{lines:?}"
    );
    // The FHIR export of her records is listed too.
    let fhir = send_for(&app, "get", watcher, grandma, "/api/v1/export/fhir", None).await;
    assert_eq!(fhir.status(), StatusCode::OK);
    let exports = caregiver_action::Entity::find()
        .filter(caregiver_action::Column::ActorId.eq(watcher))
        .filter(caregiver_action::Column::Action.eq("GET /api/v1/export/fhir"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(exports, 1);
    // Her report says whom it is about.
    let report = send_for(&app, "get", watcher, grandma, "/api/v1/export/report", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(report.contains("<h1>用药报告 · 奶奶</h1>"), "{report}");
    assert!(report.contains("华法林钠片"));
    // Another household's audit is not theirs to read.
    let other = household(&app, stranger, "别人家").await;
    let res = call(
        &app,
        "get",
        owner,
        &format!("/api/v1/households/{other}/audit"),
    )
    .await;
    expect_refusal(res, StatusCode::NOT_FOUND, "household_not_found").await;
}

#[tokio::test]
async fn an_invitation_is_used_once_before_it_expires_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    let owner = app.user("UTC").await;
    let (a, b, c) = (
        app.user("UTC").await,
        app.user("UTC").await,
        app.user("UTC").await,
    );
    let h = household(&app, owner, "家").await;
    let members = || async {
        household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.eq(h))
            .count(&app.db)
            .await
            .unwrap()
    };

    // Typed in lower case with spaces, it still reads; a second use is refused.
    let code = invite(&app, owner, h, "caregiver_view").await;
    assert_eq!(code.len(), 11, "{code}");
    let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
    assert_eq!(join(&app, a, &typed).await.status(), StatusCode::OK);
    assert_eq!(members().await, 2);
    let again = join(&app, b, &code).await;
    expect_refusal(again, StatusCode::CONFLICT, "invitation_used").await;
    assert_eq!(members().await, 2);

    // Two people racing for one code: exactly one gets in.
    let code = invite(&app, owner, h, "caregiver_act").await;
    let (first, second) = tokio::join!(join(&app, b, &code), join(&app, c, &code));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    assert_eq!(members().await, 3);

    // Expired: refused, nothing written.
    let code = invite(&app, owner, h, "dependent").await;
    household_invitation::Entity::update_many()
        .col_expr(
            household_invitation::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(household_invitation::Column::UsedAt.is_null())
        .exec(&app.db)
        .await
        .unwrap();
    let late = app.user("UTC").await;
    let res = join(&app, late, &code).await;
    expect_refusal(res, StatusCode::GONE, "invitation_expired").await;
    assert_eq!(members().await, 3);

    // Unknown and malformed codes, bad roles and lifetimes, someone already in.
    for bad in ["ZZZZZ-ZZZZZ", "abc", ""] {
        let res = join(&app, late, bad).await;
        expect_refusal(res, StatusCode::NOT_FOUND, "invitation_not_found").await;
    }
    let code = invite(&app, owner, h, "caregiver_view").await;
    let res = join(&app, a, &code).await;
    expect_refusal(res, StatusCode::CONFLICT, "already_member").await;
    for body in [
        json!({"role": "owner"}),
        json!({"role": "admin"}),
        json!({"role": "dependent", "expires_in_minutes": 5}),
        json!({"role": "dependent", "expires_in_minutes": 20000}),
    ] {
        let res = app
            .post(owner, &format!("/api/v1/households/{h}/invitations"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // Only the owner invites.
    let res = app
        .post(a, &format!("/api/v1/households/{h}/invitations"))
        .json(&json!({"role": "caregiver_act"}))
        .send()
        .await
        .unwrap();
    expect_refusal(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(members().await, 3);
}

#[tokio::test]
async fn leaving_or_being_removed_ends_access_at_once() {
    let app = spawn_app().await;
    let owner = app.user("UTC").await;
    let (a, b) = (app.user("UTC").await, app.user("UTC").await);
    let h = household(&app, owner, "家").await;
    let kid = dependent(&app, owner, h, "小明").await;
    add_member(&app, owner, h, a, "caregiver_act").await;
    add_member(&app, owner, h, b, "caregiver_view").await;
    let sees = |who: Uuid| {
        let req = app
            .get(who, "/api/v1/drugs")
            .header(PERSON, kid.to_string());
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(sees(a).await, StatusCode::OK);
    assert_eq!(sees(b).await, StatusCode::OK);

    // Removed by the owner: the very next request is refused.
    let res = call(
        &app,
        "delete",
        owner,
        &format!("/api/v1/households/{h}/members/{a}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(sees(a).await, StatusCode::NOT_FOUND);
    // Leaving.
    let res = call(
        &app,
        "delete",
        b,
        &format!("/api/v1/households/{h}/members/{b}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(sees(b).await, StatusCode::NOT_FOUND);
    let gone = call(&app, "get", b, &format!("/api/v1/households/{h}")).await;
    expect_refusal(gone, StatusCode::NOT_FOUND, "household_not_found").await;

    // The owner stays until they hand the household over.
    let res = call(
        &app,
        "delete",
        owner,
        &format!("/api/v1/households/{h}/members/{owner}"),
    )
    .await;
    expect_refusal(res, StatusCode::CONFLICT, "owner_must_stay").await;

    // A dependent without a login who still has records is not dropped (nobody could reach
    // them); without records they can be.
    send_for(
        &app,
        "post",
        owner,
        kid,
        "/api/v1/drugs",
        Some(&json!({"name": "小儿布洛芬混悬液"})),
    )
    .await;
    let res = call(
        &app,
        "delete",
        owner,
        &format!("/api/v1/households/{h}/members/{kid}"),
    )
    .await;
    expect_refusal(res, StatusCode::CONFLICT, "dependent_has_records").await;
    let res = call(&app, "delete", owner, &format!("/api/v1/households/{h}")).await;
    expect_refusal(res, StatusCode::CONFLICT, "dependent_has_records").await;
    let drugs: Value = send_for(&app, "get", owner, kid, "/api/v1/drugs", None)
        .await
        .json()
        .await
        .unwrap();
    let id = drugs["items"][0]["id"].as_str().unwrap().to_owned();
    send_for(
        &app,
        "delete",
        owner,
        kid,
        &format!("/api/v1/drugs/{id}"),
        None,
    )
    .await;
    let res = call(&app, "delete", owner, &format!("/api/v1/households/{h}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(sees(owner).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_owner_hands_the_household_over() {
    let app = spawn_app().await;
    let owner = app.user("America/New_York").await;
    let a = app.user("UTC").await;
    let h = household(&app, owner, "家").await;
    let kid = dependent(&app, owner, h, "小明").await;
    add_member(&app, owner, h, a, "caregiver_view").await;
    // A dependent without a login cannot become a caregiver.
    let res = app
        .put(owner, &format!("/api/v1/households/{h}/members/{kid}"))
        .json(&json!({"role": "caregiver_act"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Nor is a member with an account made a dependent by someone else.
    let res = app
        .put(owner, &format!("/api/v1/households/{h}/members/{a}"))
        .json(&json!({"role": "dependent"}))
        .send()
        .await
        .unwrap();
    expect_refusal(res, StatusCode::BAD_REQUEST, "validation_error").await;
    // A dependent without an account lives by the owner's zone.
    let drug = created(
        send_for(
            &app,
            "post",
            owner,
            kid,
            "/api/v1/drugs",
            Some(&json!({"name": "维生素D滴剂"})),
        )
        .await,
    )
    .await;
    let plan = created(
        send_for(
            &app,
            "post",
            owner,
            kid,
            "/api/v1/medications",
            Some(
                &json!({"drug_id": drug["id"], "dose": {"amount": 1, "unit": "滴"},
                "schedule": {"times": ["08:00"], "start_date": "2026-12-01"}}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(plan["schedule"]["timezone"], "America/New_York", "{plan}");
    let res = app
        .put(owner, &format!("/api/v1/households/{h}/members/{a}"))
        .json(&json!({"role": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let view: Value = app.get_as(owner, &format!("/api/v1/households/{h}")).await;
    assert_eq!(view["your_role"], "caregiver_act", "{view}");
    let view: Value = app.get_as(a, &format!("/api/v1/households/{h}")).await;
    assert_eq!(view["your_role"], "owner", "{view}");
    // The former owner may leave now.
    let res = call(
        &app,
        "delete",
        owner,
        &format!("/api/v1/households/{h}/members/{owner}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_dependents_unmarked_dose_goes_to_their_caregivers_after_the_plans_minutes() {
    let app = spawn_app().await;
    let owner = app.user("UTC").await;
    let helper = app.user("UTC").await;
    let h = household(&app, owner, "家").await;
    let grandpa = dependent(&app, owner, h, "爷爷").await;
    add_member(&app, owner, h, helper, "caregiver_act").await;
    let drug = created(
        send_for(
            &app,
            "post",
            owner,
            grandpa,
            "/api/v1/drugs",
            Some(&json!({"name": "氨氯地平片"})),
        )
        .await,
    )
    .await;
    // A dose 40 minutes ago: its 30-minute escalation fell 10 minutes ago; a 240-minute one
    // has not come yet.
    let dose_at = Utc::now() - Duration::minutes(40);
    let plan = |after: u32| {
        json!({
            "drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"},
            "schedule": {"times": [dose_at.format("%H:%M").to_string()],
                         "start_date": dose_at.date_naive() - Duration::days(1), "timezone": "UTC"},
            "escalate_after_minutes": after
        })
    };
    let soon = created(
        send_for(
            &app,
            "post",
            owner,
            grandpa,
            "/api/v1/medications",
            Some(&plan(30)),
        )
        .await,
    )
    .await;
    created(
        send_for(
            &app,
            "post",
            owner,
            grandpa,
            "/api/v1/medications",
            Some(&plan(240)),
        )
        .await,
    )
    .await;
    let window = |now: chrono::DateTime<Utc>| {
        format!(
            "/internal/doses/escalations?from={}&to={}",
            (now - Duration::minutes(15)).format("%Y-%m-%dT%H:%M:%SZ"),
            (now + Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        )
    };
    // Made just now, after that dose's time: that dose is history, nobody is told.
    let due: Vec<DoseEscalation> = app.get_as(owner, &window(Utc::now())).await;
    assert!(due.is_empty(), "{due:?}");
    // Made yesterday: the 30-minute plan's dose is told, the 240-minute one's not yet.
    medication_plan::Entity::update_many()
        .col_expr(
            medication_plan::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(1)),
        )
        .filter(medication_plan::Column::UserId.eq(grandpa))
        .exec(&app.db)
        .await
        .unwrap();
    let due: Vec<DoseEscalation> = app.get_as(owner, &window(Utc::now())).await;
    assert_eq!(due.len(), 1, "{due:?}");
    let e = &due[0];
    assert_eq!(e.person_id, grandpa);
    assert_eq!(e.person_name, "爷爷");
    assert_eq!(e.after_minutes, 30);
    assert_eq!(e.dose.plan_id.to_string(), soon["id"].as_str().unwrap());
    let mut caregivers = e.caregivers.clone();
    caregivers.sort();
    let mut expected = vec![owner, helper];
    expected.sort();
    assert_eq!(caregivers, expected);

    // Snoozed: counted again from the end of the snooze.
    let dose_path = |action: &str| format!("/api/v1/doses/{}/{action}", e.dose.id);
    let res = send_for(&app, "post", helper, grandpa, &dose_path("snooze"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let due: Vec<DoseEscalation> = app.get_as(owner, &window(Utc::now())).await;
    assert!(due.is_empty(), "snoozed ten minutes: {due:?}");
    dose_log::Entity::update_many()
        .col_expr(
            dose_log::Column::SnoozedUntil,
            Expr::value(Utc::now() - Duration::minutes(35)),
        )
        .filter(dose_log::Column::UserId.eq(grandpa))
        .exec(&app.db)
        .await
        .unwrap();
    let due: Vec<DoseEscalation> = app.get_as(owner, &window(Utc::now())).await;
    assert_eq!(due.len(), 1, "30 minutes after the snooze ended: {due:?}");

    // Marked: nobody is told.
    let res = send_for(&app, "post", helper, grandpa, &dose_path("taken"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let due: Vec<DoseEscalation> = app.get_as(owner, &window(Utc::now())).await;
    assert!(due.is_empty(), "{due:?}");

    // Out of range.
    for after in [4, 241] {
        let res = send_for(
            &app,
            "post",
            owner,
            grandpa,
            "/api/v1/medications",
            Some(&plan(after)),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{after}");
    }
}

/// One household of a random world: its owner (an account index), members (account index,
/// index into [`ROLES`]), and how many dependents without a login.
type HouseholdPlan = (usize, Vec<(usize, usize)>, usize);

/// A random household world: accounts, households with an owner each, members with roles,
/// dependents without a login.
#[derive(Debug, Clone)]
struct World {
    accounts: usize,
    households: Vec<HouseholdPlan>,
}

const ROLES: [&str; 3] = ["caregiver_view", "caregiver_act", "dependent"];

fn worlds() -> impl Strategy<Value = World> {
    (2usize..5).prop_flat_map(|accounts| {
        let household = (
            0..accounts,
            proptest::collection::vec((0..accounts, 0usize..3), 0..4),
            0usize..3,
        );
        proptest::collection::vec(household, 1..3).prop_map(move |households| World {
            accounts,
            households,
        })
    })
}

/// What `actor` may do with `person`'s cabinet: see, change.
fn allowed(roles: &[(Uuid, Uuid, &str)], actor: Uuid, person: Uuid) -> (bool, bool) {
    if actor == person {
        return (true, true);
    }
    let mut see = false;
    let mut act = false;
    for (h, p, role) in roles {
        if *p == person && *role == "dependent" {
            for (h2, p2, r2) in roles {
                if h2 == h && *p2 == actor {
                    see |= *r2 != "dependent";
                    act |= *r2 == "owner" || *r2 == "caregiver_act";
                }
            }
        }
    }
    (see, act)
}

/// Over random households and roles, nobody reads or changes a cabinet their roles do not
/// reach: 404 for people they do not look after, 403 for a view-only caregiver's change,
/// and the drug row unchanged whenever refused.
#[tokio::test]
async fn no_read_or_write_crosses_a_household_boundary() {
    let app = spawn_app().await;
    let mut runner = TestRunner::deterministic();
    // How many (actor, other person) pairs were seen, acted on, only seen, refused: each kind
    // must come up, or the test proves nothing.
    let mut kinds = [0usize; 4];
    for case in 0..12 {
        let world = worlds().new_tree(&mut runner).unwrap().current();
        let accounts: Vec<Uuid> =
            futures_util::future::join_all((0..world.accounts).map(|_| app.user("UTC"))).await;
        // (household, person, role) as built through the API.
        let mut roles: Vec<(Uuid, Uuid, &str)> = Vec::new();
        let mut persons: Vec<Uuid> = accounts.clone();
        let mut adders: Vec<Uuid> = accounts.clone();
        for (owner, members, dependents) in &world.households {
            let owner = accounts[*owner];
            let h = household(&app, owner, "家").await;
            roles.push((h, owner, "owner"));
            for (member, role) in members {
                let who = accounts[*member];
                if roles.iter().any(|(h2, p, _)| *h2 == h && *p == who) {
                    continue;
                }
                add_member(&app, owner, h, who, ROLES[*role]).await;
                roles.push((h, who, ROLES[*role]));
            }
            for _ in 0..*dependents {
                let d = dependent(&app, owner, h, "孩子").await;
                roles.push((h, d, "dependent"));
                persons.push(d);
                adders.push(owner);
            }
        }
        // Everyone's own drug, added by themselves, a dependent's by their household's owner.
        let mut drugs = Vec::new();
        for (person, adder) in persons.iter().zip(&adders) {
            let d = created(
                send_for(
                    &app,
                    "post",
                    *adder,
                    *person,
                    "/api/v1/drugs",
                    Some(&json!({"name": "维生素C片"})),
                )
                .await,
            )
            .await;
            drugs.push(d["id"].as_str().unwrap().parse::<Uuid>().unwrap());
        }
        for actor in &accounts {
            for (person, drug_id) in persons.iter().zip(&drugs) {
                let (see, act) = allowed(&roles, *actor, *person);
                if actor != person {
                    kinds[match (see, act) {
                        (_, true) => 1,
                        (true, false) => 2,
                        _ => 3,
                    }] += 1;
                    kinds[0] += 1;
                }
                let ctx = format!("case {case} {world:?}: actor {actor} person {person}");
                let read = send_for(
                    &app,
                    "get",
                    *actor,
                    *person,
                    &format!("/api/v1/drugs/{drug_id}"),
                    None,
                )
                .await
                .status();
                let list = send_for(&app, "get", *actor, *person, "/api/v1/drugs", None)
                    .await
                    .status();
                let expected = if see {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!((read, list), (expected, expected), "{ctx}");
                let before = drug_name(&app, *drug_id).await;
                let renamed = format!("改名{}", Uuid::new_v4().simple());
                let write = send_for(
                    &app,
                    "put",
                    *actor,
                    *person,
                    &format!("/api/v1/drugs/{drug_id}"),
                    Some(&json!({"name": renamed})),
                )
                .await
                .status();
                let expected = match (see, act) {
                    (_, true) => StatusCode::OK,
                    (true, false) => StatusCode::FORBIDDEN,
                    _ => StatusCode::NOT_FOUND,
                };
                assert_eq!(write, expected, "{ctx}");
                let after = drug_name(&app, *drug_id).await;
                assert_eq!(after == renamed, act, "{ctx}: {before} -> {after}");
                // Without the header a drug is only ever its owner's.
                let own = app
                    .get(*actor, &format!("/api/v1/drugs/{drug_id}"))
                    .send()
                    .await
                    .unwrap()
                    .status();
                let expected = if actor == person {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(own, expected, "{ctx}");
            }
        }
    }
    assert!(
        kinds[1..].iter().all(|&n| n > 0),
        "every kind of pair came up: {kinds:?}"
    );
    eprintln!("pairs checked (all, act, view only, refused): {kinds:?}");
}
