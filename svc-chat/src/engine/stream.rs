//! Resumable answers. A streamed turn writes its text into a [`Progress`] that any number of
//! followers read; the turn does not depend on them (it finishes and is stored when its
//! client has gone). Every SSE event has an id, `<turn>:<bytes of reply sent>` for the start
//! and the deltas and `<turn>:end` for `done`/`error`, so a client that lost the stream names
//! exactly where it stopped. Resuming reads the live turn on this instance, or the
//! `chat_turns` row on any other (polling it while the turn runs elsewhere), and sends what
//! came after, nothing twice. A comment goes every `chat.stream_heartbeat_secs` of silence.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use futures_util::Stream;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use shared::entities::chat_turn;
use shared::{ApiError, ErrorCode};
use tokio::sync::watch;
use uuid::Uuid;

use crate::state::AppState;

/// How long a turn may stay `running` in the database before a follower on another instance
/// gives up on it (its instance stopped mid-turn).
const RUNNING_AT_MOST: Duration = Duration::from_secs(15 * 60);
/// How often a follower on another instance reads the row while the turn runs there.
const POLL: Duration = Duration::from_millis(250);
/// Streamed turns are kept this long for resuming.
const KEEP: chrono::TimeDelta = chrono::TimeDelta::days(1);
const HEARTBEAT: &[u8] = b": keep-alive\n\n";

/// What a streamed turn has produced so far.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    pub text: String,
    /// The `done` or `error` event's name and body, once the turn has ended.
    pub end: Option<(&'static str, Value)>,
}

/// Where a streamed turn's text goes (followers read it through [`Live`]).
pub struct Sink(watch::Sender<Progress>);

impl Sink {
    pub fn text(&self, text: &str) {
        if !text.is_empty() {
            self.0.send_modify(|p| p.text.push_str(text));
        }
    }

    fn end(&self, event: &'static str, body: Value) {
        self.0.send_modify(|p| p.end = Some((event, body)));
    }
}

/// The streamed turns running on this instance, by id, with their owner.
#[derive(Default)]
pub struct Live(Mutex<HashMap<Uuid, (Uuid, watch::Receiver<Progress>)>>);

impl Live {
    fn get(&self, turn: Uuid, user: Uuid) -> Option<watch::Receiver<Progress>> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&turn)
            .filter(|(owner, _)| *owner == user)
            .map(|(_, rx)| rx.clone())
    }
}

/// Where a client stands in a turn's stream: the `id` of the last event it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId {
    pub turn: Uuid,
    /// Bytes of the reply received; `None` once the `done` or `error` event was.
    pub sent: Option<usize>,
}

impl EventId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::validation(
                "Last-Event-ID 不是这个回复流的事件编号 / Last-Event-ID is not an event id of a reply stream",
            )
        };
        let (turn, at) = raw.trim().split_once(':').ok_or_else(bad)?;
        let turn = turn.parse().map_err(|_| bad())?;
        let sent = match at {
            "end" => None,
            n => Some(n.parse().map_err(|_| bad())?),
        };
        Ok(Self { turn, sent })
    }
}

fn frame(id: &str, event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("id: {id}\nevent: {event}\ndata: {data}\n\n"))
}

/// A new streamed turn: its row (so any instance can resume it), its place among the live
/// turns and the sink its text goes to.
pub async fn begin(state: &AppState, user: Uuid) -> Result<(Uuid, Sink), ApiError> {
    let turn = Uuid::now_v7();
    let now = shared::time::now_micros();
    chat_turn::ActiveModel {
        id: Set(turn),
        user_id: Set(user),
        status: Set("running".into()),
        result: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    let (tx, rx) = watch::channel(Progress::default());
    state
        .live
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(turn, (user, rx));
    Ok((turn, Sink(tx)))
}

/// The turn has ended: its row first (a follower elsewhere reads it), then the followers
/// here, then it leaves the live turns. The user's turns older than a day go with it.
pub async fn finish(
    state: &AppState,
    user: Uuid,
    turn: Uuid,
    sink: &Sink,
    end: (&'static str, Value),
) {
    let status = if end.0 == "done" { "done" } else { "failed" };
    let stored = chat_turn::Entity::update_many()
        .col_expr(chat_turn::Column::Status, Expr::value(status))
        .col_expr(chat_turn::Column::Result, Expr::value(end.1.clone()))
        .col_expr(
            chat_turn::Column::UpdatedAt,
            Expr::value(shared::time::now_micros()),
        )
        .filter(chat_turn::Column::Id.eq(turn))
        .exec(&state.db)
        .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "a streamed turn's end could not be stored for resuming");
    }
    sink.end(end.0, end.1);
    state
        .live
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&turn);
    let pruned = chat_turn::Entity::delete_many()
        .filter(chat_turn::Column::UserId.eq(user))
        .filter(chat_turn::Column::CreatedAt.lt(Utc::now() - KEEP))
        .exec(&state.db)
        .await;
    if let Err(e) = pruned {
        tracing::warn!(error = %e, "old streamed turns not pruned");
    }
}

enum Source {
    Live(watch::Receiver<Progress>),
    Stored,
}

/// One client's view of a turn's stream, from where it stands.
struct Follower {
    state: Arc<AppState>,
    user: Uuid,
    turn: Uuid,
    sent: usize,
    source: Source,
    started: bool,
    ended: bool,
    heartbeat: Duration,
    last_frame: Instant,
}

/// What a follower finds in the stored row.
enum Found {
    Running,
    Text(String, &'static str, Value),
    Gone,
}

impl Follower {
    async fn read_row(&self) -> Result<Found, ApiError> {
        let Some(row) = chat_turn::Entity::find_by_id(self.turn)
            .filter(chat_turn::Column::UserId.eq(self.user))
            .one(&self.state.db)
            .await?
        else {
            return Ok(Found::Gone);
        };
        let result = row.result.unwrap_or(Value::Null);
        Ok(match row.status.as_str() {
            "running" => {
                let age = (Utc::now() - row.created_at).to_std().unwrap_or_default();
                if age < RUNNING_AT_MOST {
                    Found::Running
                } else {
                    Found::Text(String::new(), "error", interrupted())
                }
            }
            "done" => Found::Text(
                result["reply"].as_str().unwrap_or_default().to_owned(),
                "done",
                result,
            ),
            _ => Found::Text(String::new(), "error", result),
        })
    }

    /// The text after what was sent (`rest`), as a delta event; nothing when there is none.
    fn delta(&mut self, rest: &str) -> Option<Bytes> {
        if rest.is_empty() {
            return None;
        }
        self.sent += rest.len();
        Some(frame(
            &format!("{}:{}", self.turn, self.sent),
            "delta",
            &json!({ "text": rest }),
        ))
    }

    fn end(&mut self, event: &str, body: &Value) -> Bytes {
        self.ended = true;
        frame(&format!("{}:end", self.turn), event, body)
    }

    async fn next(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        if !self.started {
            // An id alone sets the client's last event id before any text (a client that
            // loses the stream at once can still resume it); it dispatches nothing.
            self.started = true;
            return Some(Bytes::from(format!("id: {}:{}\n\n", self.turn, self.sent)));
        }
        loop {
            let wait = self.heartbeat.saturating_sub(self.last_frame.elapsed());
            let live = match &mut self.source {
                Source::Live(rx) => {
                    let (rest, end) = {
                        let p = rx.borrow_and_update();
                        let rest = p.text.get(self.sent..).unwrap_or_default().to_owned();
                        (rest, p.end.clone())
                    };
                    if rest.is_empty() && end.is_none() {
                        match tokio::time::timeout(wait, rx.changed()).await {
                            Err(_) => return Some(Bytes::from_static(HEARTBEAT)),
                            // The turn's task ended without an end (a panic): the row tells.
                            Ok(Err(_)) => self.source = Source::Stored,
                            Ok(Ok(())) => {}
                        }
                        continue;
                    }
                    Some((rest, end))
                }
                Source::Stored => None,
            };
            match live {
                Some((rest, end)) => {
                    if let Some(delta) = self.delta(&rest) {
                        return Some(delta);
                    }
                    if let Some((event, body)) = end {
                        return Some(self.end(event, &body));
                    }
                }
                None => {
                    let found = match self.read_row().await {
                        Ok(found) => found,
                        Err(e) => return Some(self.end("error", &envelope(&e))),
                    };
                    match found {
                        Found::Running => {
                            if wait.is_zero() {
                                return Some(Bytes::from_static(HEARTBEAT));
                            }
                            tokio::time::sleep(POLL.min(wait)).await;
                        }
                        Found::Text(text, event, body) => {
                            let rest = text.get(self.sent..).unwrap_or_default();
                            if let Some(delta) = self.delta(rest) {
                                return Some(delta);
                            }
                            return Some(self.end(event, &body));
                        }
                        Found::Gone => {
                            let e = ApiError::new(
                                ErrorCode::TurnNotFound,
                                ErrorCode::TurnNotFound.zh(),
                            );
                            return Some(self.end("error", &envelope(&e)));
                        }
                    }
                }
            }
        }
    }
}

/// The error event's body: the envelope with the status, as the plain answer would have it.
pub fn envelope(e: &ApiError) -> Value {
    json!({
        "code": e.code, "message": e.message, "detail": e.message, "status": e.status().as_u16(),
        "request_id": shared::request_id::current().unwrap_or_default(),
    })
}

fn interrupted() -> Value {
    envelope(&ApiError::new(
        ErrorCode::TurnInterrupted,
        ErrorCode::TurnInterrupted.zh(),
    ))
}

/// The events of `turn` after `from`, for its owner: from the live turn on this instance, or
/// from its row. Unknown, someone else's, or a place the turn never reached → an error before
/// anything is streamed.
pub async fn follow(
    state: Arc<AppState>,
    user: Uuid,
    from: EventId,
) -> Result<impl Stream<Item = Bytes> + use<>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::TurnNotFound, ErrorCode::TurnNotFound.zh());
    let beyond = || {
        ApiError::validation(
            "Last-Event-ID 超出了这个回复 / Last-Event-ID is past what this reply has sent",
        )
    };
    let source = match state.live.get(from.turn, user) {
        Some(rx) => {
            if let Some(n) = from.sent
                && !rx.borrow().text.is_char_boundary(n)
            {
                return Err(beyond());
            }
            Source::Live(rx)
        }
        None => {
            let row = chat_turn::Entity::find_by_id(from.turn)
                .filter(chat_turn::Column::UserId.eq(user))
                .one(&state.db)
                .await?
                .ok_or_else(not_found)?;
            if let (Some(n), Some(result)) = (from.sent, &row.result)
                && !result["reply"]
                    .as_str()
                    .unwrap_or_default()
                    .is_char_boundary(n)
            {
                return Err(beyond());
            }
            Source::Stored
        }
    };
    let heartbeat = Duration::from_secs(state.chat.stream_heartbeat_secs);
    let follower = Follower {
        state,
        user,
        turn: from.turn,
        sent: from.sent.unwrap_or(0),
        source,
        started: false,
        // A client that had the end has nothing more to get.
        ended: from.sent.is_none(),
        heartbeat,
        last_frame: Instant::now(),
    };
    Ok(futures_util::stream::unfold(follower, |mut f| async move {
        let frame = f.next().await?;
        f.last_frame = Instant::now();
        Some((frame, f))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_name_the_turn_and_the_bytes_sent() {
        let turn = Uuid::now_v7();
        assert_eq!(
            EventId::parse(&format!("{turn}:42")).unwrap(),
            EventId {
                turn,
                sent: Some(42)
            }
        );
        assert_eq!(
            EventId::parse(&format!(" {turn}:end ")).unwrap(),
            EventId { turn, sent: None }
        );
        for bad in [
            "",
            "x:1",
            &format!("{turn}"),
            &format!("{turn}:-1"),
            &format!("{turn}:1.5"),
        ] {
            let e = EventId::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::ValidationError, "{bad}");
            assert!(e.message.starts_with("Last-Event-ID 不是"));
        }
    }
}
