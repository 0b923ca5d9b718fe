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
    /// The pack's own serial (GS1 AI 21, or the 9 digits of a drug traceability code).
    pub serial_number: Option<String>,
    /// This very box: `gs1:<GTIN-14>:<serial>` or `cn:<20-digit traceability code>`; one
    /// drug per box and user (a unique index), so scanning it again finds the same drug.
    pub box_id: Option<String>,
    pub production_date: Option<Date>,
    pub expiry_date: Option<Date>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// The recognition that created it, if any.
    pub recognition_id: Option<Uuid>,
    /// Name, brand, generic name and maker folded for search (`shared::text`); kept up to
    /// date by `before_save`, whatever the write.
    #[sea_orm(column_type = "Text", default_value = "")]
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModel {
    /// The search text of these values; `None` when a searched field is not loaded (a partial
    /// update), so the stored one cannot be recomputed here.
    fn computed_search_text(&self) -> Option<String> {
        let name = self.name.try_as_ref()?;
        let brand = self.brand.try_as_ref()?;
        let generic = self.generic_name.try_as_ref()?;
        let maker = self.manufacturer.try_as_ref()?;
        Some(crate::text::search_text([
            Some(name.as_str()),
            brand.as_deref(),
            generic.as_deref(),
            maker.as_deref(),
        ]))
    }
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C>(mut self, _db: &C, _insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        let searched_fields_changed = self.name.is_set()
            || self.brand.is_set()
            || self.generic_name.is_set()
            || self.manufacturer.is_set()
            || self.search_text.is_not_set();
        if searched_fields_changed {
            let text = self.computed_search_text().ok_or_else(|| {
                DbErr::Custom("a drug's searched fields must be loaded to change them".into())
            })?;
            self.search_text = sea_orm::Set(text);
        }
        Ok(self)
    }
}
