//! Validated inputs: each type can only hold a value that passed its rules.

mod account;

pub use account::{
    AvatarUrl, Email, Invalid, LoginName, Nickname, Password, Preferences, TimeZoneName,
};

/// For partial updates: a present field (even `null`) is `Some`, an absent one `None`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
