//! A life project (owner: svc-chat), in the UniLife app's vocabulary: the original backend's
//! `Project` model is the contract, so the column names, enum values and defaults are its
//! own. Its task statistics are computed from the events that name it (`events.project_id`),
//! never stored: the original's stored counters were never kept up to date.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// Every value as the API spells it, for error texts and the model's tool schema.
            pub const VALUES: &[&str] = &[$($value),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }
    };
}

vocabulary!(
    /// `FINITE`: a climb with an end (an exam, a funding round); `INFINITE`: a long run (a
    /// habit such as fitness or a language).
    ProjectType {
        Finite = "FINITE",
        Infinite = "INFINITE",
    }
);

vocabulary!(
    /// `SPRINT` promotes every task of the project to a main quest.
    ProjectMode {
        Normal = "NORMAL",
        Sprint = "SPRINT",
    }
);

vocabulary!(
    /// What the project's tasks mostly take.
    EnergyType {
        Mental = "MENTAL",
        Physical = "PHYSICAL",
        Balanced = "BALANCED",
    }
);

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    #[sea_orm(column_name = "type")]
    #[serde(rename = "type")]
    pub kind: ProjectType,
    /// 0 core (its tasks are main quests), 1 growth, 2 interest.
    pub base_tier: i32,
    pub current_mode: ProjectMode,
    pub energy_type: EnergyType,
    /// Free-form targets, e.g. `{"weekly_hours": 20, "target_date": "2026-12-25"}`.
    pub target_kpi: Option<Json>,
    /// False once archived (`DELETE /projects/{id}` archives).
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
