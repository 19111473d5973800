//! The merge gate's git side (docs/lanes.md, "The merge gate"): a lane's
//! branch becomes one commit, rebased onto the target branch, checked, and
//! the target moved to it by fast-forward only, so history stays linear
//! and the target only ever holds commits that passed the check.
//!
//! Every step can be repeated after a kill -9: an interrupted rebase is
//! aborted, a branch already in the target is reported, never merged twice.

use std::path::{Path, PathBuf};

use super::git::{WorktreeError, git, git_succeeds, git_yes_no};
use super::merge_check::MergeCheck;
use super::porcelain;
use super::{Repository, WorktreeManager};

/// How often the target may move under a merge (rebase, check, move again)
/// before the merge gives up with [`WorktreeError::TargetKeptMoving`].
pub const MOVE_ATTEMPTS: usize = 3;

/// Who commits when git has no identity configured (a daemon's user often
/// has none); a configured identity is always used instead.
const FALLBACK_IDENTITY: [&str; 4] = [
    "-c",
    "user.name=Millrace",
    "-c",
    "user.email=millrace@localhost",
];

/// One lane to merge.
#[derive(Debug, Clone, Copy)]
pub struct MergeRequest<'a> {
    pub task_id: &'a str,
    /// The task's title, for the commit message `<task-id>: <title>`.
    pub title: &'a str,
    /// The lane's worktree, on branch `millrace/<task-id>`.
    pub worktree: &'a Path,
    pub target_branch: &'a str,
    /// Run on the rebased commit; `None` passes.
    pub check: Option<&'a MergeCheck>,
    /// Where the check runs: the worktree's folder that matches the
    /// workspace root (the worktree itself, or `<worktree>/project` for a
    /// workspace at `repo/project`), as the agents worked there.
    pub check_dir: &'a Path,
}

/// What a merge did. Only `Merged` moved the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The target branch now points at `commit`, the task's one commit.
    Merged { commit: String },
    /// The branch's tip `commit` is already in the target (a merge that a
    /// kill -9 interrupted before it was journalled, a second call, or a
    /// task whose change the target already holds or that changed nothing).
    AlreadyMerged { commit: String },
    /// Rebasing onto the target conflicted in `paths`; the rebase was
    /// aborted and the worktree is back, clean, at the branch's tip.
    Conflict { paths: Vec<String>, detail: String },
    /// The check failed (or timed out) on the rebased commit; the target
    /// is untouched, the branch stays rebased.
    CheckFailed {
        log_tail: String,
        code: Option<i32>,
        timed_out: bool,
    },
}

impl Repository {
    /// Runs the merge gate for one lane (see the module doc). Callers run
    /// one merge at a time per repository, off their event loop.
    pub fn merge_lane(&self, request: &MergeRequest) -> Result<MergeOutcome, WorktreeError> {
        let lane = Lane::open(self, request)?;
        lane.abort_interrupted_rebase()?;
        lane.require_own_branch()?;
        lane.squash()?;
        for _ in 0..MOVE_ATTEMPTS {
            if let Some(outcome) = lane.attempt()? {
                return Ok(outcome);
            }
        }
        Err(WorktreeError::TargetKeptMoving {
            target: request.target_branch.to_string(),
            attempts: MOVE_ATTEMPTS,
        })
    }

    /// True when the task's branch tip is its merge commit (subject
    /// `<task-id>: ...`, which only the gate writes) and is in
    /// `target_branch`: the merge happened, even if a kill -9 came before
    /// it was journalled. Conservative: a branch the gate never squashed
    /// (say, killed before it committed the agents' work) answers false,
    /// and running [`Repository::merge_lane`] again is always safe.
    pub fn is_merged(&self, task_id: &str, target_branch: &str) -> Result<bool, WorktreeError> {
        let branch = WorktreeManager::branch_name(task_id)?;
        let branch_ref = format!("refs/heads/{branch}");
        if !ref_exists(&self.root, &branch_ref)? {
            return Err(WorktreeError::NoSuchBranch(branch));
        }
        let subject = git(&self.root, &["log", "-1", "--format=%s", &branch_ref])?;
        let target_ref = format!("refs/heads/{target_branch}");
        Ok(subject.starts_with(&format!("{task_id}: "))
            && is_ancestor(&self.root, &branch_ref, &target_ref)?)
    }
}

/// A merge in progress: the request, with its branch and the identity
/// flags its commits need.
struct Lane<'a> {
    repo: &'a Repository,
    request: &'a MergeRequest<'a>,
    branch: String,
    target_ref: String,
    identity: &'static [&'static str],
}

impl<'a> Lane<'a> {
    fn open(repo: &'a Repository, request: &'a MergeRequest) -> Result<Lane<'a>, WorktreeError> {
        let branch = WorktreeManager::branch_name(request.task_id)?;
        let target_ref = format!("refs/heads/{}", request.target_branch);
        if !ref_exists(&repo.root, &target_ref)? {
            return Err(WorktreeError::NoTargetBranch(request.target_branch.into()));
        }
        let identity = commit_identity(request.worktree)?;
        Ok(Lane {
            repo,
            request,
            branch,
            target_ref,
            identity,
        })
    }

    /// `git` in the worktree, its output trimmed.
    fn git(&self, args: &[&str]) -> Result<String, WorktreeError> {
        Ok(git(self.request.worktree, args)?.trim_end().to_string())
    }

    /// `git` in the worktree with the identity commits need.
    fn git_committing(&self, args: &[&str]) -> Result<String, WorktreeError> {
        let all: Vec<&str> = self.identity.iter().chain(args).copied().collect();
        self.git(&all)
    }

    /// One try at rebase, check and move; `None` when the target moved
    /// meanwhile and the merge must start over from its new tip.
    fn attempt(&self) -> Result<Option<MergeOutcome>, WorktreeError> {
        let old = self.target_tip()?;
        let tip = self.git(&["rev-parse", "HEAD"])?;
        if is_ancestor(self.request.worktree, &tip, &old)? {
            return Ok(Some(MergeOutcome::AlreadyMerged { commit: tip }));
        }
        if let Some(conflict) = self.rebase_onto(&old)? {
            return Ok(Some(conflict));
        }
        let new = self.git(&["rev-parse", "HEAD"])?;
        if new == old {
            // The rebase dropped the commit: the target already holds it.
            return Ok(Some(MergeOutcome::AlreadyMerged { commit: new }));
        }
        if let Some(failed) = self.run_check()? {
            return Ok(Some(failed));
        }
        let moved = self.move_target(&old, &new)?;
        Ok(moved.then_some(MergeOutcome::Merged { commit: new }))
    }

    fn target_tip(&self) -> Result<String, WorktreeError> {
        self.git(&["rev-parse", "--verify", &self.target_ref])
    }
}

/// Step 0 and 1: the worktree made whole again, the task made one commit.
impl Lane<'_> {
    /// A rebase a kill -9 interrupted is aborted, so the gate starts over.
    fn abort_interrupted_rebase(&self) -> Result<(), WorktreeError> {
        if self.rebase_in_progress()? {
            self.git(&["rebase", "--abort"])?;
        }
        Ok(())
    }

    fn rebase_in_progress(&self) -> Result<bool, WorktreeError> {
        for state in ["rebase-merge", "rebase-apply"] {
            let path = self.git(&["rev-parse", "--git-path", state])?;
            if self.request.worktree.join(path).is_dir() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// An agent that checked out another branch would have its work miss
    /// the merge; refused rather than guessed at.
    fn require_own_branch(&self) -> Result<(), WorktreeError> {
        let head = self.git(&["symbolic-ref", "--quiet", "--short", "HEAD"]);
        if head.ok().as_deref() != Some(self.branch.as_str()) {
            return Err(WorktreeError::LaneOffBranch {
                worktree: self.request.worktree.to_path_buf(),
                branch: self.branch.clone(),
            });
        }
        Ok(())
    }

    /// Everything the task changed since it left the target (the agents'
    /// commits and what they left uncommitted) becomes one commit
    /// `<task-id>: <title>`, so the target gets one commit per task and
    /// the rebase replays one change. Hooks are skipped (`--no-verify`):
    /// the merge check is the gate. Nothing changed makes no commit.
    fn squash(&self) -> Result<(), WorktreeError> {
        self.git(&["add", "--all"])?;
        let base = self.git(&["merge-base", "HEAD", &self.target_ref])?;
        if self.is_one_commit_of_ours(&base)? {
            return Ok(());
        }
        let range = format!("{base}..HEAD");
        let subjects = self.git(&["log", "--reverse", "--format=%s", &range])?;
        self.git(&["reset", "--soft", "--quiet", &base])?;
        if git_yes_no(self.request.worktree, &["diff", "--cached", "--quiet"])? {
            return Ok(());
        }
        let message = self.message(&subjects);
        self.git_committing(&["commit", "--no-verify", "--quiet", "-m", &message])?;
        Ok(())
    }

    /// True when the branch already is the squashed commit (a second run).
    fn is_one_commit_of_ours(&self, base: &str) -> Result<bool, WorktreeError> {
        let range = format!("{base}..HEAD");
        let unstaged = ["diff", "--cached", "--quiet", "HEAD"];
        Ok(self.git(&["rev-list", "--count", &range])? == "1"
            && self.git(&["log", "-1", "--format=%s"])? == self.subject()
            && git_yes_no(self.request.worktree, &unstaged)?)
    }

    fn subject(&self) -> String {
        format!("{}: {}", self.request.task_id, self.request.title)
    }

    /// The subject, and the agents' own commit subjects as its body.
    fn message(&self, agent_subjects: &str) -> String {
        let subject = self.subject();
        let listed: Vec<String> = agent_subjects
            .lines()
            .filter(|s| *s != subject)
            .map(|s| format!("- {s}"))
            .collect();
        match listed.is_empty() {
            true => subject,
            false => format!("{subject}\n\n{}", listed.join("\n")),
        }
    }
}

/// Steps 2 to 4: rebase, check, move the target.
impl Lane<'_> {
    /// Rebases the branch onto `onto`; on a conflict aborts and says where.
    fn rebase_onto(&self, onto: &str) -> Result<Option<MergeOutcome>, WorktreeError> {
        let failed = match self.git_committing(&["rebase", "--no-verify", "--quiet", onto]) {
            Ok(_) => return Ok(None),
            Err(WorktreeError::Git { stderr, .. }) => stderr,
            Err(other) => return Err(other),
        };
        if !self.rebase_in_progress()? {
            return Err(WorktreeError::Git {
                args: format!("rebase {onto}"),
                stderr: failed,
            });
        }
        let unmerged = self.git(&["diff", "--name-only", "--diff-filter=U"])?;
        self.git(&["rebase", "--abort"])?;
        Ok(Some(MergeOutcome::Conflict {
            paths: unmerged.lines().map(str::to_string).collect(),
            detail: without_hints(&failed),
        }))
    }

    fn run_check(&self) -> Result<Option<MergeOutcome>, WorktreeError> {
        let Some(check) = self.request.check else {
            return Ok(None);
        };
        let run = check.run(self.request.check_dir)?;
        Ok((!run.passed()).then_some(MergeOutcome::CheckFailed {
            log_tail: run.log_tail,
            code: run.code,
            timed_out: run.timed_out,
        }))
    }

    /// Moves the target from `old` to `new`; false when it no longer was
    /// at `old`. A checkout of the target (the main one, usually) is
    /// fast-forwarded so its files follow; otherwise the ref is swapped.
    fn move_target(&self, old: &str, new: &str) -> Result<bool, WorktreeError> {
        match self.target_checkout()? {
            Some(checkout) => self.fast_forward(&checkout, old, new),
            None => self.compare_and_swap(old, new),
        }
    }

    /// The worktree with the target branch checked out, if any.
    fn target_checkout(&self) -> Result<Option<PathBuf>, WorktreeError> {
        let text = git(&self.repo.root, &["worktree", "list", "--porcelain"])?;
        let target = Some(self.request.target_branch);
        let mut all = porcelain::parse(&text).into_iter();
        Ok(all.find(|w| w.branch.as_deref() == target).map(|w| w.path))
    }

    /// `git merge --ff-only` in the target's checkout: git updates its
    /// files and refuses to overwrite local changes (a typed error) or to
    /// move a target that gained other commits (false: start over).
    fn fast_forward(&self, checkout: &Path, old: &str, new: &str) -> Result<bool, WorktreeError> {
        if self.target_tip()? != old {
            return Ok(false);
        }
        let stderr = match git(checkout, &["merge", "--ff-only", "--quiet", new]) {
            Ok(_) => return Ok(true),
            Err(WorktreeError::Git { stderr, .. }) => stderr,
            Err(other) => return Err(other),
        };
        if stderr.contains("would be overwritten") {
            return Err(WorktreeError::TargetCheckoutDirty {
                target: self.request.target_branch.to_string(),
                checkout: checkout.to_path_buf(),
                paths: listed_paths(&stderr),
            });
        }
        if self.target_tip()? != old {
            return Ok(false);
        }
        let args = format!("merge --ff-only {new}");
        Err(WorktreeError::Git { args, stderr })
    }

    /// `git update-ref <target> <new> <old>`: moves only from `old`.
    fn compare_and_swap(&self, old: &str, new: &str) -> Result<bool, WorktreeError> {
        let reason = format!("millrace: merge {}", self.branch);
        let args = ["update-ref", "-m", &reason, &self.target_ref, new, old];
        match git(&self.repo.root, &args) {
            Ok(_) => Ok(true),
            Err(_) if self.target_tip()? != old => Ok(false),
            Err(error) => Err(error),
        }
    }
}

fn ref_exists(dir: &Path, reference: &str) -> Result<bool, WorktreeError> {
    git_yes_no(dir, &["show-ref", "--verify", "--quiet", reference])
}

/// True when commit `ancestor` is reachable from `descendant`.
fn is_ancestor(dir: &Path, ancestor: &str, descendant: &str) -> Result<bool, WorktreeError> {
    git_yes_no(dir, &["merge-base", "--is-ancestor", ancestor, descendant])
}

/// No flags when git knows who commits (as `git commit` would: a
/// configured or guessable identity); the fallback identity otherwise, so
/// a user without one never fails a merge.
fn commit_identity(dir: &Path) -> Result<&'static [&'static str], WorktreeError> {
    for who in ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"] {
        if !git_succeeds(dir, &["var", who])? {
            return Ok(&FALLBACK_IDENTITY);
        }
    }
    Ok(&[])
}

/// Git's message without its `hint:` lines.
fn without_hints(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("hint:")).collect();
    lines.join("\n")
}

/// The tab-indented paths of git's "would be overwritten" message.
fn listed_paths(stderr: &str) -> Vec<String> {
    let paths = stderr.lines().filter_map(|l| l.strip_prefix('\t'));
    paths.map(|p| p.trim().to_string()).collect()
}
