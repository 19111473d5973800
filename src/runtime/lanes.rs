//! Execution lanes in the engine (docs/lanes.md): how many lanes are in
//! effect, the worktree each lane's task works in, and the merge gate's
//! turn. With one lane this part does nothing: no worktree, no branch, and
//! a merge node passes at once, since the work is in the main checkout.
//!
//! Every git call here waits for `git`; the merge gate, the long one, runs
//! on the blocking pool, one merge at a time in the order lanes reach it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::runners::{FailureClass, RunnerExit, RunnerResult};
use crate::workspace::WorkspacePaths;
use crate::workspace::lane_count::LaneCount;
use crate::workspace::worktrees::{
    MergeCheck, MergeOutcome, MergeRequest, Repository, WorktreeError, WorktreeManager,
};

/// The lanes of the execution plane.
pub struct Lanes {
    count: u16,
    /// Present when more than one lane is in effect.
    worktrees: Option<LaneRepository>,
    /// Held by the merge in progress; tokio's mutex is fair, so lanes
    /// merge in the order they reached the gate.
    merge_turn: Arc<tokio::sync::Mutex<()>>,
}

/// The repository lanes work in and branch from.
#[derive(Clone)]
struct LaneRepository {
    repository: Repository,
    manager: WorktreeManager,
    target: String,
    check: Option<MergeCheck>,
    /// Where the workspace root is inside the repository (empty when it is
    /// the repository's top folder): an agent in a lane works in the same
    /// place of its worktree as it would of the main checkout.
    subdir: PathBuf,
}

/// What the merge gate is asked: the task and its title for the commit of
/// what the agents left uncommitted.
pub struct MergeAsk {
    pub task_id: String,
    pub title: String,
    /// Where the gate writes its report (the stage's result artifact).
    pub report: PathBuf,
}

impl Lanes {
    /// One lane: today's behaviour.
    pub fn single() -> Lanes {
        Lanes {
            count: 1,
            worktrees: None,
            merge_turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// `requested` lanes where the workspace allows them (see
    /// [`LaneCount`]), and how many that is, for the monitor.
    pub fn open(
        paths: &WorkspacePaths,
        requested: u64,
        check: Option<MergeCheck>,
    ) -> (Lanes, LaneCount) {
        let mut count = LaneCount::decide(paths.root(), requested);
        if count.effective <= 1 {
            return (Lanes::single(), count);
        }
        match LaneRepository::open(paths, check) {
            Ok(worktrees) => {
                let lanes = Lanes {
                    count: u16::try_from(count.effective).unwrap_or(u16::MAX),
                    worktrees: Some(worktrees),
                    ..Lanes::single()
                };
                (lanes, count)
            }
            Err(error) => {
                count.effective = 1;
                count.reason = Some(error.to_string());
                (Lanes::single(), count)
            }
        }
    }

    /// How many lanes are in effect.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// The branch lanes merge into, when lanes are in effect.
    pub fn target(&self) -> Option<&str> {
        self.worktrees.as_ref().map(|w| w.target.as_str())
    }

    /// The working directory of `task_id`'s stages: its worktree, made (or
    /// remade from its branch after a crash) when missing; `None` with one
    /// lane, where stages work in the workspace root.
    pub fn workdir(&self, task_id: &str) -> Result<Option<PathBuf>, WorktreeError> {
        let Some(lanes) = &self.worktrees else {
            return Ok(None);
        };
        let manager = &lanes.manager;
        let worktree = if manager.branches()?.contains(task_id) {
            manager.adopt(task_id)?
        } else {
            // No branch: nothing of the task was kept; a folder left by a
            // `worktree add` killed early goes first.
            manager.remove(task_id)?;
            manager.create(task_id)?
        };
        Ok(Some(worktree.path.join(&lanes.subdir)))
    }

    /// Removes what no task needs any more: the worktree, stray folder and
    /// branch of every task id for which `keep` says no. A task that may
    /// run again (queued, active, blocked) keeps its worktree with what
    /// its agents left there; a done, cancelled or superseded one (or an
    /// id no task has) keeps nothing. Returns the ids cleaned.
    pub fn sweep(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, WorktreeError> {
        let Some(lanes) = &self.worktrees else {
            return Ok(Vec::new());
        };
        let leftovers = lanes.manager.leftovers(|id| keep(id))?;
        for leftover in &leftovers {
            lanes.manager.remove(&leftover.task_id)?;
        }
        Ok(leftovers.into_iter().map(|l| l.task_id).collect())
    }

    /// The merge gate for one task, as a stage's runner answer: waits for
    /// its turn, then merges on the blocking pool. With one lane it passes.
    pub fn merge(&self, ask: MergeAsk) -> impl Future<Output = RunnerResult> + Send + 'static {
        let lanes = self.worktrees.clone();
        let turn = self.merge_turn.clone();
        async move {
            let started = std::time::Instant::now();
            let Some(lanes) = lanes else {
                return answer(
                    started,
                    "One lane: the work is in the main checkout.",
                    "MERGED",
                );
            };
            let _turn = turn.lock_owned().await;
            let merged = tokio::task::spawn_blocking(move || lanes.merge(&ask)).await;
            match merged {
                Ok(Ok((text, marker))) => answer(started, &text, marker),
                Ok(Err(error)) => failed(started, &error),
                Err(error) => {
                    let message = format!("merge gate: the merge gate stopped: {error}");
                    failure(started, FailureClass::LaneWorktreeFailure, message)
                }
            }
        }
    }
}

/// What became of a task's lane when a restart has one lane.
pub enum Homecoming {
    /// Its branch's work is now on the target; worktree and branch are gone.
    Merged { commit: String },
    /// Its branch could not be merged; it is kept for the operator.
    Kept { reason: String },
}

/// With one lane in effect, a task that ran in a lane before the restart (a
/// mode with fewer lanes, `[lanes] execution = 1`) goes on in the main
/// checkout: first its branch's work is merged into the branch checked out
/// there, as the gate would, without the merge check (the work is not
/// finished). Tasks with no lane branch, or a workspace outside git, are
/// left out; with no lanes folder (lanes never ran) git is not asked.
pub fn bring_home(paths: &WorkspacePaths, tasks: &[(String, String)]) -> Vec<(String, Homecoming)> {
    if tasks.is_empty() || !paths.lanes_dir().is_dir() {
        return Vec::new();
    }
    match LaneRepository::open(paths, None) {
        Ok(lanes) => lanes.bring_tasks_home(tasks),
        Err(error) => kept_away(paths, tasks, &error),
    }
}

/// No branch to merge into (a detached HEAD): each task with a lane
/// branch keeps it, and says why (it went on without its work in silence).
fn kept_away(
    paths: &WorkspacePaths,
    tasks: &[(String, String)],
    error: &WorktreeError,
) -> Vec<(String, Homecoming)> {
    let branches = Repository::discover(paths.root())
        .and_then(|repo| WorktreeManager::open(&repo, &paths.lanes_dir(), "")?.branches());
    let Ok(branches) = branches else {
        return Vec::new();
    };
    let away = tasks.iter().filter(|(id, _)| branches.contains(id));
    let reason = || error.to_string();
    away.map(|(id, _)| (id.clone(), Homecoming::Kept { reason: reason() }))
        .collect()
}

impl LaneRepository {
    fn bring_tasks_home(&self, tasks: &[(String, String)]) -> Vec<(String, Homecoming)> {
        let Ok(branches) = self.manager.branches() else {
            return Vec::new();
        };
        let away = tasks.iter().filter(|(id, _)| branches.contains(id));
        away.map(|(id, title)| (id.clone(), self.homecoming(id, title)))
            .collect()
    }

    fn homecoming(&self, task_id: &str, title: &str) -> Homecoming {
        match self.merge_home(task_id, title) {
            Ok(MergeOutcome::Merged { commit } | MergeOutcome::AlreadyMerged { commit }) => {
                match self.manager.remove(task_id) {
                    Ok(()) => Homecoming::Merged { commit },
                    Err(error) => Homecoming::Kept {
                        reason: format!("its work was merged at {commit}, but: {error}"),
                    },
                }
            }
            Ok(outcome) => Homecoming::Kept {
                reason: describe(task_id, &self.target, &outcome).0,
            },
            Err(error) => Homecoming::Kept {
                reason: error.to_string(),
            },
        }
    }

    fn merge_home(&self, task_id: &str, title: &str) -> Result<MergeOutcome, WorktreeError> {
        let worktree = self.manager.adopt(task_id)?.path;
        let check_dir = worktree.join(&self.subdir);
        self.repository.merge_lane(&MergeRequest {
            task_id,
            title,
            worktree: &worktree,
            target_branch: &self.target,
            check: None,
            check_dir: &check_dir,
        })
    }

    fn open(paths: &WorkspacePaths, check: Option<MergeCheck>) -> Result<Self, WorktreeError> {
        let repository = Repository::discover(paths.root())?;
        let target = repository.current_branch()?;
        let manager = WorktreeManager::open(&repository, &paths.lanes_dir(), &target)?;
        let subdir = repository.relative_path(paths.root())?;
        Ok(LaneRepository {
            repository,
            manager,
            target,
            check,
            subdir,
        })
    }

    /// Merges the task's branch; the report text and the outcome marker.
    fn merge(&self, ask: &MergeAsk) -> Result<(String, &'static str), WorktreeError> {
        let worktree = self.manager.path_of(&ask.task_id);
        let check_dir = worktree.join(&self.subdir);
        let request = MergeRequest {
            task_id: &ask.task_id,
            title: &ask.title,
            worktree: &worktree,
            target_branch: &self.target,
            check: self.check.as_ref(),
            check_dir: &check_dir,
        };
        let outcome = self.repository.merge_lane(&request)?;
        let (text, marker) = describe(&ask.task_id, &self.target, &outcome);
        write_report(&ask.report, &text);
        Ok((text, marker))
    }
}

/// The gate's report and marker for an outcome.
fn describe(task_id: &str, target: &str, outcome: &MergeOutcome) -> (String, &'static str) {
    match outcome {
        MergeOutcome::Merged { commit } => (
            format!("Merged {task_id} into {target} at {commit}."),
            "MERGED",
        ),
        MergeOutcome::AlreadyMerged { commit } => (
            format!("{task_id} was already merged into {target} (at {commit})."),
            "MERGED",
        ),
        MergeOutcome::Conflict { paths, detail } => (
            format!(
                "Rebasing {task_id} onto {target} conflicts in:\n{}\n\n{detail}\n\nResolve the conflict on this branch so that it rebases cleanly onto {target}.",
                bullet_list(paths)
            ),
            "MERGE_CONFLICT",
        ),
        MergeOutcome::CheckFailed {
            log_tail,
            code,
            timed_out,
        } => (
            format!(
                "The merge check failed on {task_id} rebased onto {target} ({}):\n\n{log_tail}",
                check_ending(*code, *timed_out)
            ),
            "CHECK_FAILED",
        ),
    }
}

fn check_ending(code: Option<i32>, timed_out: bool) -> String {
    match (timed_out, code) {
        (true, _) => "killed at its timeout".to_string(),
        (false, Some(code)) => format!("exit {code}"),
        (false, None) => "killed by a signal".to_string(),
    }
}

fn bullet_list(items: &[String]) -> String {
    let lines: Vec<String> = items.iter().map(|p| format!("- {p}")).collect();
    lines.join("\n")
}

/// The report is evidence beside the stage result; a report that cannot
/// be written does not undo a merge (the answer carries the same text).
fn write_report(path: &Path, text: &str) {
    let _ = std::fs::write(path, format!("{text}\n"));
}

fn answer(started: std::time::Instant, text: &str, marker: &str) -> RunnerResult {
    RunnerResult {
        exit: RunnerExit::Completed { code: 0 },
        last_message: Some(format!("{text}\n\n### {marker}\n")),
        tokens: None,
        duration_ms: elapsed_ms(started),
        artifacts: Vec::new(),
    }
}

fn failed(started: std::time::Instant, error: &WorktreeError) -> RunnerResult {
    failure(
        started,
        failure_class(error),
        format!("merge gate: {error}"),
    )
}

/// How a lane's git failure is answered: retried when time may mend it,
/// blocked at once when only the operator can.
pub fn failure_class(error: &WorktreeError) -> FailureClass {
    if error.passes_with_time() {
        FailureClass::LaneWorktreeFailure
    } else {
        FailureClass::LaneWorktreeInvalid
    }
}

fn failure(started: std::time::Instant, class: FailureClass, message: String) -> RunnerResult {
    RunnerResult {
        exit: RunnerExit::Failed { class, message },
        last_message: None,
        tokens: None,
        duration_ms: elapsed_ms(started),
        artifacts: Vec::new(),
    }
}

fn elapsed_ms(started: std::time::Instant) -> u64 {
    started.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn a_workspace_in_a_subfolder_works_in_the_same_subfolder_of_its_worktree() {
        let dir = tempfile::tempdir().expect("temp dir");
        let project = dir.path().join("project");
        std::fs::create_dir_all(&project).expect("mkdir");
        std::fs::write(project.join("a.txt"), "a\n").expect("write");
        git(dir.path(), &["init", "-q", "-b", "main"]);
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "init"]);
        let paths = WorkspacePaths::new(&project);
        let (lanes, count) = Lanes::open(&paths, 2, None);
        assert_eq!(count.effective, 2, "{:?}", count.reason);
        let workdir = lanes.workdir("t1").expect("workdir").expect("a lane");
        assert!(
            workdir.ends_with("lanes/t1/project"),
            "{}",
            workdir.display()
        );
        assert!(workdir.join("a.txt").is_file());
    }
}
