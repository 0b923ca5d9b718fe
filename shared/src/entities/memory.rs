use sea_orm::entity::prelude::*;

/// One thing the assistant remembers about a user (owner: svc-chat): a preference, a person, a
/// health fact, a routine, a place. Written by the nightly consolidation from the day's
/// messages, by the assistant's `remember` tool, or by the user (`PUT /memory/{id}`); only
/// `active` ones reach a prompt. A fact that replaced another names it (`supersedes`); the old
/// one stays `superseded` for the record. A forgotten fact is deleted, not kept.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "memories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    /// `health`, `person`, `preference`, `routine`, `place` or `other`.
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// `active`, `superseded` or `dropped`.
    pub status: String,
    pub confidence: f64,
    /// The messages it was learnt from (ids), empty when the user wrote it.
    pub sources: Json,
    /// `nightly`, `chat` (the remember tool) or `user`.
    pub origin: String,
    /// The local day it was learnt.
    pub learnt_on: Date,
    pub supersedes: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
