//! The merge gate against real temporary git repositories: the fixture's
//! repository is on `main`, checked out in its root (the main checkout).

use std::path::Path;
use std::time::Duration;

use super::{Fixture, fixture, run};
use crate::workspace::worktrees::git::test_env;
use crate::workspace::worktrees::{
    LaneWorktree, MergeCheck, MergeOutcome, MergeRequest, WorktreeError,
};

impl Fixture {
    fn repo(&self) -> crate::workspace::worktrees::Repository {
        crate::workspace::worktrees::Repository::discover(self.root()).expect("repo")
    }

    /// A lane for `task` whose agent wrote `files` and committed nothing.
    fn lane_writing(&self, task: &str, files: &[(&str, &str)]) -> LaneWorktree {
        let lane = self.manager.create(task).expect("create");
        for (name, text) in files {
            std::fs::write(lane.path.join(name), text).expect("write");
        }
        lane
    }

    fn merge(&self, task: &str, check: Option<&MergeCheck>) -> MergeOutcome {
        self.try_merge(task, check).expect("merge")
    }

    fn try_merge(
        &self,
        task: &str,
        check: Option<&MergeCheck>,
    ) -> Result<MergeOutcome, WorktreeError> {
        self.merge_checked_in(task, check, Path::new(""))
    }

    /// The merge with its check run in `subdir` of the worktree.
    fn merge_checked_in(
        &self,
        task: &str,
        check: Option<&MergeCheck>,
        subdir: &Path,
    ) -> Result<MergeOutcome, WorktreeError> {
        let worktree = self.manager.path_of(task);
        let check_dir = worktree.join(subdir);
        let title = format!("Title of {task}");
        let request = MergeRequest {
            task_id: task,
            title: &title,
            worktree: &worktree,
            target_branch: "main",
            check,
            check_dir: &check_dir,
        };
        self.repo().merge_lane(&request)
    }

    fn tip(&self, reference: &str) -> String {
        run(self.root(), &["rev-parse", reference])
            .trim()
            .to_string()
    }

    /// The subjects of `main`'s history, newest first.
    fn main_subjects(&self) -> Vec<String> {
        let text = run(self.root(), &["log", "--format=%s", "main"]);
        text.lines().map(str::to_string).collect()
    }

    fn assert_linear(&self) {
        let merges = run(self.root(), &["rev-list", "--merges", "main"]);
        assert_eq!(merges, "", "no merge commit on main");
    }
}

fn merged_commit(outcome: MergeOutcome) -> String {
    match outcome {
        MergeOutcome::Merged { commit } => commit,
        other => panic!("expected Merged, got {other:?}"),
    }
}

fn check(command: &str) -> MergeCheck {
    MergeCheck {
        command: command.to_string(),
        timeout: Duration::from_secs(60),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

fn status(dir: &Path) -> String {
    run(dir, &["status", "--porcelain"])
}

#[test]
fn a_lane_lands_as_one_commit_with_its_uncommitted_work() {
    let f = fixture();
    let lane = f.lane_writing("t1", &[("a.txt", "a\n")]);
    super::commit(&lane.path, "agent step one");
    std::fs::write(lane.path.join("b.txt"), "b\n").expect("write");
    super::commit(&lane.path, "agent step two");
    std::fs::write(lane.path.join("left.txt"), "uncommitted\n").expect("write");

    let commit = merged_commit(f.merge("t1", None));

    assert_eq!(f.tip("main"), commit);
    assert_eq!(f.tip("millrace/t1"), commit);
    assert_eq!(f.main_subjects(), ["t1: Title of t1", "first"]);
    let body = run(f.root(), &["log", "-1", "--format=%b", "main"]);
    assert_eq!(body.trim(), "- agent step one\n- agent step two");
    f.assert_linear();
    // The main checkout was fast-forwarded: its files are the task's.
    for file in ["a.txt", "b.txt", "left.txt"] {
        assert!(f.root().join(file).is_file(), "{file}");
    }
    assert_eq!(status(f.root()), "");
    assert_eq!(status(&lane.path), "");
}

#[test]
fn lanes_on_different_files_merge_one_after_the_other() {
    let f = fixture();
    f.lane_writing("t1", &[("one.txt", "1\n")]);
    f.lane_writing("t2", &[("two.txt", "2\n")]);
    let first = merged_commit(f.merge("t1", None));
    // The second check sees the first lane's file: it runs rebased.
    let both = check("test -f one.txt && test -f two.txt");
    let second = merged_commit(f.merge("t2", Some(&both)));
    assert_eq!(f.tip(&format!("{second}^")), first);
    assert_eq!(
        f.main_subjects(),
        ["t2: Title of t2", "t1: Title of t1", "first"]
    );
    f.assert_linear();
}

#[test]
fn lanes_changing_the_same_line_conflict_and_the_second_is_left_clean() {
    let f = fixture();
    f.lane_writing("t1", &[("README.md", "from t1\n")]);
    let t2 = f.lane_writing("t2", &[("README.md", "from t2\n")]);
    let first = merged_commit(f.merge("t1", None));

    let outcome = f.merge("t2", None);
    let MergeOutcome::Conflict { paths, detail } = outcome else {
        panic!("expected Conflict, got {outcome:?}");
    };
    assert_eq!(paths, ["README.md"]);
    assert!(detail.contains("could not apply"), "{detail}");
    assert_eq!(f.tip("main"), first, "the target is untouched");
    // No rebase in progress: on its branch, at its own commit, clean.
    let head = run(&t2.path, &["symbolic-ref", "--short", "HEAD"]);
    assert_eq!(head.trim(), "millrace/t2");
    assert_eq!(f.tip("millrace/t2^"), f.tip("main~1"));
    assert_eq!(status(&t2.path), "");
    assert_eq!(read(&t2.path.join("README.md")), "from t2\n");
}

#[test]
fn a_failing_check_leaves_the_target_where_it_was() {
    let f = fixture();
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    let before = f.tip("main");
    let failing = check("echo checking a.txt; cat a.txt; echo broken >&2; exit 3");
    let outcome = f.merge("t1", Some(&failing));
    let MergeOutcome::CheckFailed {
        log_tail,
        code,
        timed_out,
    } = outcome
    else {
        panic!("expected CheckFailed, got {outcome:?}");
    };
    assert_eq!(log_tail, "checking a.txt\na\nbroken\n");
    assert_eq!((code, timed_out), (Some(3), false));
    assert_eq!(f.tip("main"), before);
    assert!(!f.root().join("a.txt").exists());
}

#[test]
fn the_check_runs_in_the_folder_of_the_workspace_root() {
    let f = fixture();
    let lane = f.manager.create("t1").expect("create");
    std::fs::create_dir_all(lane.path.join("project")).expect("mkdir");
    std::fs::write(lane.path.join("project/Cargo.toml"), "x\n").expect("write");
    let in_project = check("test -f Cargo.toml");
    let outcome = f.merge_checked_in("t1", Some(&in_project), Path::new("project"));
    assert!(
        matches!(outcome, Ok(MergeOutcome::Merged { .. })),
        "{outcome:?}"
    );
}

#[test]
fn a_check_past_its_timeout_is_killed_with_what_it_started() {
    let f = fixture();
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    // The background `sleep` holds nothing open but would outlive `sh`
    // if only `sh` were killed; the group kill ends both, so this returns.
    let slow = MergeCheck {
        command: "echo started; sleep 600 & sleep 600".to_string(),
        timeout: Duration::from_millis(300),
    };
    let outcome = f.merge("t1", Some(&slow));
    let expected = MergeOutcome::CheckFailed {
        log_tail: "started\n".to_string(),
        code: None,
        timed_out: true,
    };
    assert_eq!(outcome, expected);
}

#[test]
fn the_log_tail_keeps_the_end_of_a_long_output() {
    let f = fixture();
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    let noisy = check("seq 1 100000; echo the end; exit 1");
    let MergeOutcome::CheckFailed { log_tail, .. } = f.merge("t1", Some(&noisy)) else {
        panic!("expected CheckFailed");
    };
    assert_eq!(
        log_tail.len() as u64,
        crate::workspace::worktrees::LOG_TAIL_BYTES
    );
    assert!(log_tail.ends_with("99999\n100000\nthe end\n"), "{log_tail}");
}

#[test]
fn an_interrupted_rebase_is_aborted_and_the_gate_runs_again() {
    let f = fixture();
    // A branch whose README conflicts with the lane's, unlike `main`.
    run(f.root(), &["branch", "side"]);
    run(f.root(), &["checkout", "--quiet", "side"]);
    std::fs::write(f.root().join("README.md"), "side\n").expect("write");
    super::commit(f.root(), "side");
    run(f.root(), &["checkout", "--quiet", "main"]);
    let lane = f.lane_writing("t1", &[("README.md", "lane\n")]);
    super::commit(&lane.path, "lane");
    // A rebase killed at its conflict: left in progress.
    let identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"];
    let interrupted = crate::workspace::worktrees::git::git(
        &lane.path,
        &[&identity[..], &["rebase", "side"]].concat(),
    );
    assert!(interrupted.is_err(), "the rebase stopped at its conflict");

    let commit = merged_commit(f.merge("t1", None));
    assert_eq!(f.tip("main"), commit);
    assert_eq!(f.main_subjects(), ["t1: Title of t1", "first"]);
    assert_eq!(read(&f.root().join("README.md")), "lane\n");
}

#[test]
fn merging_twice_reports_the_first_merge() {
    let f = fixture();
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    let repo = f.repo();
    // Its branch tip is still main's: not merged, its work is uncommitted.
    assert!(!repo.is_merged("t1", "main").expect("is_merged"));
    let commit = merged_commit(f.merge("t1", None));
    assert!(repo.is_merged("t1", "main").expect("is_merged"));
    assert_eq!(
        f.merge("t1", None),
        MergeOutcome::AlreadyMerged {
            commit: commit.clone()
        }
    );
    assert_eq!(f.tip("main"), commit);
    assert_eq!(f.main_subjects().len(), 2);
}

#[test]
fn a_branch_the_gate_has_not_squashed_is_not_merged() {
    let f = fixture();
    let lane = f.lane_writing("t1", &[("a.txt", "a\n")]);
    super::commit(&lane.path, "agent work");
    let repo = f.repo();
    assert!(!repo.is_merged("t1", "main").expect("is_merged"));
    // Even once it is in main by other means (not the gate's commit).
    run(f.root(), &["merge", "--quiet", "--ff-only", "millrace/t1"]);
    assert!(!repo.is_merged("t1", "main").expect("is_merged"));
}

#[test]
fn is_merged_needs_the_branch() {
    let f = fixture();
    let refused = f.repo().is_merged("t9", "main");
    assert!(matches!(refused, Err(WorktreeError::NoSuchBranch(b)) if b == "millrace/t9"));
}

#[test]
fn a_lane_that_changed_nothing_is_already_merged() {
    let f = fixture();
    f.lane_writing("t1", &[]);
    let first = f.tip("main");
    assert_eq!(
        f.merge("t1", None),
        MergeOutcome::AlreadyMerged { commit: first }
    );
}

#[test]
fn a_target_not_checked_out_moves_by_compare_and_swap() {
    let f = fixture();
    run(f.root(), &["checkout", "--quiet", "-b", "elsewhere"]);
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    let commit = merged_commit(f.merge("t1", None));
    assert_eq!(f.tip("main"), commit);
    assert_eq!(f.tip("HEAD"), f.tip("main~1"), "the checkout stays put");
    assert!(!f.root().join("a.txt").exists());
    let reflog = run(f.root(), &["reflog", "-1", "--format=%gs", "main"]);
    assert_eq!(reflog.trim(), "millrace: merge millrace/t1");
}

/// The check moves `main` once (as another merge would): the swap from
/// the old tip fails, and the lane is rebased and checked again.
#[test]
fn a_target_moved_during_the_merge_is_rebased_onto_again() {
    let f = fixture();
    run(f.root(), &["checkout", "--quiet", "-b", "side"]);
    std::fs::write(f.root().join("side.txt"), "side\n").expect("write");
    super::commit(f.root(), "moved meanwhile");
    run(f.root(), &["checkout", "--quiet", "--detach"]);
    let lane = f.lane_writing("t1", &[("a.txt", "a\n")]);
    let marker = lane.path.join(".git-moved");
    let mover = check(&format!(
        "test -e {m} || {{ touch {m} && git update-ref refs/heads/main side; }}",
        m = marker.display()
    ));
    let commit = merged_commit(f.merge("t1", Some(&mover)));
    assert_eq!(f.tip("main"), commit);
    assert_eq!(
        f.main_subjects(),
        ["t1: Title of t1", "moved meanwhile", "first"]
    );
    f.assert_linear();
}

#[test]
fn a_target_that_keeps_moving_is_given_up() {
    let f = fixture();
    run(f.root(), &["checkout", "--quiet", "--detach"]);
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    // Each run adds an empty commit on top of `main`.
    let mover = check(
        "git update-ref refs/heads/main $(git -c user.name=t -c user.email=t@example.invalid \
         commit-tree -p main -m moved main^{tree})",
    );
    let refused = f.try_merge("t1", Some(&mover));
    assert!(matches!(
        refused,
        Err(WorktreeError::TargetKeptMoving { attempts: 3, .. })
    ));
}

#[test]
fn local_changes_the_merge_would_overwrite_are_refused() {
    let f = fixture();
    f.lane_writing("t1", &[("README.md", "from t1\n")]);
    std::fs::write(f.root().join("README.md"), "user's edit\n").expect("write");
    let before = f.tip("main");
    let refused = f.try_merge("t1", None);
    let Err(WorktreeError::TargetCheckoutDirty { target, paths, .. }) = refused else {
        panic!("expected TargetCheckoutDirty, got {refused:?}");
    };
    assert_eq!(
        (target.as_str(), paths),
        ("main", vec!["README.md".to_string()])
    );
    assert_eq!(f.tip("main"), before);
    assert_eq!(read(&f.root().join("README.md")), "user's edit\n");
}

#[test]
fn an_untracked_file_the_merge_would_overwrite_is_refused() {
    let f = fixture();
    f.lane_writing("t1", &[("a.txt", "from t1\n")]);
    std::fs::write(f.root().join("a.txt"), "user's own\n").expect("write");
    let refused = f.try_merge("t1", None);
    let Err(WorktreeError::TargetCheckoutDirty { paths, .. }) = refused else {
        panic!("expected TargetCheckoutDirty, got {refused:?}");
    };
    assert_eq!(paths, ["a.txt"]);
    assert_eq!(read(&f.root().join("a.txt")), "user's own\n");
    // Once the user moves it away, the same merge goes through.
    std::fs::remove_file(f.root().join("a.txt")).expect("remove");
    merged_commit(f.merge("t1", None));
    assert_eq!(read(&f.root().join("a.txt")), "from t1\n");
}

#[test]
fn local_changes_elsewhere_in_the_checkout_do_not_stop_a_merge() {
    let f = fixture();
    f.lane_writing("t1", &[("a.txt", "a\n")]);
    std::fs::write(f.root().join("README.md"), "user's edit\n").expect("write");
    merged_commit(f.merge("t1", None));
    assert!(f.root().join("a.txt").is_file());
    assert_eq!(status(f.root()), " M README.md\n");
}

#[test]
fn a_user_without_a_git_identity_still_merges() {
    let f = fixture();
    let home = tempfile::tempdir().expect("home");
    let home_text = home.path().to_string_lossy().into_owned();
    test_env::set(&[
        ("HOME", Some(&home_text)),
        ("XDG_CONFIG_HOME", Some(&home_text)),
        ("GIT_CONFIG_NOSYSTEM", Some("1")),
        ("GIT_CONFIG_GLOBAL", None),
        // Without this, git may guess an identity from the host name.
        ("GIT_CONFIG_COUNT", Some("1")),
        ("GIT_CONFIG_KEY_0", Some("user.useConfigOnly")),
        ("GIT_CONFIG_VALUE_0", Some("true")),
        ("GIT_AUTHOR_NAME", None),
        ("GIT_AUTHOR_EMAIL", None),
        ("GIT_COMMITTER_NAME", None),
        ("GIT_COMMITTER_EMAIL", None),
        ("EMAIL", None),
    ]);
    let lane = f.lane_writing("t1", &[("a.txt", "a\n")]);
    let who = crate::workspace::worktrees::git::git(&lane.path, &["var", "GIT_COMMITTER_IDENT"]);
    assert!(who.is_err(), "this user has no identity: {who:?}");

    let commit = merged_commit(f.merge("t1", None));
    let author = run(f.root(), &["log", "-1", "--format=%an <%ae>", &commit]);
    assert_eq!(author.trim(), "Millrace <millrace@localhost>");
}

#[test]
fn a_lane_off_its_branch_is_refused() {
    let f = fixture();
    let lane = f.lane_writing("t1", &[("a.txt", "a\n")]);
    run(&lane.path, &["checkout", "--quiet", "--detach"]);
    let refused = f.try_merge("t1", None);
    assert!(matches!(
        refused,
        Err(WorktreeError::LaneOffBranch { branch, .. }) if branch == "millrace/t1"
    ));
}
