//! The retention policy of run folders: how many are kept, and for how long.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::workspace::config::RunsConfig;

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

/// The limits past which a finished run's folder is removed; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    /// Keep at most this many run folders, newest first.
    pub keep_last: Option<u64>,
    /// Remove run folders untouched for more than this many days.
    pub keep_days: Option<u64>,
}

impl RetentionPolicy {
    /// The policy `[runs]` sets (a 0 there is no limit).
    pub fn from_config(config: &RunsConfig) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: limit(config.keep_last),
            keep_days: limit(config.keep_days),
        }
    }

    /// This policy with the limits given replaced (`--keep-last`, `--keep-days`; 0 is no limit).
    pub fn overridden(self, keep_last: Option<u64>, keep_days: Option<u64>) -> RetentionPolicy {
        RetentionPolicy {
            keep_last: keep_last.map_or(self.keep_last, limit),
            keep_days: keep_days.map_or(self.keep_days, limit),
        }
    }

    /// True when neither limit is set: every run folder stays.
    pub fn keeps_everything(&self) -> bool {
        self.keep_last.is_none() && self.keep_days.is_none()
    }

    /// Whether the folder ranked `rank` (0 is the newest), last touched at
    /// `modified`, is past a limit at `now`.
    pub fn is_past(&self, rank: usize, modified: SystemTime, now: SystemTime) -> bool {
        let too_many = self
            .keep_last
            .is_some_and(|n| u64::try_from(rank).unwrap_or(u64::MAX) >= n);
        let too_old = self.keep_days.is_some_and(|days| {
            let age = now.duration_since(modified).unwrap_or(Duration::ZERO);
            age > Duration::from_secs(days.saturating_mul(SECONDS_PER_DAY))
        });
        too_many || too_old
    }
}

fn limit(value: u64) -> Option<u64> {
    (value > 0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(SECONDS_PER_DAY);

    fn policy(keep_last: u64, keep_days: u64) -> RetentionPolicy {
        RetentionPolicy::from_config(&RunsConfig {
            keep_last,
            keep_days,
        })
    }

    #[test]
    fn a_folder_is_past_the_limits_when_either_limit_says_so() {
        let now = SystemTime::now();
        let p = policy(2, 30);
        assert!(!p.is_past(1, now - DAY, now));
        assert!(p.is_past(2, now - DAY, now), "third newest");
        assert!(p.is_past(0, now - 31 * DAY, now), "older than 30 days");
        assert!(!p.is_past(0, now + DAY, now), "a clock ahead is age zero");
    }

    #[test]
    fn zero_is_no_limit_and_flags_override_the_config() {
        let now = SystemTime::now();
        assert!(policy(0, 0).keeps_everything());
        assert!(!policy(0, 30).is_past(5000, now, now));
        assert!(!policy(5, 0).is_past(0, now - 9999 * DAY, now));
        let p = policy(1000, 30).overridden(Some(0), Some(7));
        assert_eq!((p.keep_last, p.keep_days), (None, Some(7)));
        assert!(!policy(0, u64::MAX).is_past(0, SystemTime::UNIX_EPOCH, now));
    }
}
