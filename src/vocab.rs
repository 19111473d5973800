//! The words of the domain, defined once: planes, work-item families and
//! their lifecycle states, result classes, learn actions, the outcome every
//! stage has. Every layer (`check`, `plan`, `workspace`, `runners`,
//! `runtime`, `cli`) names them with these types; this module uses nothing
//! of the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A closed set of snake_case names: the enum, `ALL` in declaration order,
/// `NAMES`, `as_str`, `parse` and `Display`.
macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            /// Every name, in declaration order.
            pub const NAMES: [&'static str; [$($text),+].len()] = [$($text),+];

            /// The snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value of a snake_case name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// A plane: an independent lane of work with its own loop and queue families.
    Plane {
        /// Tasks: builder, checker, fixer, updater, ...
        Execution = "execution",
        /// Specs, probes, incidents and blueprint drafts.
        Planning = "planning",
        /// Learning requests.
        Learning = "learning",
    }
}

closed_set! {
    /// A family of work documents.
    Family {
        Task = "task",
        Spec = "spec",
        Probe = "probe",
        Incident = "incident",
        LearningRequest = "learning_request",
        BlueprintDraft = "blueprint_draft",
    }
}

closed_set! {
    /// Where a work item is in its life; one directory per family and state.
    LifecycleState {
        /// Waiting to be claimed.
        Queued = "queued",
        /// Claimed by a plane.
        Active = "active",
        /// Finished.
        Done = "done",
        /// Stopped, waiting for an operator or a retry.
        Blocked = "blocked",
        /// A cancelled blueprint draft.
        Canceled = "canceled",
        /// A superseded blueprint draft.
        Superseded = "superseded",
    }
}

closed_set! {
    /// What an outcome means for the work item.
    ResultClass {
        Success = "success",
        NoOp = "no_op",
        FollowupNeeded = "followup_needed",
        RecoverableFailure = "recoverable_failure",
        EscalatePlanning = "escalate_planning",
        Blocked = "blocked",
    }
}

closed_set! {
    /// What a learn rule asks the learning plane to do.
    LearnAction {
        Create = "create",
        Improve = "improve",
        Promote = "promote",
        Export = "export",
        Install = "install",
    }
}

closed_set! {
    /// A built-in runner, as a binding names it (`runner codex_cli`).
    RunnerKind {
        /// Codex CLI, `codex exec --json`.
        CodexCli = "codex_cli",
        /// pi in RPC mode.
        PiRpc = "pi_rpc",
        /// Claude Code in print mode.
        ClaudeCode = "claude_code",
        /// Any program speaking the command-runner protocol.
        Command = "command",
        /// Answers from a script file; no process.
        Script = "script",
    }
}

closed_set! {
    /// A stage the runtime runs itself, with no runner (`builtin merge_gate`).
    Builtin {
        /// Rebases a lane's task branch onto the target branch, runs the
        /// merge check and moves the target (docs/lanes.md, "The merge gate").
        MergeGate = "merge_gate",
    }
}

/// What a builtin node's plan names as its runner: no runner runs it.
pub const BUILTIN_RUNNER: &str = "builtin";

/// The outcome every stage kind has, whether declared or not.
pub const BLOCKED: &str = "BLOCKED";

/// The most lanes a plane may run (a mode's `lanes`, `millrace.toml`'s
/// `[lanes]`): beyond it the agents' sessions, not the lanes, are the
/// limit, and every lane holds a worktree on disk.
pub const MAX_LANES: u64 = 16;

impl Family {
    /// The plane whose loop takes items of this family.
    pub fn plane(self) -> Plane {
        match self {
            Family::Task => Plane::Execution,
            Family::LearningRequest => Plane::Learning,
            _ => Plane::Planning,
        }
    }

    /// The lifecycle states this family has.
    pub fn states(self) -> &'static [LifecycleState] {
        use LifecycleState::*;
        match self {
            Family::BlueprintDraft => &[Queued, Active, Done, Blocked, Canceled, Superseded],
            _ => &[Queued, Active, Done, Blocked],
        }
    }
}

impl ResultClass {
    /// Whether a final of this class finishes its item (`done/`) rather
    /// than blocking it.
    pub fn finishes(self) -> bool {
        matches!(self, ResultClass::Success | ResultClass::NoOp)
    }
}

pub mod capability;
