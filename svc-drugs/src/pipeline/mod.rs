//! The recognition pipeline, step by step. CPU-heavy steps are plain functions that callers
//! run on a blocking thread.

pub mod barcode;
pub mod ean;
pub mod fields;
pub mod locate;
pub mod normalize;
pub mod phash;
