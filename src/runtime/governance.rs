//! Usage governance (off unless `[usage_governance] enabled = true`): token
//! rules over windows (rolling 5 h, calendar week, daemon session, per run)
//! evaluated between stages. A rule at its threshold adds the
//! `usage_governance` pause source; it is removed only when no rule blocks
//! any more (an operator's `resume` cannot clear it), by itself when
//! `auto_resume` is on.

use serde::{Deserialize, Serialize};
use time::{Duration as TimeDuration, OffsetDateTime};

use crate::workspace::atomic::{append_line, write_atomic};
use crate::workspace::config::{UsageGovernanceConfig, UsageRule, UsageWindow};
use crate::workspace::control::USAGE_GOVERNANCE_PAUSE as GOVERNANCE_SOURCE;
use crate::workspace::state::RuntimeSnapshot;
use crate::workspace::{Timestamp, WorkspacePaths};

/// One stage's tokens in `state/usage_governance_ledger.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub at: Timestamp,
    pub run_id: String,
    pub request_id: String,
    pub total_tokens: u64,
}

/// A rule that blocks, for the monitor, the journal and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocker {
    pub rule_id: String,
    pub window: String,
    pub observed: u64,
    pub threshold: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_auto_resume_at: Option<Timestamp>,
}

/// `state/usage_governance_state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GovernanceState {
    pub enabled: bool,
    pub auto_resume: bool,
    pub paused_by_governance: bool,
    pub active_blockers: Vec<Blocker>,
    pub evaluated_at: Timestamp,
}

/// What governance keeps in memory.
#[derive(Debug, Default)]
pub struct Governance {
    config: UsageGovernanceConfig,
    ledger: Vec<LedgerEntry>,
    session_started: Option<Timestamp>,
    blockers: Vec<Blocker>,
}

/// What a review between stages changed.
#[derive(Debug, Default)]
pub struct Review {
    /// The rules that paused the runtime just now (empty: no new pause).
    pub paused_by: Vec<Blocker>,
    /// The governance pause was lifted.
    pub resumed: bool,
    /// The blockers changed: the state file and the snapshot are to be written.
    pub changed: bool,
}

impl Governance {
    /// Loads the ledger (kept entries are at most eight days old).
    pub fn load(config: UsageGovernanceConfig, ledger_path: &std::path::Path) -> Governance {
        let horizon = OffsetDateTime::now_utc() - TimeDuration::days(8);
        let text = std::fs::read_to_string(ledger_path).unwrap_or_default();
        let ledger = text
            .lines()
            .filter_map(|l| serde_json::from_str::<LedgerEntry>(l).ok())
            .filter(|e| e.at.instant() >= horizon)
            .collect();
        Governance {
            config,
            ledger,
            session_started: Some(Timestamp::now()),
            blockers: Vec::new(),
        }
    }

    /// Tokens of the window and when the rule would clear by itself.
    fn observe(
        &self,
        rule: &UsageRule,
        current_run: Option<&str>,
    ) -> (u64, Option<OffsetDateTime>) {
        let now = OffsetDateTime::now_utc();
        let (since, clears) = match rule.window {
            UsageWindow::Rolling5h => (now - TimeDuration::hours(5), None),
            UsageWindow::CalendarWeek => {
                let monday = week_start(now);
                (monday, Some(monday + TimeDuration::weeks(1)))
            }
            UsageWindow::DaemonSession => (
                self.session_started
                    .as_ref()
                    .map_or(now, Timestamp::instant),
                None,
            ),
            UsageWindow::PerRun => (OffsetDateTime::UNIX_EPOCH, None),
        };
        let entries = self.ledger.iter().filter(|e| e.at.instant() >= since);
        let entries: Vec<&LedgerEntry> = match (rule.window, current_run) {
            (UsageWindow::PerRun, Some(run)) => entries.filter(|e| e.run_id == run).collect(),
            (UsageWindow::PerRun, None) => Vec::new(),
            _ => entries.collect(),
        };
        let observed = entries.iter().map(|e| e.total_tokens).sum();
        let clears = clears.or_else(|| rolling_clear(rule, &entries));
        (observed, clears)
    }

    /// The rules at or over their threshold now.
    pub fn evaluate(&self, current_run: Option<&str>) -> Vec<Blocker> {
        if !self.config.enabled {
            return Vec::new();
        }
        let mut blockers = Vec::new();
        for rule in &self.config.rules {
            let (observed, clears) = self.observe(rule, current_run);
            if observed >= rule.threshold {
                blockers.push(Blocker {
                    rule_id: rule.rule_id.clone(),
                    window: window_name(rule.window).into(),
                    observed,
                    threshold: rule.threshold,
                    next_auto_resume_at: clears.and_then(|t| {
                        Timestamp::parse(
                            &t.format(&time::format_description::well_known::Rfc3339)
                                .ok()?,
                        )
                    }),
                });
            }
        }
        blockers
    }
}

/// When a rolling window drops below its threshold: as the oldest entries age out.
fn rolling_clear(rule: &UsageRule, entries: &[&LedgerEntry]) -> Option<OffsetDateTime> {
    if rule.window != UsageWindow::Rolling5h {
        return None;
    }
    let mut remaining: u64 = entries.iter().map(|e| e.total_tokens).sum();
    for entry in entries {
        remaining = remaining.saturating_sub(entry.total_tokens);
        if remaining < rule.threshold {
            return Some(entry.at.instant() + TimeDuration::hours(5));
        }
    }
    None
}

fn week_start(now: OffsetDateTime) -> OffsetDateTime {
    let days = i64::from(now.weekday().number_days_from_monday());
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    midnight - TimeDuration::days(days)
}

fn window_name(window: UsageWindow) -> &'static str {
    match window {
        UsageWindow::Rolling5h => "rolling_5h",
        UsageWindow::CalendarWeek => "calendar_week",
        UsageWindow::DaemonSession => "daemon_session",
        UsageWindow::PerRun => "per_run",
    }
}

impl Governance {
    /// The rules from a reloaded `millrace.toml`.
    pub fn set_config(&mut self, config: UsageGovernanceConfig) {
        self.config = config;
    }

    /// Records a finished stage's tokens in memory and in the ledger file.
    pub fn record(
        &mut self,
        paths: &WorkspacePaths,
        run_id: &str,
        request_id: &str,
        total: u64,
    ) -> std::io::Result<()> {
        if !self.config.enabled || total == 0 {
            return Ok(());
        }
        let entry = LedgerEntry {
            at: Timestamp::now(),
            run_id: run_id.into(),
            request_id: request_id.into(),
            total_tokens: total,
        };
        let line = serde_json::to_string(&entry).unwrap_or_default();
        append_line(&ledger_path(paths), &line)?;
        self.ledger.push(entry);
        Ok(())
    }

    /// Pauses or resumes `snapshot` by the rules (between stages).
    pub fn review(&mut self, snapshot: &mut RuntimeSnapshot) -> Review {
        if !self.config.enabled {
            return Review::default();
        }
        let current = snapshot.runs().next().map(|(_, r)| r.run_id.clone());
        let blockers = self.evaluate(current.as_deref());
        let paused = snapshot
            .pause_sources
            .iter()
            .any(|s| s == GOVERNANCE_SOURCE);
        let mut review = Review::default();
        if !blockers.is_empty() && !paused {
            snapshot.pause(GOVERNANCE_SOURCE);
            review.paused_by = blockers.clone();
        } else if blockers.is_empty() && paused && self.config.auto_resume {
            snapshot.resume(GOVERNANCE_SOURCE);
            review.resumed = true;
        }
        review.changed = blockers != self.blockers;
        self.blockers = blockers;
        review
    }

    /// Writes `state/usage_governance_state.json`.
    pub fn save_state(&self, paths: &WorkspacePaths) -> std::io::Result<()> {
        let state = GovernanceState {
            enabled: self.config.enabled,
            auto_resume: self.config.auto_resume,
            paused_by_governance: !self.blockers.is_empty(),
            active_blockers: self.blockers.clone(),
            evaluated_at: Timestamp::now(),
        };
        let bytes = serde_json::to_vec_pretty(&state).unwrap_or_default();
        write_atomic(
            &paths.state_dir().join("usage_governance_state.json"),
            &bytes,
        )
    }
}

/// `state/usage_governance_ledger.jsonl`.
pub fn ledger_path(paths: &WorkspacePaths) -> std::path::PathBuf {
    paths.state_dir().join("usage_governance_ledger.jsonl")
}

impl Blocker {
    /// The monitor line of a rule that paused the runtime.
    pub fn line(&self) -> String {
        let next = self
            .next_auto_resume_at
            .as_ref()
            .map_or("none".into(), ToString::to_string);
        format!(
            "governance pause source=runtime_token rule={} window={} observed={} threshold={} next_resume={next}",
            self.rule_id, self.window, self.observed, self.threshold
        )
    }
}
