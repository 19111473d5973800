//! A cgroup v2 per stage, where the machine allows it: every process a
//! stage starts stays in its cgroup, whatever session or environment it
//! gives itself, so one write to `cgroup.kill` stops them all.
//!
//! The stage cgroups are children of the daemon's own cgroup (the `0::`
//! line of `/proc/self/cgroup`, under the cgroup2 mount found in
//! `/proc/self/mountinfo`), named `millrace-<workspace hash>-<request id>`.
//! The leader is put in by a shell that moves itself in (`echo $$ >
//! cgroup.procs`) and then becomes the program, so no line of the program
//! runs outside. Each stage cgroup is recorded in
//! `<agents_dir>/state/stage_cgroups/<request id>` (the cgroup's path) from
//! before its leader starts until the cgroup is removed: after a `kill -9`
//! of the daemon, the next daemon of the workspace kills and removes every
//! recorded cgroup ([`sweep_recorded`]), even from another cgroup of its own.
//!
//! The platform's stage container: [`ContainerParent`] and [`StageContainer`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sha2::{Digest, Sha256};

use crate::fs_error::{FileError, at};

/// The shell that moves the leader into its cgroup, then execs it.
const SHELL: &str = "/bin/sh";

/// `$0` is the `cgroup.procs` file; the program and its arguments follow.
/// A failed move is silent (the stage runs, contained by the process tree
/// alone): its error text would only mislead the classification of stderr.
const JOIN_THEN_EXEC: &str = r#"{ echo $$ > "$0"; } 2>/dev/null; exec "$@""#;

/// Every stage cgroup's name starts with this.
const PREFIX: &str = "millrace-";

/// How often a cgroup is checked while its killed members exit.
const EMPTY_CHECK: Duration = Duration::from_millis(5);

/// Why stage cgroups cannot be used here (stages are then contained by
/// their process tree alone); said in the monitor's `containment` line.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// `/proc` could not be read, or no cgroup could be made.
    #[error(transparent)]
    File(#[from] FileError),
    #[error("no cgroup2 mount")]
    NoMount,
    #[error("no `0::` cgroup line")]
    NoOwnCgroup,
    #[error("{}: cgroup.procs is not writable", .0.display())]
    NotWritable(PathBuf),
    #[error("{SHELL} is missing")]
    NoShell,
}

/// The daemon's cgroup, in which stage cgroups are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerParent {
    dir: PathBuf,
}

/// One stage's cgroup and its record. Dropped without [`close`]
/// (an abandoned runner), it kills its members and is left recorded for
/// the next daemon's sweep if it cannot be removed yet.
///
/// [`close`]: StageContainer::close
#[derive(Debug)]
pub struct StageContainer {
    dir: PathBuf,
    record: PathBuf,
    /// Whether dropping it must kill its members.
    armed: bool,
}

impl ContainerParent {
    /// The daemon's cgroup when stage cgroups can be made in it and
    /// processes moved into them; otherwise why not.
    pub fn probe() -> Result<ContainerParent, Unavailable> {
        let mountinfo = read("/proc/self/mountinfo")?;
        let (mount, root) = cgroup2_mount(&mountinfo).ok_or(Unavailable::NoMount)?;
        let own = own_cgroup(&read("/proc/self/cgroup")?).ok_or(Unavailable::NoOwnCgroup)?;
        let relative = own.strip_prefix(&root).unwrap_or(&own);
        let relative = relative.trim_start_matches('/');
        let dir = match relative {
            "" => mount,
            below => mount.join(below),
        };
        let parent = ContainerParent { dir };
        parent.check_writable()?;
        Ok(parent)
    }

    /// What the monitor says of it: `cgroup parent=<the daemon's cgroup>`.
    pub fn describe(&self) -> String {
        format!("cgroup parent={}", self.dir.display())
    }

    /// A child can be made and removed, processes moved between them, and
    /// the shell that moves the leader exists.
    fn check_writable(&self) -> Result<(), Unavailable> {
        let probe = self
            .dir
            .join(format!("{PREFIX}probe-{}", std::process::id()));
        match std::fs::create_dir(&probe) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(at("create", &probe)(e).into());
            }
            _ => {}
        }
        let movable = [&self.dir, &probe]
            .iter()
            .all(|dir| writable(&dir.join("cgroup.procs")));
        let _ = std::fs::remove_dir(&probe);
        match (movable, Path::new(SHELL).is_file()) {
            (true, true) => Ok(()),
            (false, _) => Err(Unavailable::NotWritable(self.dir.clone())),
            (true, false) => Err(Unavailable::NoShell),
        }
    }

    /// Makes the cgroup of stage request `request_id` of the workspace at
    /// `agents_dir`, recorded first, so that no cgroup exists that a later
    /// daemon cannot find.
    pub fn stage(&self, agents_dir: &Path, request_id: &str) -> std::io::Result<StageContainer> {
        let record = record_path(agents_dir, request_id);
        let dir = self.dir.join(stage_name(agents_dir, request_id));
        if let Some(records) = record.parent() {
            std::fs::create_dir_all(records)?;
        }
        std::fs::write(&record, dir.display().to_string())?;
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                let _ = std::fs::remove_file(&record);
                Err(e)
            }
            _ => Ok(StageContainer {
                dir,
                record,
                armed: true,
            }),
        }
    }
}

impl StageContainer {
    /// The command that runs `program` inside this cgroup: the shell moves
    /// itself in, then execs the program under the same pid. The shell
    /// would report a missing program only by an exit code: look it up
    /// first.
    pub fn command(&self, program: &str, args: &[String]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(SHELL);
        command
            .arg("-c")
            .arg(JOIN_THEN_EXEC)
            .arg(self.dir.join("cgroup.procs"))
            .arg(program)
            .args(args);
        command
    }

    /// Sends `signal` to every process in the cgroup.
    pub fn signal(&self, signal: Signal) {
        signal_members(&self.dir, signal);
    }

    /// Removes a cgroup no process was started in.
    pub fn discard(mut self) {
        self.armed = false;
        remove(&self.dir, &self.record);
    }

    /// Kills every process in it, waits (up to `limit`) until they are
    /// gone, removes it and its record.
    pub async fn close(mut self, limit: Duration) {
        self.armed = false;
        kill_all(&self.dir);
        let deadline = tokio::time::Instant::now() + limit;
        // The members are not all our children, so there is no exit to
        // await; this checks every few milliseconds, only at teardown and
        // only while a killed member has not exited yet.
        while populated(&self.dir) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(EMPTY_CHECK).await;
        }
        remove(&self.dir, &self.record);
    }
}

impl Drop for StageContainer {
    fn drop(&mut self) {
        if self.armed {
            kill_all(&self.dir);
            if std::fs::remove_dir(&self.dir).is_ok() {
                let _ = std::fs::remove_file(&self.record);
            }
        }
    }
}

/// Kills and removes the stage cgroups recorded for the workspace at
/// `agents_dir` (left by a daemon that died), waiting up to `grace` for
/// each to empty; returns how many it found. Only called with the
/// workspace lock held: no stage of it is running.
pub fn sweep_recorded(agents_dir: &Path, grace: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(records_dir(agents_dir)) else {
        return 0;
    };
    let records: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    for record in &records {
        match std::fs::read_to_string(record).map(PathBuf::from) {
            Ok(dir) if is_stage_cgroup(&dir) => close_now(&dir, record, grace),
            _ => {
                let _ = std::fs::remove_file(record);
            }
        }
    }
    records.len()
}

/// [`StageContainer::close`] for the start of a daemon, before its event loop.
fn close_now(dir: &Path, record: &Path, grace: Duration) {
    kill_all(dir);
    let deadline = Instant::now() + grace;
    while populated(dir) && Instant::now() < deadline {
        std::thread::sleep(EMPTY_CHECK);
    }
    remove(dir, record);
}

/// Whether a recorded path names a stage cgroup (a record is a file in the
/// workspace: it must not make the daemon kill any other cgroup).
fn is_stage_cgroup(dir: &Path) -> bool {
    let named = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(PREFIX));
    named && dir.join("cgroup.procs").is_file()
}

/// `cgroup.kill` (Linux 5.14), else SIGKILL to each member.
fn kill_all(dir: &Path) {
    if std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
        signal_members(dir, Signal::SIGKILL);
    }
}

fn signal_members(dir: &Path, signal: Signal) {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.split_whitespace().filter_map(|p| p.parse().ok()) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// `populated 1` in `cgroup.events`: a member has not exited yet.
fn populated(dir: &Path) -> bool {
    let events = std::fs::read_to_string(dir.join("cgroup.events")).unwrap_or_default();
    events.lines().any(|l| l.trim() == "populated 1")
}

fn remove(dir: &Path, record: &Path) {
    let _ = std::fs::remove_dir(dir);
    let _ = std::fs::remove_file(record);
}

/// `millrace-<12 hex of the workspace>-<request id>`: unique across
/// workspaces whose daemons share a cgroup, and readable in `systemd-cgls`.
fn stage_name(agents_dir: &Path, request_id: &str) -> String {
    let digest = Sha256::digest(agents_dir.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}-{request_id}")
}

/// `<agents_dir>/state/stage_cgroups`.
fn records_dir(agents_dir: &Path) -> PathBuf {
    agents_dir.join("state").join("stage_cgroups")
}

fn record_path(agents_dir: &Path, request_id: &str) -> PathBuf {
    records_dir(agents_dir).join(request_id)
}

/// The mount point and root of the cgroup2 file system, from
/// `/proc/self/mountinfo` (`id parent dev root mountpoint opts ... - type
/// source superopts`).
fn cgroup2_mount(mountinfo: &str) -> Option<(PathBuf, String)> {
    mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if fs.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = mount.split_whitespace().collect();
        Some((
            PathBuf::from(unescape(fields.get(4)?)),
            unescape(fields.get(3)?),
        ))
    })
}

/// Mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => out.push(char::from(byte)),
            None => out.push('\\'),
        }
        rest = &rest[i + if code.is_some() { 4 } else { 1 }..];
    }
    out.push_str(rest);
    out
}

/// The cgroup v2 path of this process: the `0::` line of `/proc/self/cgroup`.
fn own_cgroup(cgroup: &str) -> Option<String> {
    cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

fn writable(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

fn read(path: &str) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(at("read", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
";

    #[test]
    fn the_cgroup2_mount_is_found_among_v1_mounts() {
        let (mount, root) = cgroup2_mount(HYBRID).expect("found");
        assert_eq!(
            (mount, root.as_str()),
            (PathBuf::from("/sys/fs/cgroup/unified"), "/")
        );
        assert_eq!(cgroup2_mount("22 1 0:20 / /proc rw - proc proc rw"), None);
        let spaced = "41 31 0:38 / /mnt/c\\040g rw - cgroup2 cgroup2 rw";
        assert_eq!(cgroup2_mount(spaced).map(|m| m.0), Some("/mnt/c g".into()));
    }

    #[test]
    fn the_own_cgroup_is_the_v2_line() {
        let cgroup = "4:memory:/x\n0::/system.slice/millrace.service\n";
        let own = own_cgroup(cgroup);
        assert_eq!(own.as_deref(), Some("/system.slice/millrace.service"));
    }

    #[test]
    fn a_record_may_only_name_a_stage_cgroup() {
        assert!(!is_stage_cgroup(Path::new("/sys/fs/cgroup")));
        assert!(!is_stage_cgroup(Path::new("/tmp/millrace-x")));
    }
}
