//! The text printed on a medicine box that a drug keeps, listed once. Recognition reads these
//! fields, the catalogue keeps some of them per barcode, a person may type them, and the drug
//! views show them; each of those goes through this list (and an exhaustive `match` per
//! record type), so a field cannot be forgotten in one place.

/// One text field of a drug as printed on its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProductField {
    Name,
    Brand,
    GenericName,
    Manufacturer,
    Strength,
    DosageForm,
    Package,
    ApprovalNumber,
    Barcode,
    BatchNumber,
}

impl ProductField {
    /// Every field, in the order the API lists them; the catalogue's first.
    pub const ALL: [ProductField; 10] = [
        Self::Name,
        Self::Brand,
        Self::GenericName,
        Self::Manufacturer,
        Self::Strength,
        Self::DosageForm,
        Self::Package,
        Self::ApprovalNumber,
        Self::Barcode,
        Self::BatchNumber,
    ];

    /// What is the same for every box of a product, the catalogue's part: the first eight of
    /// `ALL` (never the barcode it is keyed by, the batch or the dates).
    pub const CATALOGUE: &'static [ProductField] = Self::ALL.as_slice().split_at(8).0;

    /// The field's name in JSON, in the model's answer and in the database.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Brand => "brand",
            Self::GenericName => "generic_name",
            Self::Manufacturer => "manufacturer",
            Self::Strength => "strength",
            Self::DosageForm => "dosage_form",
            Self::Package => "package",
            Self::ApprovalNumber => "approval_number",
            Self::Barcode => "barcode",
            Self::BatchNumber => "batch_number",
        }
    }

    /// Free text, kept as written; the approval number and the barcode have a format of
    /// their own that is checked.
    pub const fn is_free_text(self) -> bool {
        !matches!(self, Self::ApprovalNumber | Self::Barcode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_holds_no_batch_nor_barcode_and_names_are_distinct() {
        assert_eq!(ProductField::CATALOGUE.len(), 8);
        assert!(!ProductField::CATALOGUE.contains(&ProductField::BatchNumber));
        assert!(!ProductField::CATALOGUE.contains(&ProductField::Barcode));
        let names: std::collections::HashSet<_> =
            ProductField::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), ProductField::ALL.len());
    }
}
