//! The process table from `/proc`, and the child subreaper.

use std::collections::HashMap;

use crate::platform::ProcessRow;

/// Makes this process the reaper of its orphaned descendants
/// (`PR_SET_CHILD_SUBREAPER`); true when it is one.
pub fn become_subreaper() -> bool {
    nix::sys::prctl::set_child_subreaper(true).is_ok()
}

/// Every process of `/proc`.
pub fn table() -> Vec<ProcessRow> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(row)
        .collect()
}

/// `/proc/<pid>/stat`, where the process exists.
pub fn row(pid: i32) -> Option<ProcessRow> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &stat)
}

/// `pid (comm) state ppid ...`: comm may hold spaces, so the fields after
/// `(comm)` start at field 3 (state); `starttime` is 22.
fn parse_stat(pid: i32, stat: &str) -> Option<ProcessRow> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    Some(ProcessRow {
        pid,
        ppid: fields.get(1)?.parse().ok()?,
        zombie: matches!(state, 'Z' | 'X'),
        start: fields.get(22 - 3)?.parse().ok()?,
    })
}

/// The value of `var` in the environment of every process that has it
/// (an environment that cannot be read counts as none).
pub fn environ_values(var: &str) -> HashMap<i32, Vec<u8>> {
    let prefix = format!("{var}=").into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    let pids = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok());
    let values = pids.filter_map(|pid| {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let entry = environ
            .split(|b| *b == 0)
            .find(|e| e.starts_with(&prefix))?;
        Some((pid, entry[prefix.len()..].to_vec()))
    });
    values.collect()
}

/// This process's children, from `/proc/self/task/*/children` (only this
/// process's list is read, not the whole of `/proc`).
pub fn own_children() -> Option<Vec<i32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).ok()?;
        children.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    Some(children)
}

/// `VmHWM` of `/proc/self/status`: the most resident memory this process
/// ever used, in kB.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        let stat = "42 (a (b) c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1000 1";
        let row = parse_stat(42, stat).expect("parsed");
        assert_eq!((row.ppid, row.zombie, row.start), (7, false, 98765));
    }

    #[test]
    fn stat_parses_names_with_spaces() {
        let me = i32::try_from(std::process::id()).expect("pid");
        let row = row(me).expect("own stat");
        assert_eq!(row.pid, me);
        assert!(!row.zombie);
    }
}
