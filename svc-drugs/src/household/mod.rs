//! Households and caregivers: accounts and dependents (a child, an elderly parent without a
//! login) grouped so that some members can look after the others' cabinets.
//!
//! A person is an id: an account's user id, or one made for a dependent without a login. The
//! cabinet tables key by it (`user_id`), so a dependent's drugs, plans and doses are kept and
//! computed exactly as anyone's. A request acts for another person with the `X-Person-Id`
//! header ([`Person`]); the caller's role over that person decides what it may do, read
//! afresh on every request, so leaving or being removed takes effect at once. Writes (and
//! exports) for another person are audited ([`audit_caregiver_actions`]).

mod access;
mod manage;
pub(crate) mod repo;

use serde::{Deserialize, Serialize};
use shared::{ApiError, ErrorCode};

pub use access::{PERSON_HEADER, Person, audit_caregiver_actions};
pub use manage::{
    AuditQuery, DependentInput, HouseholdInput, InviteInput, JoinInput, RoleInput, add_dependent,
    audit, create, delete, get, invite, join, list, remove_member, rename, set_role,
};

/// At most this many households per person, members per household, and unused invitations
/// per household.
pub const MAX_HOUSEHOLDS: usize = 10;
pub const MAX_MEMBERS: usize = 20;
pub const MAX_OPEN_INVITATIONS: usize = 20;

/// What a member may do in a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the household (members, invitations) and acts for its dependents.
    Owner,
    /// Sees the dependents' cabinets, plans and doses.
    CaregiverView,
    /// Sees them and acts: marks doses, edits drugs and plans.
    CaregiverAct,
    /// Is looked after; sees only their own cabinet.
    Dependent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::CaregiverView => "caregiver_view",
            Role::CaregiverAct => "caregiver_act",
            Role::Dependent => "dependent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Owner,
            Role::CaregiverView,
            Role::CaregiverAct,
            Role::Dependent,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Sees the household's dependents' cabinets.
    pub fn can_view(self) -> bool {
        !matches!(self, Role::Dependent)
    }

    /// Changes them.
    pub fn can_act(self) -> bool {
        matches!(self, Role::Owner | Role::CaregiverAct)
    }

    /// Is told when a dependent's dose stays unmarked.
    pub fn is_caregiver(self) -> bool {
        self.can_view()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HouseholdError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Invalid(String),
    #[error("家庭不存在。No such household.")]
    NotFound,
    #[error("找不到这位家人（可能已不在你的家庭中）。No such person in your households.")]
    PersonNotFound,
    #[error("只有家庭创建者可以这样做。Only the household's owner can do this.")]
    NotOwner,
    #[error(
        "你只能查看这位家人的药箱，不能修改。You may view this person's cabinet, not change it."
    )]
    ViewOnly,
    #[error("邀请码不对，请检查后重试。No invitation has this code.")]
    InvitationNotFound,
    #[error("这个邀请码已经用过了，请让家庭创建者重新邀请。This invitation was already used.")]
    InvitationUsed,
    #[error("这个邀请码已过期，请让家庭创建者重新邀请。This invitation has expired.")]
    InvitationExpired,
    #[error("你已经在这个家庭里了。You are already in this household.")]
    AlreadyMember,
    #[error(
        "家庭创建者不能退出：请先把创建者转给别人，或删除这个家庭。The owner cannot leave: make another member the owner first, or delete the household."
    )]
    OwnerMustStay,
    #[error(
        "这位家人还有药品或服药计划，请先删除它们。This dependent still has drugs or plans; delete them first."
    )]
    DependentHasRecords,
    #[error("{0}")]
    Limit(String),
}

impl From<HouseholdError> for ApiError {
    fn from(err: HouseholdError) -> Self {
        let err = match err {
            HouseholdError::Db(e) => return e.into(),
            other => other,
        };
        let code = match &err {
            HouseholdError::Db(_) => ErrorCode::InternalError,
            HouseholdError::Invalid(_) => ErrorCode::ValidationError,
            HouseholdError::NotFound => ErrorCode::HouseholdNotFound,
            HouseholdError::PersonNotFound => ErrorCode::PersonNotFound,
            HouseholdError::NotOwner | HouseholdError::ViewOnly => ErrorCode::Forbidden,
            HouseholdError::InvitationNotFound => ErrorCode::InvitationNotFound,
            HouseholdError::InvitationUsed => ErrorCode::InvitationUsed,
            HouseholdError::InvitationExpired => ErrorCode::InvitationExpired,
            HouseholdError::AlreadyMember => ErrorCode::AlreadyMember,
            HouseholdError::OwnerMustStay => ErrorCode::OwnerMustStay,
            HouseholdError::DependentHasRecords => ErrorCode::DependentHasRecords,
            HouseholdError::Limit(_) => ErrorCode::LimitReached,
        };
        ApiError::new(code, err.to_string())
    }
}
