use sea_orm::entity::prelude::*;

/// The platform a push token belongs to (the UniLife app's `platform`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    #[sea_orm(string_value = "ios")]
    Ios,
    #[sea_orm(string_value = "android")]
    Android,
    #[sea_orm(string_value = "web")]
    Web,
}

/// A phone (or browser) of the app registered for push (owner: svc-scheduler). `token` is
/// unique: a token names one app install, so it belongs to one account at a time, the one
/// that registered it last.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub platform: Platform,
    #[sea_orm(column_type = "Text", unique)]
    pub token: String,
    /// The app's own identifier of the install (e.g. identifierForVendor); not unique.
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub device_model: Option<String>,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub metadata: Json,
    pub is_active: bool,
    pub last_used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
