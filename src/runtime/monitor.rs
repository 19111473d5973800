//! The basic monitor: one human-readable line per runtime event, on stdout
//! (`--monitor basic`) and/or a file (`--monitor-log`), prefixed `[HH:MM:SS]`.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Where monitor lines go; silent by default.
#[derive(Default)]
pub struct Monitor {
    stdout: bool,
    log: Option<File>,
    /// The first `idle` is printed; repeats are not until something happens.
    idle_shown: bool,
}

impl Monitor {
    pub fn new(stdout: bool, log: Option<&Path>) -> std::io::Result<Monitor> {
        let log = match log {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
            None => None,
        };
        Ok(Monitor {
            stdout,
            log,
            idle_shown: false,
        })
    }

    /// Prints a line (and forgets that idle was shown).
    pub fn line(&mut self, text: &str) {
        self.idle_shown = false;
        self.emit(text);
    }

    /// `idle reason=...`, printed once until other activity happens.
    pub fn idle(&mut self, reason: &str) {
        if !self.idle_shown {
            self.emit(&format!("idle reason={reason}"));
            self.idle_shown = true;
        }
    }

    fn emit(&mut self, text: &str) {
        let stamped = format!("[{}] {text}\n", clock());
        if self.stdout {
            let _ = std::io::stdout().write_all(stamped.as_bytes());
        }
        if let Some(log) = &mut self.log {
            let _ = log.write_all(stamped.as_bytes());
        }
    }
}

/// `HH:MM:SS` in UTC.
fn clock() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second())
}

/// The short form of a run id shown in monitor lines.
pub fn short(run_id: &str) -> &str {
    let id = run_id.strip_prefix("run-").unwrap_or(run_id);
    &id[..id.len().min(8)]
}
