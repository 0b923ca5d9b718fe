//! The household tables: who is in which household with which role, invitations, the audit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use shared::entities::{
    caregiver_action, drug, household, household_invitation, household_member, medication_plan,
};
use uuid::Uuid;

use super::Role;

pub async fn household<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<household::Model>, DbErr> {
    household::Entity::find_by_id(id).one(db).await
}

/// The person's rows in every household they are in.
pub async fn memberships<C: ConnectionTrait>(
    db: &C,
    person: Uuid,
) -> Result<Vec<household_member::Model>, DbErr> {
    household_member::Entity::find()
        .filter(household_member::Column::PersonId.eq(person))
        .all(db)
        .await
}

/// Everyone in the households, oldest member first.
pub async fn members<C: ConnectionTrait>(
    db: &C,
    households: &[Uuid],
) -> Result<Vec<household_member::Model>, DbErr> {
    household_member::Entity::find()
        .filter(household_member::Column::HouseholdId.is_in(households.iter().copied()))
        .order_by_asc(household_member::Column::JoinedAt)
        .order_by_asc(household_member::Column::PersonId)
        .all(db)
        .await
}

pub async fn member<C: ConnectionTrait>(
    db: &C,
    household: Uuid,
    person: Uuid,
) -> Result<Option<household_member::Model>, DbErr> {
    household_member::Entity::find_by_id((household, person))
        .one(db)
        .await
}

/// The caller's strongest role over `person` (a dependent in one of the caller's households),
/// with that household; none when the caller may not see them.
pub async fn role_over<C: ConnectionTrait>(
    db: &C,
    caller: Uuid,
    person: Uuid,
) -> Result<Option<(Uuid, Role)>, DbErr> {
    // One query (it runs on every request made for someone else): the caller's rows in the
    // households where `person` is a dependent.
    let looked_after = household_member::Entity::find()
        .select_only()
        .column(household_member::Column::HouseholdId)
        .filter(household_member::Column::PersonId.eq(person))
        .filter(household_member::Column::Role.eq(Role::Dependent.as_str()))
        .into_query();
    let mine = household_member::Entity::find()
        .filter(household_member::Column::PersonId.eq(caller))
        .filter(household_member::Column::HouseholdId.in_subquery(looked_after))
        .all(db)
        .await?;
    Ok(mine
        .into_iter()
        .filter_map(|m| Some((m.household_id, Role::parse(&m.role)?)))
        .filter(|(_, role)| role.can_view())
        .max_by_key(|(_, role)| (role.can_act(), *role == Role::Owner)))
}

pub fn new_member(
    household: Uuid,
    person: Uuid,
    role: Role,
    name: String,
    has_login: bool,
    at: DateTime<Utc>,
) -> household_member::ActiveModel {
    household_member::ActiveModel {
        household_id: Set(household),
        person_id: Set(person),
        role: Set(role.as_str().to_owned()),
        name: Set(name),
        has_login: Set(has_login),
        joined_at: Set(at),
    }
}

/// Set a member's role, if they hold `from` (any role but owner when `None`); whether it
/// was changed. Conditional, so concurrent changes cannot leave two owners or none.
pub async fn set_role<C: ConnectionTrait>(
    db: &C,
    household: Uuid,
    person: Uuid,
    from: Option<Role>,
    to: Role,
) -> Result<bool, DbErr> {
    let role = household_member::Column::Role;
    let done = household_member::Entity::update_many()
        .col_expr(role, Expr::value(to.as_str()))
        .filter(household_member::Column::HouseholdId.eq(household))
        .filter(household_member::Column::PersonId.eq(person))
        .filter(match from {
            Some(r) => role.eq(r.as_str()),
            None => role.ne(Role::Owner.as_str()),
        })
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Remove a member unless they are (by now) the owner; whether they were removed.
pub async fn remove_member<C: ConnectionTrait>(
    db: &C,
    household: Uuid,
    person: Uuid,
) -> Result<bool, DbErr> {
    let done = household_member::Entity::delete_many()
        .filter(household_member::Column::HouseholdId.eq(household))
        .filter(household_member::Column::PersonId.eq(person))
        .filter(household_member::Column::Role.ne(Role::Owner.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The owner of the first household where `person` is a dependent (whose settings stand in
/// for a dependent without an account of their own).
pub async fn owner_of_dependent<C: ConnectionTrait>(
    db: &C,
    person: Uuid,
) -> Result<Option<Uuid>, DbErr> {
    // One query (it runs on every request for a dependent without an account).
    let first = first_dependency(person)
        .select_only()
        .column(household_member::Column::HouseholdId)
        .limit(1)
        .into_query();
    household_member::Entity::find()
        .select_only()
        .column(household_member::Column::PersonId)
        .filter(household_member::Column::HouseholdId.in_subquery(first))
        .filter(household_member::Column::Role.eq(Role::Owner.as_str()))
        .into_tuple()
        .one(db)
        .await
}

/// The person's name as a dependent (the first household that looks after them).
pub async fn dependent_name<C: ConnectionTrait>(
    db: &C,
    person: Uuid,
) -> Result<Option<String>, DbErr> {
    Ok(first_dependency(person).one(db).await?.map(|m| m.name))
}

/// A person's memberships as a dependent, the first household that took them in first (ties
/// by household id): the one [`owner_of_dependent`] and [`dependent_name`] both go by.
fn first_dependency(person: Uuid) -> sea_orm::Select<household_member::Entity> {
    household_member::Entity::find()
        .filter(household_member::Column::PersonId.eq(person))
        .filter(household_member::Column::Role.eq(Role::Dependent.as_str()))
        .order_by_asc(household_member::Column::JoinedAt)
        .order_by_asc(household_member::Column::HouseholdId)
}

/// Whether a person has drugs or plans.
pub async fn has_records<C: ConnectionTrait>(db: &C, person: Uuid) -> Result<bool, DbErr> {
    let drugs = drug::Entity::find()
        .filter(drug::Column::UserId.eq(person))
        .count(db)
        .await?;
    let plans = medication_plan::Entity::find()
        .filter(medication_plan::Column::UserId.eq(person))
        .count(db)
        .await?;
    Ok(drugs + plans > 0)
}

/// Unused invitations of a household that have not expired.
pub async fn open_invitations<C: ConnectionTrait>(
    db: &C,
    household: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    household_invitation::Entity::find()
        .filter(household_invitation::Column::HouseholdId.eq(household))
        .filter(household_invitation::Column::UsedAt.is_null())
        .filter(household_invitation::Column::ExpiresAt.gt(now))
        .count(db)
        .await
}

pub async fn invitation<C: ConnectionTrait>(
    db: &C,
    code_hash: &str,
) -> Result<Option<household_invitation::Model>, DbErr> {
    household_invitation::Entity::find_by_id(code_hash.to_owned())
        .one(db)
        .await
}

/// Mark an invitation used unless someone did first; true when this call did.
pub async fn use_invitation<C: ConnectionTrait>(
    db: &C,
    code_hash: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = household_invitation::Entity::update_many()
        .col_expr(household_invitation::Column::UsedBy, Expr::value(by))
        .col_expr(household_invitation::Column::UsedAt, Expr::value(now))
        .filter(household_invitation::Column::CodeHash.eq(code_hash))
        .filter(household_invitation::Column::UsedAt.is_null())
        .filter(household_invitation::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Remove a household and everything of it but the audit (kept in the database for an
/// operator; no route reads a deleted household's).
pub async fn delete_household<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    household_invitation::Entity::delete_many()
        .filter(household_invitation::Column::HouseholdId.eq(id))
        .exec(db)
        .await?;
    household_member::Entity::delete_many()
        .filter(household_member::Column::HouseholdId.eq(id))
        .exec(db)
        .await?;
    household::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// One line of the audit.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    household: Uuid,
    actor: Uuid,
    person: Uuid,
    action: String,
    status: u16,
) -> Result<(), DbErr> {
    caregiver_action::Entity::insert(caregiver_action::ActiveModel {
        id: Set(Uuid::now_v7()),
        household_id: Set(household),
        actor_id: Set(actor),
        person_id: Set(person),
        action: Set(action),
        status: Set(i32::from(status)),
        at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The household's audit, newest first, before `before`; only about `person` when given.
pub async fn actions<C: ConnectionTrait>(
    db: &C,
    household: Uuid,
    person: Option<Uuid>,
    before: Option<DateTime<Utc>>,
    limit: u64,
) -> Result<Vec<caregiver_action::Model>, DbErr> {
    let mut q = caregiver_action::Entity::find()
        .filter(caregiver_action::Column::HouseholdId.eq(household));
    if let Some(p) = person {
        q = q.filter(caregiver_action::Column::PersonId.eq(p));
    }
    if let Some(b) = before {
        q = q.filter(caregiver_action::Column::At.lt(b));
    }
    q.order_by_desc(caregiver_action::Column::At)
        .order_by_desc(caregiver_action::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every dependent in a household with caregivers, with those caregivers and the dependent's
/// name there: whom to tell about an unmarked dose. A dependent in two households has both's.
pub async fn looked_after<C: ConnectionTrait>(
    db: &C,
) -> Result<HashMap<Uuid, (String, Vec<Uuid>)>, DbErr> {
    let dependents = household_member::Entity::find()
        .filter(household_member::Column::Role.eq(Role::Dependent.as_str()))
        .all(db)
        .await?;
    if dependents.is_empty() {
        return Ok(HashMap::new());
    }
    let mut households: Vec<Uuid> = dependents.iter().map(|d| d.household_id).collect();
    households.sort_unstable();
    households.dedup();
    let mut everyone = Vec::new();
    for chunk in households.chunks(500) {
        everyone.extend(members(db, chunk).await?);
    }
    let mut out: HashMap<Uuid, (String, Vec<Uuid>)> = HashMap::new();
    for d in dependents {
        let entry = out
            .entry(d.person_id)
            .or_insert_with(|| (d.name.clone(), Vec::new()));
        for m in everyone.iter().filter(|m| {
            m.household_id == d.household_id
                && m.person_id != d.person_id
                && Role::parse(&m.role).is_some_and(Role::is_caregiver)
        }) {
            if !entry.1.contains(&m.person_id) {
                entry.1.push(m.person_id);
            }
        }
    }
    out.retain(|_, (_, caregivers)| !caregivers.is_empty());
    Ok(out)
}
