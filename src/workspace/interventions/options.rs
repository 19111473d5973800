//! The options an operator gives an intervention: what superseding a task
//! does to the tasks that depend on it, and how far a retry goes without
//! `--force`.

use std::fmt;

use super::error::InterventionError;

/// What `supersede_task` does to queued tasks that depend on the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cascade {
    /// Leave them (they wait for a task that will never be done).
    None,
    /// Rewrite their `Depends-On` from the old task to the replacement.
    Retarget,
    /// Cancel them too.
    Cancel,
}

impl Cascade {
    /// `none`, `retarget` or `cancel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cascade::None => "none",
            Cascade::Retarget => "retarget",
            Cascade::Cancel => "cancel",
        }
    }

    /// Parses `none`, `retarget` or `cancel`.
    pub fn parse(text: &str) -> Result<Cascade, InterventionError> {
        match text {
            "none" => Ok(Cascade::None),
            "retarget" => Ok(Cascade::Retarget),
            "cancel" => Ok(Cascade::Cancel),
            other => Err(InterventionError::BadCascade(other.to_string())),
        }
    }
}

impl fmt::Display for Cascade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits of `retry_blocked` without `force` (from `[auto_recovery]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Automatic requeues an item may have had and still be retried.
    pub max_auto_requeues: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_auto_requeues: 3,
        }
    }
}
