//! The script player: picks the action that answers a model request and
//! keeps the position in the script.
//!
//! Rules, in order:
//! 1. a request matching a side rule gets the side reply and consumes nothing;
//! 2. otherwise the current turn is served; it advances after `times`
//!    servings unless it is marked `repeat`;
//! 3. past the last turn, `when_exhausted` is served (never advancing), or a
//!    final message saying the script is exhausted.

use serde::{Deserialize, Serialize};

use crate::request::RequestView;
use crate::script::{Action, EXHAUSTED_TEXT, Script, Turn, Usage};

/// Which part of the script answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Served {
    /// The scripted turn at this index.
    Turn {
        /// Index into `Script::turns`.
        index: usize,
    },
    /// A side request (matched a side rule): no turn consumed.
    Side,
    /// The script's `when_exhausted` action.
    Default,
    /// The built-in "script exhausted" final message.
    Exhausted,
    /// Not a model request (probe, model list, token count, unknown path).
    NotModel,
}

/// The action chosen for a request, with the usage to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// What to answer.
    pub action: Action,
    /// Where it came from.
    pub served: Served,
    /// Token counts for the answer.
    pub usage: Usage,
}

/// Plays a [`Script`] one request at a time.
#[derive(Debug, Clone)]
pub struct Player {
    script: Script,
    cursor: usize,
    servings: u32,
}

impl Player {
    /// Starts at the first turn.
    pub fn new(script: Script) -> Self {
        Player {
            script,
            cursor: 0,
            servings: 0,
        }
    }

    /// The script being played.
    pub fn script(&self) -> &Script {
        &self.script
    }

    /// How many turns have been fully consumed (the index of the current one).
    pub fn turns_consumed(&self) -> usize {
        self.cursor
    }

    /// Appends a turn to the script.
    pub fn push(&mut self, turn: Turn) {
        self.script.turns.push(turn);
    }

    /// Chooses the answer for a model request whose body text is `raw`.
    pub fn select(&mut self, view: &RequestView, raw: &str) -> Selection {
        if view.is_side_request(&self.script.side_requests.rules, raw) {
            return Selection {
                action: Action::Message {
                    text: self.script.side_requests.reply.clone(),
                },
                served: Served::Side,
                usage: self.script.usage,
            };
        }
        match self.script.turns.get(self.cursor).cloned() {
            Some(turn) => self.serve_turn(turn),
            None => self.exhausted(),
        }
    }

    fn serve_turn(&mut self, turn: Turn) -> Selection {
        let index = self.cursor;
        self.servings += 1;
        if !turn.repeat && self.servings >= turn.times.max(1) {
            self.cursor += 1;
            self.servings = 0;
        }
        Selection {
            action: turn.action,
            served: Served::Turn { index },
            usage: turn.usage.unwrap_or(self.script.usage),
        }
    }

    fn exhausted(&self) -> Selection {
        let (action, served) = match &self.script.when_exhausted {
            Some(action) => (action.clone(), Served::Default),
            None => (
                Action::Message {
                    text: EXHAUSTED_TEXT.to_string(),
                },
                Served::Exhausted,
            ),
        };
        Selection {
            action,
            served,
            usage: self.script.usage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_tools() -> RequestView {
        RequestView {
            tools: vec!["bash".to_string()],
            ..RequestView::default()
        }
    }

    fn served(player: &mut Player, view: &RequestView) -> Served {
        player.select(view, "{}").served
    }

    #[test]
    fn turns_advance_and_side_requests_do_not_consume() {
        let mut player = Player::new(Script::new().shell("ls").message("done"));
        assert_eq!(
            served(&mut player, &with_tools()),
            Served::Turn { index: 0 }
        );
        assert_eq!(served(&mut player, &RequestView::default()), Served::Side);
        assert_eq!(
            served(&mut player, &with_tools()),
            Served::Turn { index: 1 }
        );
        assert_eq!(served(&mut player, &with_tools()), Served::Exhausted);
        assert_eq!(player.turns_consumed(), 2);
    }

    #[test]
    fn repeat_and_times() {
        let script = Script::new()
            .http_error(500)
            .times(2)
            .rate_limit(1)
            .repeat();
        let mut player = Player::new(script);
        let view = with_tools();
        let order: Vec<Served> = (0..4).map(|_| served(&mut player, &view)).collect();
        let (first, second) = (Served::Turn { index: 0 }, Served::Turn { index: 1 });
        assert_eq!(order, vec![first, first, second, second]);
    }

    #[test]
    fn default_turn_when_exhausted() {
        let script = Script::new().when_exhausted(Action::Hang);
        let mut player = Player::new(script);
        let selection = player.select(&with_tools(), "{}");
        assert_eq!(selection.served, Served::Default);
        assert_eq!(selection.action, Action::Hang);
    }

    #[test]
    fn side_rules_are_configurable() {
        let mut script = Script::new().message("only");
        script.side_requests.rules.clear();
        let mut player = Player::new(script);
        let view = RequestView::default();
        assert_eq!(served(&mut player, &view), Served::Turn { index: 0 });
    }
}
