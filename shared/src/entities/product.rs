use sea_orm::entity::prelude::*;

/// The product catalogue learned from recognitions, keyed by barcode (owner: svc-drugs). It
/// holds what is the same for every box of a product, never batch or dates.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub barcode: String,
    pub name: String,
    pub brand: Option<String>,
    pub generic_name: Option<String>,
    pub manufacturer: Option<String>,
    pub strength: Option<String>,
    pub dosage_form: Option<String>,
    pub package: Option<String>,
    pub approval_number: Option<String>,
    pub times_seen: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
