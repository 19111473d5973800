//! Where everything lives under `<workspace>/millrace-agents/`, and making the layout.

use std::io;
use std::path::{Path, PathBuf};

use super::family::{Family, LifecycleState, Plane};

/// The name of the runtime's directory inside a workspace.
pub const AGENTS_DIR: &str = "millrace-agents";

/// Directories (relative to `millrace-agents/`) besides the family lifecycle dirs.
const FIXED_DIRS: &[&str] = &[
    "state",
    "state/mailbox/incoming",
    "state/mailbox/processed",
    "state/mailbox/failed",
    "state/compiled_plans",
    "runs",
    "logs",
    "blueprints/manifests",
    "blueprints/packets/candidates",
    "blueprints/packets/approved",
    "blueprints/packets/rejected",
    "blueprints/critiques/open",
    "blueprints/critiques/resolved",
    "blueprints/evaluations",
    "blueprints/promotions",
    "arbiter/targets",
    "arbiter/contracts/ideas",
    "arbiter/contracts/root-specs",
    "arbiter/rubrics",
    "arbiter/verdicts",
    "arbiter/reports",
    "intake/ideas",
    "recon/packets",
    "recon/reports",
    "diagnostics/blocked",
    "diagnostics/auto-recovery",
    "learning/research-packets",
    "learning/skill-candidates",
    "learning/update-candidates/deferred",
    "learning/update-candidates/applied",
    "learning/update-candidates/rejected",
    "loops",
    "modes",
    "entrypoints",
    "skills",
];

/// The paths of one workspace. Cheap to clone; does no I/O until asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspacePaths {
    root: PathBuf,
    agents: PathBuf,
}

/// A mailbox folder under `state/mailbox/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxDir {
    /// Commands waiting to be applied.
    Incoming,
    /// Applied commands, archived.
    Processed,
    /// Commands that failed, archived with the error.
    Failed,
}

impl WorkspacePaths {
    /// Paths for the workspace rooted at `root` (the directory holding `millrace-agents/`).
    pub fn new(root: impl Into<PathBuf>) -> WorkspacePaths {
        let root = root.into();
        let agents = root.join(AGENTS_DIR);
        WorkspacePaths { root, agents }
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<workspace>/millrace-agents/`.
    pub fn agents_dir(&self) -> &Path {
        &self.agents
    }

    /// `millrace-agents/millrace.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.agents.join("millrace.toml")
    }

    /// `millrace-agents/state/`.
    pub fn state_dir(&self) -> PathBuf {
        self.agents.join("state")
    }

    /// `state/runtime_snapshot.json`.
    pub fn snapshot_file(&self) -> PathBuf {
        self.state_dir().join("runtime_snapshot.json")
    }

    /// `state/budget_counters.json`: per-item budget counters.
    pub fn counters_file(&self) -> PathBuf {
        self.state_dir().join("budget_counters.json")
    }

    /// `state/<plane>_status.md`: the plane's one-line status marker.
    pub fn status_file(&self, plane: Plane) -> PathBuf {
        self.state_dir()
            .join(format!("{}_status.md", plane.as_str()))
    }

    /// `state/runtime_daemon.lock.json`: the ownership lock.
    pub fn lock_file(&self) -> PathBuf {
        self.state_dir().join("runtime_daemon.lock.json")
    }

    /// `state/compiled_plan.json`: the frozen plan.
    pub fn compiled_plan_file(&self) -> PathBuf {
        self.state_dir().join("compiled_plan.json")
    }

    /// `state/compiled_plans/`: archived plans by id.
    pub fn compiled_plans_dir(&self) -> PathBuf {
        self.state_dir().join("compiled_plans")
    }

    /// A folder of `state/mailbox/`.
    pub fn mailbox_dir(&self, which: MailboxDir) -> PathBuf {
        let name = match which {
            MailboxDir::Incoming => "incoming",
            MailboxDir::Processed => "processed",
            MailboxDir::Failed => "failed",
        };
        self.state_dir().join("mailbox").join(name)
    }

    /// `millrace-agents/runs/`.
    pub fn runs_dir(&self) -> PathBuf {
        self.agents.join("runs")
    }

    /// `runs/<run_id>/`.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.runs_dir().join(run_id)
    }

    /// `millrace-agents/lanes/`: one git worktree per running task when the
    /// execution plane has lanes. Not part of the layout `init` makes: the
    /// worktree manager makes it on first use, with a `.gitignore` of `*`
    /// so the main checkout's status stays clean.
    pub fn lanes_dir(&self) -> PathBuf {
        self.agents.join("lanes")
    }

    /// `millrace-agents/logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.agents.join("logs")
    }

    /// `logs/runtime_events.jsonl`: the event journal.
    pub fn events_file(&self) -> PathBuf {
        self.logs_dir().join("runtime_events.jsonl")
    }

    /// The family's root directory (`tasks/`, `learning/requests/`).
    pub fn family_dir(&self, family: Family) -> PathBuf {
        self.agents.join(family.dir())
    }

    /// The directory of one lifecycle state (`tasks/queue/`, `incidents/incoming/`).
    pub fn lifecycle_dir(&self, family: Family, state: LifecycleState) -> PathBuf {
        self.family_dir(family).join(state.dir_name(family))
    }

    /// The document path of item `id` in `state` (`tasks/queue/<id>.md`).
    pub fn item_path(&self, family: Family, state: LifecycleState, id: &str) -> PathBuf {
        let file = format!("{id}.{}", family.extension());
        self.lifecycle_dir(family, state).join(file)
    }

    /// `<workspace>/ideas/inbox/`: where operators drop idea files.
    pub fn ideas_inbox(&self) -> PathBuf {
        self.root.join("ideas").join("inbox")
    }

    /// `intake/ideas/`: durable copies of normalized ideas.
    pub fn intake_ideas_dir(&self) -> PathBuf {
        self.agents.join("intake").join("ideas")
    }

    /// `arbiter/`: the closure records (the reference's name for the folder
    /// of its closure stage): targets, frozen contracts, rubrics, verdicts
    /// and reports. The runtime asks for them by what they are.
    fn closure_dir(&self) -> PathBuf {
        self.agents.join("arbiter")
    }

    /// `arbiter/targets/`: closure targets by root spec id.
    pub fn closure_targets_dir(&self) -> PathBuf {
        self.closure_dir().join("targets")
    }

    /// `arbiter/targets/<root>.json`: the closure target of a root spec.
    pub fn closure_target(&self, root_spec_id: &str) -> PathBuf {
        self.closure_targets_dir()
            .join(format!("{root_spec_id}.json"))
    }

    /// `arbiter/contracts/ideas/` or `arbiter/contracts/root-specs/`.
    pub fn closure_contracts_dir(&self, ideas: bool) -> PathBuf {
        let leaf = if ideas { "ideas" } else { "root-specs" };
        self.closure_dir().join("contracts").join(leaf)
    }

    /// `arbiter/diagnostics/`: lineage drift findings and repair reports.
    pub fn closure_diagnostics_dir(&self) -> PathBuf {
        self.closure_dir().join("diagnostics")
    }

    /// `arbiter/rubrics/<root>.md`: what the closure stage judges against.
    pub fn closure_rubric(&self, root_spec_id: &str) -> PathBuf {
        self.closure_dir()
            .join("rubrics")
            .join(format!("{root_spec_id}.md"))
    }

    /// `arbiter/verdicts/<root>.json`: the closure stage's latest verdict.
    pub fn closure_verdict(&self, root_spec_id: &str) -> PathBuf {
        self.closure_dir()
            .join("verdicts")
            .join(format!("{root_spec_id}.json"))
    }

    /// `arbiter/reports/<run_id>.md`: one closure run's report.
    pub fn closure_report(&self, run_id: &str) -> PathBuf {
        self.closure_dir()
            .join("reports")
            .join(format!("{run_id}.md"))
    }

    /// `diagnostics/blocked/`: metadata of blocked items.
    pub fn blocked_diagnostics_dir(&self) -> PathBuf {
        self.agents.join("diagnostics").join("blocked")
    }

    /// `recon/packets/`.
    pub fn recon_packets_dir(&self) -> PathBuf {
        self.agents.join("recon").join("packets")
    }

    /// `millrace-agents/loops/`: the workspace's `.loop` sources.
    pub fn loops_dir(&self) -> PathBuf {
        self.agents.join("loops")
    }

    /// `millrace-agents/modes/`.
    pub fn modes_dir(&self) -> PathBuf {
        self.agents.join("modes")
    }

    /// `millrace-agents/entrypoints/`: stage prompts.
    pub fn entrypoints_dir(&self) -> PathBuf {
        self.agents.join("entrypoints")
    }

    /// `millrace-agents/skills/`.
    pub fn skills_dir(&self) -> PathBuf {
        self.agents.join("skills")
    }

    /// `learning/skill-candidates/`: candidate packages, by skill id, that
    /// `skills promote` installs.
    pub fn skill_candidates_dir(&self) -> PathBuf {
        self.agents.join("learning").join("skill-candidates")
    }

    /// `learning/update-candidates/<state>/`: curator decisions by state
    /// (`deferred`, `applied`, `rejected`).
    pub fn update_candidates_dir(&self, state: &str) -> PathBuf {
        self.agents
            .join("learning")
            .join("update-candidates")
            .join(state)
    }

    /// Every directory of the layout, parents before children.
    pub fn all_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.agents.clone()];
        dirs.extend(FIXED_DIRS.iter().map(|dir| self.agents.join(dir)));
        for family in Family::ALL {
            dirs.extend(
                family
                    .states()
                    .iter()
                    .map(|state| self.lifecycle_dir(family, *state)),
            );
        }
        dirs.push(self.ideas_inbox());
        dirs
    }

    /// Creates every directory of the layout. Idempotent: existing ones are kept.
    pub fn create_layout(&self) -> io::Result<()> {
        self.all_dirs().iter().try_for_each(std::fs::create_dir_all)
    }

    /// The directories [`WorkspacePaths::create_layout`] would create that are missing.
    pub fn missing_dirs(&self) -> Vec<PathBuf> {
        self.all_dirs()
            .into_iter()
            .filter(|dir| !dir.is_dir())
            .collect()
    }

    /// True when the layout exists and `millrace.toml` is present (what `init` makes).
    pub fn is_initialized(&self) -> bool {
        let core = [
            self.state_dir(),
            self.lifecycle_dir(Family::Task, LifecycleState::Queued),
            self.lifecycle_dir(Family::Spec, LifecycleState::Queued),
            self.lifecycle_dir(Family::Probe, LifecycleState::Queued),
            self.lifecycle_dir(Family::Incident, LifecycleState::Queued),
            self.lifecycle_dir(Family::LearningRequest, LifecycleState::Queued),
            self.entrypoints_dir(),
            self.skills_dir(),
        ];
        core.iter().all(|dir| dir.is_dir()) && self.config_file().is_file()
    }
}
