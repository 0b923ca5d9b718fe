//! Chat turns in progress per user, on this instance (`chat.max_turns_in_progress`): a client
//! that opens stream after stream cannot hold model calls and connections without limit. A
//! slot is held by the turn (it ends with the turn, even when the client has gone).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use shared::ApiError;
use uuid::Uuid;

#[derive(Clone)]
pub struct TurnSlots {
    limit: usize,
    held: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// One turn's slot; given back when dropped.
pub struct TurnSlot {
    held: Arc<Mutex<HashMap<Uuid, usize>>>,
    user: Uuid,
}

impl TurnSlots {
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            held: Arc::default(),
        }
    }

    /// A slot for one more turn of `user`, or 429 when they have `limit` running.
    pub fn take(&self, user: Uuid) -> Result<TurnSlot, ApiError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(user).or_insert(0);
        if *count >= self.limit {
            let mut err = ApiError::too_many_requests(5);
            err.message = format!(
                "你已有 {0} 个对话正在进行，请等它们结束再发。You have {0} chat turns in progress; wait for one to finish.",
                self.limit
            );
            return Err(err);
        }
        *count += 1;
        Ok(TurnSlot {
            held: self.held.clone(),
            user,
        })
    }
}

impl Drop for TurnSlot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_the_limit_and_a_finished_turn_gives_its_slot_back() {
        let slots = TurnSlots::new(2);
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = slots.take(alice).unwrap_or_else(|e| panic!("{e:?}"));
        let _second = slots.take(alice).unwrap_or_else(|e| panic!("{e:?}"));
        let refused = slots
            .take(alice)
            .err()
            .unwrap_or_else(|| panic!("a third slot"));
        assert_eq!(refused.retry_after, Some(5));
        assert!(refused.message.starts_with("你已有 2 个对话正在进行"));
        assert!(
            slots.take(bob).is_ok(),
            "another user is not limited by alice"
        );
        drop(first);
        assert!(slots.take(alice).is_ok());
    }
}
