//! Which queued task a free execution lane may claim: the `Target-Paths`
//! overlap rule and the claim selection over it (docs/lanes.md), which
//! `QueueIndex::next_candidate` applies. Pure: no I/O, so the scheduling
//! rule is tested without a workspace.

use std::collections::BTreeSet;

use crate::workspace::documents::WorkDocument;

/// Characters that make a path segment a glob pattern.
const GLOB_CHARS: &[char] = &['*', '?', '[', '{'];

/// List items that mean "no paths" in a work document.
const NONE_WORDS: &[&str] = &["none", "n/a", "-"];

/// A repository-relative path as its segments; no segments is the whole
/// repository.
type Segments = Vec<String>;

/// The part of the repository a task says it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPaths {
    /// Normalised paths, sorted; the empty path (the whole repository)
    /// stands alone when present.
    paths: BTreeSet<Segments>,
}

impl TargetPaths {
    /// The paths of a `Target-Paths` list. No usable path means the whole
    /// repository: an unknown footprint must not run beside anything.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> TargetPaths {
        let paths: BTreeSet<Segments> = items
            .iter()
            .filter_map(|item| normalise(item.as_ref()))
            .collect();
        if paths.is_empty() || paths.contains(&Segments::new()) {
            return TargetPaths::everything();
        }
        TargetPaths { paths }
    }

    /// The whole repository.
    pub fn everything() -> TargetPaths {
        TargetPaths {
            paths: BTreeSet::from([Segments::new()]),
        }
    }

    /// No path at all, overlapping nothing: an item that is claimed only to
    /// be quarantined (its document does not read), so it holds no lane back.
    pub fn nothing() -> TargetPaths {
        TargetPaths {
            paths: BTreeSet::new(),
        }
    }

    /// The footprint of a work document: its `Target-Paths` (tasks, specs
    /// and probes have them; other families are the whole repository).
    pub fn of(document: &WorkDocument) -> TargetPaths {
        TargetPaths::parse(document.target_paths())
    }

    /// True when this covers the whole repository.
    pub fn is_everything(&self) -> bool {
        self.paths.contains(&Segments::new())
    }

    /// The normalised paths, `.` for the whole repository.
    pub fn display(&self) -> Vec<String> {
        let joined = |segments: &Segments| {
            if segments.is_empty() {
                ".".to_string()
            } else {
                segments.join("/")
            }
        };
        self.paths.iter().map(joined).collect()
    }

    /// True when some path of one equals, or is a directory containing,
    /// some path of the other.
    pub fn overlaps(&self, other: &TargetPaths) -> bool {
        self.paths
            .iter()
            .any(|mine| other.paths.iter().any(|theirs| nested(mine, theirs)))
    }
}

/// True when one path is the other or a directory above it (whole segments).
fn nested(a: &[String], b: &[String]) -> bool {
    let shorter = a.len().min(b.len());
    a[..shorter] == b[..shorter]
}

/// One list item as repository-relative segments: `Some(vec![])` for the
/// whole repository, `None` for an item that names no path (`none`, blank).
/// A glob is cut before its first pattern segment; an absolute path or one
/// that climbs out with `..` is the whole repository, since its reach
/// inside the repository is unknown.
fn normalise(item: &str) -> Option<Segments> {
    let text = unquote(item.trim());
    if text.is_empty() || NONE_WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return None;
    }
    let text = text.replace('\\', "/");
    if text.starts_with('/') {
        return Some(Segments::new());
    }
    let mut segments = Segments::new();
    for segment in text.split('/') {
        match segment {
            "" | "." => {}
            ".." if segments.pop().is_none() => return Some(Segments::new()),
            ".." => {}
            glob if glob.contains(GLOB_CHARS) => break,
            name => segments.push(name.to_string()),
        }
    }
    Some(segments)
}

/// Strips the backticks or quotes a markdown list item may wrap a path in.
fn unquote(text: &str) -> &str {
    for quote in ['`', '"', '\''] {
        let inner = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote));
        if let Some(inner) = inner {
            return inner.trim();
        }
    }
    text
}

/// What claim selection needs to know of one queued task.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub depends_on: &'a [String],
    pub paths: &'a TargetPaths,
}

/// The first task, in queue order, whose dependencies are all done and
/// whose paths overlap neither a running task's nor those of an earlier
/// task held back by an overlap. Holding those paths keeps two tasks that
/// touch the same files in queue order, and lets a wide task (the whole
/// repository) drain the lanes instead of being overtaken forever.
pub fn next_claimable<'a>(
    queue: impl IntoIterator<Item = Candidate<'a>>,
    is_done: impl Fn(&str) -> bool,
    running: &[&TargetPaths],
) -> Option<&'a str> {
    let mut held: Vec<&TargetPaths> = Vec::new();
    for task in queue {
        if !task.depends_on.iter().all(|id| is_done(id)) {
            continue;
        }
        let blocked = running.iter().chain(&held).any(|p| p.overlaps(task.paths));
        if !blocked {
            return Some(task.id);
        }
        held.push(task.paths);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(items: &[&str]) -> TargetPaths {
        TargetPaths::parse(items)
    }

    #[test]
    fn paths_are_normalised() {
        let parsed = paths(&["./src//a/", "`docs/x.md`", "src\\b.rs", "a/./b/../c"]);
        assert_eq!(parsed.display(), ["a/c", "docs/x.md", "src/a", "src/b.rs"]);
    }

    #[test]
    fn globs_are_cut_at_their_first_pattern_segment() {
        assert_eq!(
            paths(&["src/**/*.rs", "tests/fix*"]).display(),
            ["src", "tests"]
        );
        assert!(paths(&["*.md"]).is_everything());
    }

    #[test]
    fn no_usable_path_is_the_whole_repository() {
        for items in [
            &[][..],
            &["none"],
            &["  "],
            &["-", "N/A"],
            &["."],
            &["/etc/x"],
            &["../x"],
        ] {
            assert!(paths(items).is_everything(), "{items:?}");
        }
        assert!(!paths(&["a/../b"]).is_everything());
    }

    #[test]
    fn a_directory_overlaps_what_it_contains() {
        assert!(paths(&["src"]).overlaps(&paths(&["src/a/b.rs"])));
        assert!(paths(&["src/a/b.rs"]).overlaps(&paths(&["src"])));
        assert!(paths(&["src/a.rs"]).overlaps(&paths(&["./src/a.rs"])));
    }

    #[test]
    fn overlap_is_by_whole_segments() {
        assert!(!paths(&["src/a"]).overlaps(&paths(&["src/ab.rs"])));
        assert!(!paths(&["src/a.rs", "docs"]).overlaps(&paths(&["src/b.rs", "README.md"])));
    }

    #[test]
    fn the_whole_repository_overlaps_everything() {
        let everything = TargetPaths::everything();
        assert!(everything.overlaps(&paths(&["deep/down/file"])));
        assert!(paths(&["x"]).overlaps(&everything));
    }

    struct Queue(Vec<(&'static str, Vec<String>, TargetPaths)>);

    impl Queue {
        fn new(items: &[(&'static str, &[&str], &[&str])]) -> Queue {
            let owned = |(id, deps, p): &(&'static str, &[&str], &[&str])| {
                let deps = deps.iter().map(|d| d.to_string()).collect();
                (*id, deps, paths(p))
            };
            Queue(items.iter().map(owned).collect())
        }

        fn next(&self, done: &[&str], running: &[&TargetPaths]) -> Option<&str> {
            let candidates = self.0.iter().map(|(id, deps, paths)| Candidate {
                id,
                depends_on: deps,
                paths,
            });
            next_claimable(candidates, |id| done.contains(&id), running)
        }
    }

    #[test]
    fn with_nothing_running_the_first_ready_task_is_claimed() {
        let queue = Queue::new(&[
            ("t1", &["t0"], &["a"]),
            ("t2", &[], &["a"]),
            ("t3", &[], &["b"]),
        ]);
        assert_eq!(queue.next(&[], &[]), Some("t2"));
        assert_eq!(queue.next(&["t0"], &[]), Some("t1"));
    }

    #[test]
    fn a_task_overlapping_a_running_one_waits() {
        let queue = Queue::new(&[("t1", &[], &["src/a.rs"]), ("t2", &[], &["docs"])]);
        assert_eq!(queue.next(&[], &[&paths(&["src"])]), Some("t2"));
        assert_eq!(
            queue.next(&[], &[&paths(&["src"]), &paths(&["docs/x"])]),
            None
        );
    }

    #[test]
    fn a_held_task_keeps_later_overlapping_tasks_behind_it() {
        let queue = Queue::new(&[
            ("t1", &[], &["src/a.rs", "lib"]),
            ("t2", &[], &["lib/x.rs"]),
            ("t3", &[], &["docs"]),
        ]);
        assert_eq!(queue.next(&[], &[&paths(&["src"])]), Some("t3"));
    }

    #[test]
    fn a_wide_task_drains_the_lanes_instead_of_being_overtaken() {
        let queue = Queue::new(&[("wide", &[], &[]), ("t2", &[], &["docs"])]);
        assert_eq!(queue.next(&[], &[&paths(&["src"])]), None);
        assert_eq!(queue.next(&[], &[]), Some("wide"));
    }

    #[test]
    fn a_task_waiting_for_dependencies_holds_no_paths() {
        let queue = Queue::new(&[("t1", &["t9"], &[]), ("t2", &[], &["docs"])]);
        assert_eq!(queue.next(&[], &[&paths(&["src"])]), Some("t2"));
    }
}
