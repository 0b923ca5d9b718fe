//! Validated inputs: each type can only hold a value that passed its rules.

mod account;
mod profile;

pub use account::{AvatarUrl, Email, Invalid, LoginName, Nickname, Password, TimeZoneName};
pub use profile::{
    Phone, Preferences, default_energy_profile, energy_profile_view, hourly_baseline,
    learned_adjustments, preferences_view, task_energy_cost,
};

/// For partial updates: a present field (even `null`) is `Some`, an absent one `None`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
