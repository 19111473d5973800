//! Reading `git worktree list --porcelain`: one block of `key value` lines
//! per worktree, blocks separated by a blank line.

use std::path::{Path, PathBuf};

/// The prefix of every lane branch (`millrace/<task-id>`).
pub const BRANCH_PREFIX: &str = "millrace/";

/// A worktree of a lane, as git lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneWorktree {
    /// The task it belongs to (its folder's name).
    pub task_id: String,
    pub path: PathBuf,
    /// The branch checked out (`millrace/<task-id>`), `None` when detached.
    pub branch: Option<String>,
    /// The commit checked out.
    pub head: Option<String>,
    /// Git holds a lock on it (`initializing` when `worktree add` was killed).
    pub locked: bool,
    /// Its folder is gone (git calls it prunable; of a locked worktree git
    /// does not say so, and its removal does not need to know).
    pub missing: bool,
}

impl LaneWorktree {
    /// This worktree when it is a lane's: directly inside `lanes_dir`.
    pub fn in_lanes_dir(self, lanes_dir: &Path) -> Option<LaneWorktree> {
        (self.path.parent() == Some(lanes_dir)).then_some(self)
    }

    /// True when it is on its task's branch.
    pub fn on_own_branch(&self) -> bool {
        let task = self
            .branch
            .as_deref()
            .and_then(|b| b.strip_prefix(BRANCH_PREFIX));
        task == Some(self.task_id.as_str())
    }
}

/// Every worktree in `text` (the main one included).
pub fn parse(text: &str) -> Vec<LaneWorktree> {
    text.split("\n\n").filter_map(parse_block).collect()
}

fn parse_block(block: &str) -> Option<LaneWorktree> {
    let path = PathBuf::from(field(block, "worktree")?);
    let branch = field(block, "branch").map(|r| r.trim_start_matches("refs/heads/").to_string());
    Some(LaneWorktree {
        task_id: path.file_name()?.to_string_lossy().into_owned(),
        branch,
        head: field(block, "HEAD").map(str::to_string),
        locked: has_key(block, "locked"),
        missing: has_key(block, "prunable"),
        path,
    })
}

/// The value of the line `key value`.
fn field<'a>(block: &'a str, key: &str) -> Option<&'a str> {
    let value = |line: &'a str| line.strip_prefix(key)?.strip_prefix(' ');
    block.lines().find_map(value)
}

/// True when a line is `key` or starts with `key `.
fn has_key(block: &str, key: &str) -> bool {
    block
        .lines()
        .any(|line| line == key || field(line, key).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_worktrees() {
        let text = "worktree /repo\nHEAD 1111\nbranch refs/heads/main\n\n\
                    worktree /repo/lanes/t1\nHEAD 2222\nbranch refs/heads/millrace/t1\nlocked initializing\n\n\
                    worktree /repo/lanes/t2\nHEAD 3333\ndetached\nprunable gitdir file points to non-existent location\n";
        let found = parse(text);
        assert_eq!(found.len(), 3);
        assert_eq!(found[1].branch.as_deref(), Some("millrace/t1"));
        assert!(found[1].locked && !found[1].missing && found[1].on_own_branch());
        assert_eq!(found[2].branch, None);
        assert!(found[2].missing && !found[2].locked);
        let lanes = Path::new("/repo/lanes");
        let ours: Vec<_> = found
            .into_iter()
            .filter_map(|w| w.in_lanes_dir(lanes))
            .collect();
        assert_eq!(ours.len(), 2);
    }
}
