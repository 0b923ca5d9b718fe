//! Whose rows these are. The original's rows name their owner by `users.id`; some older rows
//! by the Apple user id (`users.user_id`). Both lead to the account the user became here.

use std::collections::HashMap;

use chrono_tz::Tz;
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub id: Uuid,
    /// The user's time zone, in which the original stored event times.
    pub tz: Tz,
}

#[derive(Default)]
pub struct Owners {
    found: HashMap<String, Result<Owner, String>>,
}

impl Owners {
    pub fn add(
        &mut self,
        original_id: &str,
        apple_sub: Option<&str>,
        owner: Result<Owner, String>,
    ) {
        if let Some(sub) = apple_sub {
            self.found.insert(sub.to_owned(), owner.clone());
        }
        self.found.insert(original_id.to_owned(), owner);
    }

    /// The account of the original owner string, or why its rows cannot be imported.
    pub fn resolve(&self, original: Option<&str>) -> Result<Owner, String> {
        let original = original.ok_or("no user_id")?;
        self.found
            .get(original)
            .cloned()
            .unwrap_or_else(|| Err(format!("user {original} is not in the users table")))
    }
}
