//! The worktree manager against real temporary git repositories.

use std::path::Path;

use tempfile::TempDir;

use super::*;

/// A repository on `main` with one commit, and a manager whose lanes live
/// in `millrace-agents/lanes/` inside it.
struct Fixture {
    dir: TempDir,
    manager: WorktreeManager,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    run(root, &["init", "--quiet", "--initial-branch", "main"]);
    std::fs::write(root.join("README.md"), "hello\n").expect("write");
    commit(root, "first");
    let repo = Repository::discover(root).expect("a repository");
    let lanes = root.join("millrace-agents/lanes");
    let manager = WorktreeManager::open(&repo, &lanes, "main").expect("open");
    Fixture { dir, manager }
}

fn run(dir: &Path, args: &[&str]) -> String {
    let identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"];
    let all: Vec<&str> = identity.iter().chain(args).copied().collect();
    git(dir, &all).unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

fn commit(dir: &Path, message: &str) {
    run(dir, &["add", "-A"]);
    run(dir, &["commit", "--quiet", "-m", message]);
}

impl Fixture {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A worktree for `task` with one commit on its branch, as listed after it.
    fn worked_on(&self, task: &str) -> LaneWorktree {
        let lane = self.manager.create(task).expect("create");
        std::fs::write(lane.path.join(format!("{task}.txt")), "work\n").expect("write");
        commit(&lane.path, task);
        let mut listed = self.manager.list().expect("list").into_iter();
        listed.find(|w| w.task_id == task).expect("listed")
    }
}

#[test]
fn create_checks_out_a_new_task_branch_from_the_target() {
    let f = fixture();
    let lane = f.manager.create("t1").expect("create");
    assert_eq!(lane.path, f.manager.path_of("t1"));
    assert_eq!(lane.branch.as_deref(), Some("millrace/t1"));
    assert!(lane.path.join("README.md").is_file());
    let main_tip = run(f.root(), &["rev-parse", "main"]);
    assert_eq!(lane.head.as_deref(), Some(main_tip.trim()));
    assert_eq!(f.manager.list().expect("list"), [lane]);
    assert_eq!(
        f.manager.branches().expect("branches"),
        BTreeSet::from(["t1".to_string()])
    );
    // The main checkout does not see the lanes.
    assert_eq!(run(f.root(), &["status", "--porcelain"]), "");
}

#[test]
fn create_refuses_what_would_clobber_or_cannot_be_a_branch() {
    let f = fixture();
    f.manager.create("t1").expect("create");
    let again = f.manager.create("t1");
    assert!(matches!(again, Err(WorktreeError::BranchExists(b)) if b == "millrace/t1"));
    std::fs::create_dir_all(f.manager.path_of("t2")).expect("mkdir");
    assert!(matches!(
        f.manager.create("t2"),
        Err(WorktreeError::PathTaken(_))
    ));
    for bad in ["a..b", "x.lock", "end.", "-dash", "sp ace", ""] {
        let refused = f.manager.create(bad);
        assert!(
            matches!(refused, Err(WorktreeError::InvalidTaskId(_))),
            "{bad}"
        );
    }
}

#[test]
fn create_needs_the_target_branch() {
    let f = fixture();
    let repo = Repository::discover(f.root()).expect("repo");
    let lanes = f.root().join("lanes");
    let manager = WorktreeManager::open(&repo, &lanes, "trunk").expect("open");
    let refused = manager.create("t1");
    assert!(matches!(refused, Err(WorktreeError::NoTargetBranch(b)) if b == "trunk"));
}

#[test]
fn remove_deletes_worktree_and_branch_and_may_repeat() {
    let f = fixture();
    let lane = f.worked_on("t1");
    std::fs::write(lane.path.join("uncommitted.txt"), "x").expect("write");
    f.manager.remove("t1").expect("remove");
    assert!(!lane.path.exists());
    assert!(f.manager.list().expect("list").is_empty());
    assert!(f.manager.branches().expect("branches").is_empty());
    f.manager.remove("t1").expect("removing again is no error");
}

#[test]
fn adopt_keeps_a_whole_worktree_with_its_uncommitted_work() {
    let f = fixture();
    let lane = f.worked_on("t1");
    std::fs::write(lane.path.join("draft.txt"), "in progress").expect("write");
    let adopted = f.manager.adopt("t1").expect("adopt");
    assert_eq!(adopted, lane);
    assert!(adopted.path.join("draft.txt").is_file());
}

#[test]
fn adopt_remakes_a_deleted_worktree_from_its_branch() {
    let f = fixture();
    let lane = f.worked_on("t1");
    std::fs::remove_dir_all(&lane.path).expect("delete");
    assert!(f.manager.list().expect("list")[0].missing);
    let adopted = f.manager.adopt("t1").expect("adopt");
    assert!(!adopted.missing && adopted.on_own_branch());
    assert!(
        adopted.path.join("t1.txt").is_file(),
        "the committed work is back"
    );
}

/// `git worktree add` killed early leaves the worktree locked
/// (`initializing`), its folder whole or gone.
#[test]
fn adopt_remakes_a_worktree_left_locked_by_a_killed_add() {
    for folder_gone in [false, true] {
        let f = fixture();
        let lane = f.worked_on("t1");
        let path = lane.path.to_string_lossy().into_owned();
        let lock = ["worktree", "lock", "--reason", "initializing", &path];
        run(f.root(), &lock);
        if folder_gone {
            std::fs::remove_dir_all(&lane.path).expect("delete");
        }
        let adopted = f.manager.adopt("t1").expect("adopt");
        assert!(!adopted.locked && !adopted.missing, "{folder_gone}");
        assert!(adopted.path.join("t1.txt").is_file(), "{folder_gone}");
    }
}

#[test]
fn adopt_without_a_branch_is_refused() {
    let f = fixture();
    let refused = f.manager.adopt("t9");
    assert!(matches!(refused, Err(WorktreeError::NoSuchBranch(b)) if b == "millrace/t9"));
}

#[test]
fn leftovers_are_what_no_live_task_owns() {
    let f = fixture();
    f.worked_on("live");
    f.worked_on("dead");
    let gone = f.worked_on("branch_only");
    run(
        f.root(),
        &["worktree", "remove", &gone.path.to_string_lossy()],
    );
    std::fs::create_dir_all(f.manager.path_of("stray")).expect("mkdir");

    let found = f.manager.leftovers(|id| id == "live").expect("leftovers");
    let summary: Vec<_> = found
        .iter()
        .map(|l| {
            (
                l.task_id.as_str(),
                l.worktree.is_some(),
                l.stray_folder.is_some(),
                l.branch,
            )
        })
        .collect();
    let expected = [
        ("branch_only", false, false, true),
        ("dead", true, false, true),
        ("stray", false, true, false),
    ];
    assert_eq!(summary, expected);

    for leftover in &found {
        f.manager.remove(&leftover.task_id).expect("remove");
    }
    assert!(
        f.manager
            .leftovers(|id| id == "live")
            .expect("leftovers")
            .is_empty()
    );
    assert_eq!(f.manager.list().expect("list").len(), 1);
}

#[test]
fn a_folder_no_task_id_could_name_is_left_alone_and_others_are_still_found() {
    let f = fixture();
    f.worked_on("done1");
    // The user's own folders in the lanes dir: names no task id (so no
    // branch) can have. Neither is removed, nor stops the sweep.
    for name in [".cache", "x..y", "notes.lock"] {
        std::fs::create_dir_all(f.manager.path_of(name).join("keep")).expect("mkdir");
    }
    let found = f.manager.leftovers(|_| false).expect("leftovers");
    let ids: Vec<&str> = found.iter().map(|l| l.task_id.as_str()).collect();
    assert_eq!(ids, ["done1"]);
    f.manager.remove("done1").expect("remove");
    assert!(f.manager.path_of(".cache").join("keep").is_dir());
}

#[test]
fn removing_a_task_also_removes_a_file_or_link_named_like_it() {
    let f = fixture();
    let file = f.manager.path_of("t1");
    std::fs::write(&file, "not a worktree\n").expect("write");
    f.manager.remove("t1").expect("remove a file");
    assert!(!file.exists());
    let elsewhere = f.root().join("README.md");
    std::os::unix::fs::symlink(&elsewhere, &file).expect("symlink");
    f.manager.remove("t1").expect("remove a link");
    assert!(std::fs::symlink_metadata(&file).is_err());
    // The link's target is not touched.
    assert!(elsewhere.is_file());
    f.manager.create("t1").expect("create after");
}

#[test]
fn a_deleted_lanes_dir_is_made_again_with_its_gitignore() {
    let f = fixture();
    let lanes = f.root().join("millrace-agents/lanes");
    std::fs::remove_dir_all(&lanes).expect("rm lanes");
    assert_eq!(f.manager.leftovers(|_| false).expect("leftovers"), []);
    f.manager.create("t1").expect("create");
    assert!(lanes.join(".gitignore").is_file());
    // The main checkout still does not see the lanes.
    assert_eq!(run(f.root(), &["status", "--porcelain"]), "");
}

#[test]
fn a_folder_outside_git_is_no_repository() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = Repository::discover(dir.path());
    assert!(matches!(refused, Err(WorktreeError::NotARepository(_))));
}

#[test]
fn the_target_is_the_checked_out_branch_and_a_detached_head_has_none() {
    let f = fixture();
    let repo = Repository::discover(f.root()).expect("repo");
    assert_eq!(repo.current_branch().expect("branch"), "main");
    run(f.root(), &["checkout", "--quiet", "--detach"]);
    assert!(matches!(
        repo.current_branch(),
        Err(WorktreeError::DetachedHead(_))
    ));
}

mod merge;
