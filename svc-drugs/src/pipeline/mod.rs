//! The recognition pipeline, step by step. CPU-heavy steps are plain functions that callers
//! run on a blocking thread.

pub mod normalize;
