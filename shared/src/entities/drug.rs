use sea_orm::entity::prelude::*;

/// A drug in a user's cabinet (owner: svc-drugs).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "drugs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub name: String,
    pub brand: Option<String>,
    pub generic_name: Option<String>,
    pub manufacturer: Option<String>,
    pub strength: Option<String>,
    pub dosage_form: Option<String>,
    pub package: Option<String>,
    pub approval_number: Option<String>,
    pub barcode: Option<String>,
    pub batch_number: Option<String>,
    pub production_date: Option<Date>,
    pub expiry_date: Option<Date>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// The recognition that created it, if any.
    pub recognition_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
