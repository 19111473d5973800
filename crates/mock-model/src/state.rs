//! The server state shared by all connections: the script player, the
//! request log and the request counter, behind one mutex.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::log::RequestLog;
use crate::player::Player;

/// The mutable server state.
#[derive(Debug)]
pub struct State {
    /// The script being played.
    pub player: Player,
    /// Every request received.
    pub log: RequestLog,
    last_seq: u64,
}

impl State {
    /// The next request sequence number (from 1).
    pub fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }
}

/// The state behind its mutex.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// Wraps a fresh state.
    pub fn new(player: Player, log: RequestLog) -> Self {
        Shared {
            state: Mutex::new(State {
                player,
                log,
                last_seq: 0,
            }),
        }
    }

    /// Locks the state. A panic while it was held cannot leave it half
    /// updated in a way that matters to a mock, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
