//! The request log: every request the server received, in memory for tests
//! and optionally appended to a JSONL file (one [`LoggedRequest`] a line).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::MockError;
use crate::player::Served;
use crate::request::ApiKind;

/// Headers whose values are never logged.
const REDACTED_HEADERS: &[&str] = &["authorization", "x-api-key", "api-key", "cookie"];

/// One received request and how it was answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Arrival order, from 1.
    pub seq: u64,
    /// Arrival time, milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path with query string, e.g. `/v1/messages?beta=true`.
    pub path: String,
    /// The endpoint it hit.
    pub api: ApiKind,
    /// Request headers (lower-case names; credentials redacted).
    pub headers: BTreeMap<String, String>,
    /// The body as JSON: `null` when empty, a string when not JSON.
    pub body: Value,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Which part of the script answered it.
    pub served: Served,
    /// The scripted action's type (`shell`, `message`, `hang`, ...).
    pub action: Option<String>,
    /// The client tool the answer called (e.g. `exec_command`, `Bash`).
    pub tool: Option<String>,
    /// The HTTP status sent; `None` when none was (dropped or hung).
    pub status: Option<u16>,
}

impl LoggedRequest {
    /// Whether this request was answered from the script (not a side request,
    /// not a probe).
    pub fn consumed_turn(&self) -> bool {
        matches!(self.served, Served::Turn { .. })
    }
}

/// The in-memory log and its optional JSONL mirror.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Vec<LoggedRequest>,
    file: Option<File>,
}

impl RequestLog {
    /// A log that also appends to `path` (created if missing).
    pub fn with_file(path: &Path) -> Result<Self, MockError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| MockError::LogFile {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(RequestLog {
            entries: Vec::new(),
            file: Some(file),
        })
    }

    /// Records a request; a failing file write is reported on stderr and
    /// does not fail the request.
    pub fn record(&mut self, entry: LoggedRequest) {
        if let Some(file) = self.file.as_mut() {
            if let Err(err) = append_line(file, &entry) {
                eprintln!("mock-model: cannot append to the request log: {err}");
            }
        }
        self.entries.push(entry);
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> &[LoggedRequest] {
        &self.entries
    }
}

fn append_line(file: &mut File, entry: &LoggedRequest) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(entry)?;
    line.push(b'\n');
    file.write_all(&line)
}

/// Header map for the log, with credentials redacted.
pub fn loggable_headers<'a>(
    headers: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> BTreeMap<String, String> {
    headers
        .map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let value = if REDACTED_HEADERS.contains(&name.as_str()) {
                "<redacted>".to_string()
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// The body as JSON for the log.
pub fn loggable_body(raw: &[u8]) -> Value {
    if raw.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
