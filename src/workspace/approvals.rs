//! Execution-capability approvals (`approvals/{pending,resolved}/<id>.json`
//! under `millrace-agents/`), with the reference's record fields: what is
//! asked (a grant of a capability), by which stage, for which work item,
//! and the operator's answer. A record is written whole (temp file, fsync,
//! rename) and moves from `pending/` to `resolved/` when answered, so a
//! gate and its answer survive a restart or a kill -9.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::{write_atomic_creating_parent, write_atomic_new};
use super::input::read_text;
use super::journal::RuntimeEvent;
use super::mailbox::MailboxCommand;
use super::timestamp::Timestamp;
pub use crate::vocab::capability::ApprovalStatus;
use crate::vocab::capability::{Capability, GateScope};

/// One approval record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub schema_version: String,
    pub kind: String,
    pub approval_id: String,
    pub status: ApprovalStatus,
    pub workspace_id: String,
    pub run_id: String,
    /// The stage start the gate held (the request it will run as).
    pub request_id: String,
    pub work_item_kind: Option<String>,
    pub work_item_id: Option<String>,
    pub plane: String,
    pub node_id: String,
    pub stage_kind_id: String,
    pub grant_id: String,
    pub capability_id: Capability,
    /// What one approval covers.
    pub gate_scope: GateScope,
    /// Why it is asked: the plan's decision and the level that made it.
    pub reason: String,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub decision_reason: Option<String>,
}

/// What a new gate asks for.
pub struct ApprovalAsk<'a> {
    pub run_id: &'a str,
    pub request_id: &'a str,
    /// The start of this stage a crash or stop interrupted, whose
    /// `stage`-scoped approval still covers its rerun.
    pub interrupted_request: Option<&'a str>,
    pub work_item: Option<(&'a str, &'a str)>,
    pub plane: &'a str,
    pub node: &'a str,
    pub stage_kind: &'a str,
    pub grant_id: &'a str,
    pub capability: Capability,
    pub scope: GateScope,
    pub reason: String,
}

impl Approval {
    /// A pending approval for `ask`.
    pub fn pending(ask: &ApprovalAsk<'_>, workspace_id: &str) -> Approval {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Approval {
            schema_version: "1.0".into(),
            kind: "execution_capability_approval".into(),
            approval_id: format!("approval-{}-{}", ask.grant_id, &suffix[..8]),
            status: ApprovalStatus::Pending,
            workspace_id: workspace_id.to_string(),
            run_id: ask.run_id.to_string(),
            request_id: ask.request_id.to_string(),
            work_item_kind: ask.work_item.map(|(kind, _)| kind.to_string()),
            work_item_id: ask.work_item.map(|(_, id)| id.to_string()),
            plane: ask.plane.to_string(),
            node_id: ask.node.to_string(),
            stage_kind_id: ask.stage_kind.to_string(),
            grant_id: ask.grant_id.to_string(),
            capability_id: ask.capability,
            gate_scope: ask.scope,
            reason: ask.reason.clone(),
            requested_by: "runtime".into(),
            decided_by: None,
            created_at: Timestamp::now(),
            decided_at: None,
            expires_at: None,
            decision_reason: None,
        }
    }

    /// Whether this answer covers `ask`: the same grant, and the same stage
    /// start, run or work item as its scope says.
    pub fn covers(&self, ask: &ApprovalAsk<'_>) -> bool {
        if self.grant_id != ask.grant_id {
            return false;
        }
        match self.gate_scope {
            GateScope::Stage => {
                self.request_id == ask.request_id
                    || Some(self.request_id.as_str()) == ask.interrupted_request
            }
            GateScope::Run => self.run_id == ask.run_id,
            // A stage with no work item (a closure target) has only its
            // run to be covered by: without it, each approval would be
            // followed by a new ask, for ever.
            GateScope::WorkItem => match ask.work_item {
                Some((kind, id)) => {
                    self.work_item_kind.as_deref() == Some(kind)
                        && self.work_item_id.as_deref() == Some(id)
                }
                None => self.work_item_id.is_none() && self.run_id == ask.run_id,
            },
        }
    }
}

/// Why an answer could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("approval not found: {0}")]
    NotFound(String),
    #[error("approval {id} is already {status}")]
    AlreadyResolved { id: String, status: ApprovalStatus },
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The approval records of a workspace.
pub struct ApprovalStore {
    root: PathBuf,
    workspace_id: String,
}

impl ApprovalStore {
    /// The store under `agents_dir` (`millrace-agents/`).
    pub fn new(agents_dir: &Path) -> ApprovalStore {
        let workspace = agents_dir.parent().unwrap_or(agents_dir);
        let workspace_id = workspace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ApprovalStore {
            root: agents_dir.join("approvals"),
            workspace_id,
        }
    }

    fn dir(&self, resolved: bool) -> PathBuf {
        self.root
            .join(if resolved { "resolved" } else { "pending" })
    }

    /// Pending approvals, then answered ones, each in id order; a record
    /// that does not parse is skipped (it names nothing to answer).
    pub fn list(&self) -> Vec<Approval> {
        let resolved = self.read_dir(true);
        let mut all = self.pending();
        // A pending record whose answer is written is left over from an
        // answer cut short: the answer stands.
        all.retain(|p| !resolved.iter().any(|r| r.approval_id == p.approval_id));
        all.extend(resolved);
        all
    }

    /// The pending approvals.
    pub fn pending(&self) -> Vec<Approval> {
        self.read_dir(false)
    }

    fn read_dir(&self, resolved: bool) -> Vec<Approval> {
        let Ok(entries) = std::fs::read_dir(self.dir(resolved)) else {
            return Vec::new();
        };
        // Read as any file others may put there: a FIFO, a link or a huge
        // file is skipped rather than blocking or filling memory.
        let mut found: Vec<Approval> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| serde_json::from_str(&read_text(&e.path()).ok()?).ok())
            .collect();
        found.sort_by(|a, b| a.approval_id.cmp(&b.approval_id));
        found
    }

    /// The approval of this id, pending or answered.
    pub fn find(&self, id: &str) -> Option<Approval> {
        self.list().into_iter().find(|a| a.approval_id == id)
    }

    /// The newest answer or pending ask covering `ask`.
    pub fn covering(&self, ask: &ApprovalAsk<'_>) -> Option<Approval> {
        let covering = self.list().into_iter().filter(|a| a.covers(ask));
        covering.max_by(|a, b| a.created_at.cmp(&b.created_at))
    }

    /// Records a new pending approval for `ask`.
    pub fn ask(&self, ask: &ApprovalAsk<'_>) -> io::Result<Approval> {
        let approval = Approval::pending(ask, &self.workspace_id);
        self.write_pending(&approval)?;
        Ok(approval)
    }

    /// Answers a pending approval: `approved` or `denied`, by whom and why.
    pub fn answer(
        &self,
        id: &str,
        status: ApprovalStatus,
        decided_by: &str,
        reason: &str,
    ) -> Result<Approval, ApprovalError> {
        let Some(mut approval) = self.find(id) else {
            return Err(ApprovalError::NotFound(id.to_string()));
        };
        if approval.status != ApprovalStatus::Pending {
            let status = approval.status;
            return Err(ApprovalError::AlreadyResolved {
                id: id.to_string(),
                status,
            });
        }
        approval.status = status;
        approval.decided_by = Some(decided_by.to_string());
        approval.decided_at = Some(Timestamp::now());
        approval.decision_reason = Some(reason.to_string());
        // Exactly one of two answers racing (two shells, no daemon) is
        // written; the other is told which one stands.
        if let Err(error) = self.write_answer(&approval) {
            return Err(match (error.kind(), self.resolved(id)) {
                (io::ErrorKind::AlreadyExists, Some(won)) => ApprovalError::AlreadyResolved {
                    id: id.to_string(),
                    status: won.status,
                },
                _ => ApprovalError::Io(error),
            });
        }
        match std::fs::remove_file(self.path(id, false)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error.into()),
            _ => Ok(approval),
        }
    }

    fn resolved(&self, id: &str) -> Option<Approval> {
        let text = read_text(&self.path(id, true)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn path(&self, id: &str, resolved: bool) -> PathBuf {
        self.dir(resolved).join(format!("{id}.json"))
    }

    fn bytes(approval: &Approval) -> io::Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(approval).map_err(io::Error::other)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    fn write_answer(&self, approval: &Approval) -> io::Result<()> {
        let path = self.path(&approval.approval_id, true);
        std::fs::create_dir_all(self.dir(true))?;
        write_atomic_new(&path, &Self::bytes(approval)?)
    }

    fn write_pending(&self, approval: &Approval) -> io::Result<()> {
        let path = self.path(&approval.approval_id, false);
        write_atomic_creating_parent(&path, &Self::bytes(approval)?)
    }
}

/// Applies an approve or deny command to the store under `agents_dir`
/// (directly, or by the daemon from its mailbox); `None` for other commands.
pub fn apply(
    agents_dir: &Path,
    command: &MailboxCommand,
    decided_by: &str,
) -> Option<(Result<String, ApprovalError>, Option<RuntimeEvent>)> {
    let (id, reason, status) = match command {
        MailboxCommand::ApproveExecutionCapability {
            approval_id,
            reason,
        } => (approval_id, reason, ApprovalStatus::Approved),
        MailboxCommand::DenyExecutionCapability {
            approval_id,
            reason,
        } => (approval_id, reason, ApprovalStatus::Denied),
        _ => return None,
    };
    let store = ApprovalStore::new(agents_dir);
    let answered = store.answer(id, status, decided_by, reason);
    let event = answered
        .as_ref()
        .ok()
        .map(|a| RuntimeEvent::ApprovalAnswered {
            approval_id: a.approval_id.clone(),
            status: a.status.to_string(),
            reason: reason.clone(),
        });
    let detail = answered.map(|a| {
        format!(
            "{} {} for {} of {}/{}",
            a.status, a.approval_id, a.capability_id, a.plane, a.node_id
        )
    });
    Some((detail, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask() -> ApprovalAsk<'static> {
        ApprovalAsk {
            run_id: "run-1",
            request_id: "request-1",
            interrupted_request: None,
            work_item: Some(("task", "t1")),
            plane: "execution",
            node: "checker",
            stage_kind: "checker",
            grant_id: "grant-checker-git-mutate",
            capability: Capability::GitMutate,
            scope: GateScope::Stage,
            reason: "asked".into(),
        }
    }

    /// A `work_item`-scoped gate on a closure target (no work item): its
    /// approval covers the next look at the gate instead of a new ask.
    #[test]
    fn a_work_item_gate_without_a_work_item_is_covered_by_its_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ApprovalStore::new(&dir.path().join("millrace-agents"));
        let mut first = ask();
        first.work_item = None;
        first.scope = GateScope::WorkItem;
        let asked = store.ask(&first).expect("ask");
        store
            .answer(&asked.approval_id, ApprovalStatus::Approved, "a", "yes")
            .expect("approve");
        let again = ApprovalAsk {
            request_id: "request-2",
            ..first
        };
        let covering = store.covering(&again).map(|a| a.status);
        assert_eq!(covering, Some(ApprovalStatus::Approved));
    }

    /// Two shells answering at once (no daemon): the second one to write
    /// still found the pending record, and must not overwrite the first.
    #[test]
    fn a_second_answer_racing_the_first_is_refused_not_written_over_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ApprovalStore::new(&dir.path().join("millrace-agents"));
        let asked = store.ask(&ask()).expect("ask");
        let id = asked.approval_id.as_str();
        let pending = std::fs::read(store.path(id, false)).expect("pending");
        store
            .answer(id, ApprovalStatus::Approved, "a", "yes")
            .expect("first answer");
        std::fs::write(store.path(id, false), pending).expect("seen by the second");
        let second = store.answer(id, ApprovalStatus::Denied, "b", "no");
        assert!(
            matches!(
                second,
                Err(ApprovalError::AlreadyResolved {
                    status: ApprovalStatus::Approved,
                    ..
                })
            ),
            "{second:?}"
        );
        let listed: Vec<ApprovalStatus> = store.list().iter().map(|a| a.status).collect();
        assert_eq!(listed, [ApprovalStatus::Approved]);
    }
}
