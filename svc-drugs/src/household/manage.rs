//! Making and changing households: members, dependents, invitations, roles, the audit.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use shared::entities::{household, household_invitation, household_member};
use uuid::Uuid;

use super::{HouseholdError, MAX_HOUSEHOLDS, MAX_MEMBERS, MAX_OPEN_INVITATIONS, Role, repo};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    pub name: String,
    /// How the others see you (default 创建者).
    pub your_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependentInput {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    pub role: Role,
    /// 10 minutes to 7 days; 3 days by default.
    pub expires_in_minutes: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinInput {
    pub code: String,
    /// How the others see you (default 家人).
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub role: Role,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub limit: Option<u64>,
    pub before: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct MemberView {
    person_id: Uuid,
    name: String,
    role: Role,
    has_login: bool,
    joined_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct HouseholdView {
    id: Uuid,
    name: String,
    your_role: Role,
    members: Vec<MemberView>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct InvitationView {
    household_id: Uuid,
    /// Ten letters and digits, shown as `ABCDE-FGHJK`; case, spaces and dashes do not matter.
    code: String,
    role: Role,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct AuditEntry {
    id: Uuid,
    actor_id: Uuid,
    person_id: Uuid,
    action: String,
    status: i32,
    at: DateTime<Utc>,
}

const DEFAULT_INVITATION: Duration = Duration::days(3);
/// Crockford's base32: no I, L, O or U to misread.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 10;

fn member_view(m: household_member::Model) -> MemberView {
    MemberView {
        person_id: m.person_id,
        role: Role::parse(&m.role).unwrap_or(Role::Dependent),
        name: m.name,
        has_login: m.has_login,
        joined_at: m.joined_at,
    }
}

/// A name of 1 to 40 characters without control characters, trimmed.
fn name(field: &str, value: Option<&str>, default: &str) -> Result<String, HouseholdError> {
    let Some(v) = value else {
        return Ok(default.to_owned());
    };
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 40 || v.chars().any(char::is_control) {
        return Err(HouseholdError::Invalid(format!(
            "{field} 应为 1 到 40 个字。{field} must be 1 to 40 characters."
        )));
    }
    Ok(v.to_owned())
}

fn role_of(m: &household_member::Model) -> Role {
    Role::parse(&m.role).unwrap_or(Role::Dependent)
}

/// The caller's row in the household; a household they are not in does not exist for them.
async fn my_membership(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
) -> Result<household_member::Model, HouseholdError> {
    repo::member(&state.db, id, caller)
        .await?
        .ok_or(HouseholdError::NotFound)
}

async fn as_owner(state: &AppState, caller: Uuid, id: Uuid) -> Result<(), HouseholdError> {
    match role_of(&my_membership(state, caller, id).await?) {
        Role::Owner => Ok(()),
        _ => Err(HouseholdError::NotOwner),
    }
}

async fn view(
    state: &AppState,
    h: household::Model,
    your_role: Role,
) -> Result<HouseholdView, HouseholdError> {
    let members = repo::members(&state.db, &[h.id]).await?;
    Ok(HouseholdView {
        id: h.id,
        name: h.name,
        your_role,
        members: members.into_iter().map(member_view).collect(),
        created_at: h.created_at,
    })
}

async fn check_room(state: &AppState, person: Uuid) -> Result<(), HouseholdError> {
    if repo::memberships(&state.db, person).await?.len() >= MAX_HOUSEHOLDS {
        return Err(HouseholdError::Limit(format!(
            "最多可以加入 {MAX_HOUSEHOLDS} 个家庭。At most {MAX_HOUSEHOLDS} households per person."
        )));
    }
    Ok(())
}

async fn check_size(state: &AppState, household: Uuid) -> Result<(), HouseholdError> {
    if repo::members(&state.db, &[household]).await?.len() >= MAX_MEMBERS {
        return Err(HouseholdError::Limit(format!(
            "一个家庭最多 {MAX_MEMBERS} 人。At most {MAX_MEMBERS} members per household."
        )));
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    caller: Uuid,
    input: HouseholdInput,
) -> Result<HouseholdView, HouseholdError> {
    let title = name("name", Some(&input.name), "")?;
    let me = name("your_name", input.your_name.as_deref(), "创建者")?;
    check_room(state, caller).await?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let txn = state.db.begin().await?;
    household::Entity::insert(household::ActiveModel {
        id: Set(id),
        name: Set(title),
        created_by: Set(caller),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    household_member::Entity::insert(repo::new_member(id, caller, Role::Owner, me, true, now))
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    let h = repo::household(&state.db, id)
        .await?
        .ok_or(HouseholdError::NotFound)?;
    view(state, h, Role::Owner).await
}

/// Every household the caller is in.
pub async fn list(state: &AppState, caller: Uuid) -> Result<Vec<HouseholdView>, HouseholdError> {
    let mine = repo::memberships(&state.db, caller).await?;
    let mut out = Vec::with_capacity(mine.len());
    for m in mine {
        if let Some(h) = repo::household(&state.db, m.household_id).await? {
            out.push(view(state, h, role_of(&m)).await?);
        }
    }
    out.sort_by_key(|h| h.created_at);
    Ok(out)
}

pub async fn get(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
) -> Result<HouseholdView, HouseholdError> {
    let me = my_membership(state, caller, id).await?;
    let h = repo::household(&state.db, id)
        .await?
        .ok_or(HouseholdError::NotFound)?;
    view(state, h, role_of(&me)).await
}

pub async fn rename(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    input: HouseholdInput,
) -> Result<HouseholdView, HouseholdError> {
    as_owner(state, caller, id).await?;
    let title = name("name", Some(&input.name), "")?;
    let txn = state.db.begin().await?;
    household::Entity::update(household::ActiveModel {
        id: Set(id),
        name: Set(title),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    if let Some(me) = input.your_name.as_deref() {
        let me = name("your_name", Some(me), "")?;
        household_member::Entity::update(household_member::ActiveModel {
            household_id: Set(id),
            person_id: Set(caller),
            name: Set(me),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    get(state, caller, id).await
}

/// Dependents without a login who still have records would be left unreachable.
async fn check_no_orphans(
    state: &AppState,
    members: &[household_member::Model],
) -> Result<(), HouseholdError> {
    for m in members.iter().filter(|m| !m.has_login) {
        if repo::has_records(&state.db, m.person_id).await? {
            return Err(HouseholdError::DependentHasRecords);
        }
    }
    Ok(())
}

pub async fn delete(state: &AppState, caller: Uuid, id: Uuid) -> Result<(), HouseholdError> {
    as_owner(state, caller, id).await?;
    check_no_orphans(state, &repo::members(&state.db, &[id]).await?).await?;
    let txn = state.db.begin().await?;
    repo::delete_household(&txn, id).await?;
    repo::record(&txn, id, caller, caller, "household_deleted".into(), 204).await?;
    txn.commit().await?;
    Ok(())
}

/// A dependent without a login (a child, an elderly parent): a new person id.
pub async fn add_dependent(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    input: DependentInput,
) -> Result<MemberView, HouseholdError> {
    as_owner(state, caller, id).await?;
    let who = name("name", Some(&input.name), "")?;
    check_size(state, id).await?;
    let person = Uuid::new_v4();
    let txn = state.db.begin().await?;
    household_member::Entity::insert(repo::new_member(
        id,
        person,
        Role::Dependent,
        who,
        false,
        Utc::now(),
    ))
    .exec_without_returning(&txn)
    .await?;
    repo::record(&txn, id, caller, person, "dependent_added".into(), 201).await?;
    txn.commit().await?;
    let m = repo::member(&state.db, id, person)
        .await?
        .ok_or(HouseholdError::PersonNotFound)?;
    Ok(member_view(m))
}

fn normalise_code(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == CODE_LEN && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// Keyed with the service's secret: a copy of the database alone does not give the codes
/// (50 bits would fall to a search within an invitation's life).
fn code_hash(secret: &[u8], code: &str) -> String {
    crate::state::keyed_hex(secret, "household-invitation", code)
}

fn new_code() -> String {
    let random = Uuid::new_v4().as_u128();
    (0..CODE_LEN)
        .map(|i| char::from(CODE_ALPHABET[((random >> (5 * i)) & 31) as usize]))
        .collect()
}

pub async fn invite(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    input: InviteInput,
) -> Result<InvitationView, HouseholdError> {
    as_owner(state, caller, id).await?;
    if input.role == Role::Owner {
        return Err(HouseholdError::Invalid(
            "邀请的角色应为 caregiver_view、caregiver_act 或 dependent；创建者可以之后转给成员。role must be caregiver_view, caregiver_act or dependent (make a member the owner afterwards)."
                .into(),
        ));
    }
    let lasts = match input.expires_in_minutes {
        None => DEFAULT_INVITATION,
        Some(m) if (10..=10_080).contains(&m) => Duration::minutes(i64::from(m)),
        Some(_) => {
            return Err(HouseholdError::Invalid(
                "邀请的有效期应为 10 到 10080 分钟（7 天）。expires_in_minutes must be 10 to 10080 (7 days)."
                    .into(),
            ));
        }
    };
    let now = Utc::now();
    if repo::open_invitations(&state.db, id, now).await? >= MAX_OPEN_INVITATIONS as u64 {
        return Err(HouseholdError::Limit(format!(
            "最多同时有 {MAX_OPEN_INVITATIONS} 个未使用的邀请。At most {MAX_OPEN_INVITATIONS} unused invitations at a time."
        )));
    }
    let code = new_code();
    let expires_at = now + lasts;
    let txn = state.db.begin().await?;
    household_invitation::Entity::insert(household_invitation::ActiveModel {
        code_hash: Set(code_hash(&state.quota_secret, &code)),
        household_id: Set(id),
        role: Set(input.role.as_str().to_owned()),
        created_by: Set(caller),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_by: Set(None),
        used_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    repo::record(
        &txn,
        id,
        caller,
        caller,
        format!("invitation_created:{}", input.role.as_str()),
        201,
    )
    .await?;
    txn.commit().await?;
    Ok(InvitationView {
        household_id: id,
        code: format!("{}-{}", &code[..5], &code[5..]),
        role: input.role,
        expires_at,
    })
}

/// Join with an invitation's code: used once, before it expires; nothing is written otherwise.
pub async fn join(
    state: &AppState,
    caller: Uuid,
    input: JoinInput,
) -> Result<HouseholdView, HouseholdError> {
    let who = name("name", input.name.as_deref(), "家人")?;
    let code = normalise_code(&input.code).ok_or(HouseholdError::InvitationNotFound)?;
    let hash = code_hash(&state.quota_secret, &code);
    let now = Utc::now();
    let inv = repo::invitation(&state.db, &hash)
        .await?
        .ok_or(HouseholdError::InvitationNotFound)?;
    let refused = |inv: &household_invitation::Model| {
        if inv.used_at.is_some() {
            HouseholdError::InvitationUsed
        } else {
            HouseholdError::InvitationExpired
        }
    };
    if inv.used_at.is_some() || inv.expires_at <= now {
        return Err(refused(&inv));
    }
    if repo::member(&state.db, inv.household_id, caller)
        .await?
        .is_some()
    {
        return Err(HouseholdError::AlreadyMember);
    }
    check_room(state, caller).await?;
    check_size(state, inv.household_id).await?;
    let role = Role::parse(&inv.role).unwrap_or(Role::CaregiverView);
    let txn = state.db.begin().await?;
    if !repo::use_invitation(&txn, &hash, caller, now).await? {
        drop(txn);
        let again = repo::invitation(&state.db, &hash)
            .await?
            .ok_or(HouseholdError::InvitationNotFound)?;
        return Err(refused(&again));
    }
    let joined = household_member::Entity::insert(repo::new_member(
        inv.household_id,
        caller,
        role,
        who,
        true,
        now,
    ))
    .exec_without_returning(&txn)
    .await;
    if let Err(e) = joined {
        // Joined a moment ago with another code of the same household.
        return Err(match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => HouseholdError::AlreadyMember,
            _ => e.into(),
        });
    }
    repo::record(
        &txn,
        inv.household_id,
        caller,
        caller,
        format!("member_joined:{}", role.as_str()),
        201,
    )
    .await?;
    txn.commit().await?;
    get(state, caller, inv.household_id).await
}

/// The owner changes a member's role; `owner` hands the household over (the old owner
/// becomes a caregiver who can act). Nobody with an account is made a dependent by someone
/// else: that is theirs to accept, by joining with a `dependent` invitation.
pub async fn set_role(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    person: Uuid,
    input: RoleInput,
) -> Result<MemberView, HouseholdError> {
    as_owner(state, caller, id).await?;
    let target = repo::member(&state.db, id, person)
        .await?
        .ok_or(HouseholdError::PersonNotFound)?;
    if person == caller {
        if input.role != Role::Owner {
            return Err(HouseholdError::OwnerMustStay);
        }
        return Ok(member_view(target));
    }
    match (target.has_login, input.role) {
        (false, Role::Dependent)
        | (true, Role::Owner | Role::CaregiverAct | Role::CaregiverView) => {}
        (false, _) => {
            return Err(HouseholdError::Invalid(
                "没有账号的家人只能是被照顾的人（dependent）。A dependent without a login can only be a dependent."
                    .into(),
            ));
        }
        (true, Role::Dependent) => {
            return Err(HouseholdError::Invalid(
                "有账号的成员只能自己选择被照顾：请发一个 dependent 邀请让对方加入。A member with an account becomes a dependent only by joining with a dependent invitation themselves."
                    .into(),
            ));
        }
    }
    let txn = state.db.begin().await?;
    // Both conditional: a concurrent handover or leave finds the rows changed and this one
    // is rolled back, so the household never has two owners or none.
    if input.role == Role::Owner
        && !repo::set_role(&txn, id, caller, Some(Role::Owner), Role::CaregiverAct).await?
    {
        return Err(HouseholdError::NotOwner);
    }
    if !repo::set_role(&txn, id, person, None, input.role).await? {
        return Err(HouseholdError::PersonNotFound);
    }
    repo::record(
        &txn,
        id,
        caller,
        person,
        format!("role_changed:{}", input.role.as_str()),
        200,
    )
    .await?;
    txn.commit().await?;
    let m = repo::member(&state.db, id, person)
        .await?
        .ok_or(HouseholdError::PersonNotFound)?;
    Ok(member_view(m))
}

/// The owner removes a member, or a member leaves. Access ends with this call.
pub async fn remove_member(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    person: Uuid,
) -> Result<(), HouseholdError> {
    let me = my_membership(state, caller, id).await?;
    let leaving = person == caller;
    if !leaving && role_of(&me) != Role::Owner {
        return Err(HouseholdError::NotOwner);
    }
    if leaving && role_of(&me) == Role::Owner {
        return Err(HouseholdError::OwnerMustStay);
    }
    let target = repo::member(&state.db, id, person)
        .await?
        .ok_or(HouseholdError::PersonNotFound)?;
    check_no_orphans(state, std::slice::from_ref(&target)).await?;
    let txn = state.db.begin().await?;
    // Not if they became the owner meanwhile (a handover to someone leaving).
    if !repo::remove_member(&txn, id, person).await? {
        return Err(HouseholdError::OwnerMustStay);
    }
    let action = if leaving {
        "member_left"
    } else {
        "member_removed"
    };
    repo::record(&txn, id, caller, person, action.into(), 204).await?;
    txn.commit().await?;
    Ok(())
}

/// What was done in the household, newest first: everything for the owner and caregivers,
/// what concerns themselves for a dependent.
pub async fn audit(
    state: &AppState,
    caller: Uuid,
    id: Uuid,
    query: AuditQuery,
) -> Result<Vec<AuditEntry>, HouseholdError> {
    let me = my_membership(state, caller, id).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(HouseholdError::Invalid(
            "limit 应为 1 到 200。limit must be 1 to 200.".into(),
        ));
    }
    let only = (!role_of(&me).can_view()).then_some(caller);
    let rows = repo::actions(&state.db, id, only, query.before, limit).await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            actor_id: r.actor_id,
            person_id: r.person_id,
            action: r.action,
            status: r.status,
            at: r.at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_however_they_are_typed() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LEN);
        let shown = format!("{}-{}", &code[..5], &code[5..]);
        assert_eq!(normalise_code(&shown).as_deref(), Some(code.as_str()));
        assert_eq!(
            normalise_code(&format!(" {} ", shown.to_lowercase())).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalise_code("ABCDE-FGHJ"), None);
        assert_eq!(normalise_code("ABCDE-FGHIL"), None);
        assert_ne!(new_code(), new_code());
    }
}
