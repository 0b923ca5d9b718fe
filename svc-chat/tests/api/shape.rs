//! The UniLife fixtures (`tests/fixtures/unilife/`) and the shape check of
//! `shared::testing::shape`.

use serde_json::Value;

pub fn fixture(name: &str) -> Value {
    shared::testing::shape::fixture(env!("CARGO_MANIFEST_DIR"), name)
}

/// `body` has exactly the fields of the shape fixture `name`, each of its kind.
pub fn assert_shape(body: &Value, name: &str) {
    shared::testing::shape::assert_shape(body, &fixture(name), name);
}
