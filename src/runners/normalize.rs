//! Normalization: turns a runner's raw result into exactly one outcome.
//!
//! The rules, in order:
//! - `Failed { class }` becomes `BLOCKED` with that class;
//! - `TimedOut` becomes `BLOCKED` with `runner_timeout`;
//! - `Cancelled` is not a stage answer: the caller must not route it (the
//!   stage reruns after a restart). If it is normalized anyway, the result is
//!   `BLOCKED` with `runner_transport_failure`;
//! - `Completed { code: 0 }` and `AnsweredThenExited` (an agent CLI that
//!   recorded its final answer before a non-zero exit, see its runner): the
//!   marker lines of the last message decide. None gives
//!   `missing_terminal_result`, several distinct ones
//!   `conflicting_terminal_results`, one that the stage may not answer
//!   `illegal_terminal_result`. Exactly one legal marker is the outcome.
//! - `Completed` with any other code is a failure, even after a valid
//!   marker: the program said it did not succeed. It is classified from the
//!   tail of the runner's stderr and stdout artifacts
//!   (`stderr.<request_id>.txt`, `stdout.<request_id>.txt`, at most
//!   [`TAIL_BYTES`] of each); when nothing specific is found, the marker
//!   problem's class stands, and after a valid marker the class is
//!   `runner_transport_failure`.
//!
//! A synthetic `BLOCKED` carries a `failure_class` and `failure_message`; an
//! outcome the stage declared (its own `### BLOCKED` included) has neither.
//! `<run_dir>/stage_result_metadata.json`, a JSON object the stage may write,
//! becomes the outcome's `metadata`; an unreadable file is ignored and
//! reported in `metadata_error`. The file lives in the run directory, which
//! later stages of the run share, so it must be removed before each stage
//! starts ([`remove_stage_metadata`]; the built-in runners do it).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{FailureClass, RunnerExit, RunnerResult, StageOutcome, StageRequest};
use super::{classify, markers};

/// At most this many bytes of each output artifact are read to classify.
pub const TAIL_BYTES: u64 = 16_000;

/// At most this many bytes of a final message are read from a file (the
/// last-message file, or the `command` runner's stdout): its end, where the
/// marker line is.
pub const MESSAGE_MAX_BYTES: u64 = 1024 * 1024;

/// The file name of the metadata a stage may leave in its run directory.
pub const METADATA_FILE: &str = "stage_result_metadata.json";

/// The outcome every synthetic failure becomes.
const BLOCKED: &str = "BLOCKED";

/// A failure found while judging: its class and a human-readable reason.
type Failure = (FailureClass, String);

/// The one outcome of a stage, from its runner's raw result.
pub fn normalize(request: &StageRequest, result: &RunnerResult) -> StageOutcome {
    let detected = result
        .last_message
        .as_deref()
        .map(markers)
        .unwrap_or_default();
    let verdict = match &result.exit {
        RunnerExit::Failed { class, message } => Err((*class, message.clone())),
        RunnerExit::TimedOut => Err(timed_out(request)),
        RunnerExit::Cancelled => Err(cancelled()),
        RunnerExit::Completed { code } => completed(request, *code, &detected),
        RunnerExit::AnsweredThenExited { .. } => judge_markers(request, &detected),
    };
    let (metadata, metadata_error) = read_metadata(&metadata_path(request));
    let mut outcome = StageOutcome {
        outcome: BLOCKED.to_string(),
        failure_class: None,
        failure_message: None,
        detected_markers: detected,
        metadata,
        metadata_error,
    };
    match verdict {
        Ok(name) => outcome.outcome = name,
        Err((class, message)) => {
            outcome.failure_class = Some(class);
            outcome.failure_message = Some(message);
        }
    }
    outcome
}

/// `<run_dir>/stage_result_metadata.json`.
pub fn metadata_path(request: &StageRequest) -> PathBuf {
    request.run_dir.join(METADATA_FILE)
}

/// Removes a metadata file left by an earlier stage of the same run.
pub fn remove_stage_metadata(request: &StageRequest) -> std::io::Result<()> {
    match std::fs::remove_file(metadata_path(request)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn timed_out(request: &StageRequest) -> Failure {
    let message = format!(
        "the runner did not finish within its timeout of {} s",
        request.timeout_s
    );
    (FailureClass::RunnerTimeout, message)
}

fn cancelled() -> Failure {
    let message = "the stage was cancelled; a cancelled stage must not be routed";
    (FailureClass::RunnerTransportFailure, message.to_string())
}

/// A run that exited on its own: after exit 0 the markers decide; any other
/// exit is a failure classified from the runner's output.
fn completed(request: &StageRequest, code: i32, detected: &[String]) -> Result<String, Failure> {
    let verdict = judge_markers(request, detected);
    if code == 0 {
        return verdict;
    }
    let fallback = verdict.map_or_else(|failure| failure, |outcome| discarded(&outcome));
    Err(classify_exit(request, code, fallback))
}

/// A valid answer that a non-zero exit took back.
fn discarded(outcome: &str) -> Failure {
    let message = format!("its answer `### {outcome}` does not count after a non-zero exit");
    (FailureClass::RunnerTransportFailure, message)
}

/// Exactly one distinct, legal marker, or why not.
fn judge_markers(request: &StageRequest, detected: &[String]) -> Result<String, Failure> {
    let mut distinct: Vec<&String> = Vec::new();
    for name in detected {
        if !distinct.contains(&name) {
            distinct.push(name);
        }
    }
    match distinct.as_slice() {
        [] => Err((
            FailureClass::MissingTerminalResult,
            "the final message has no `### OUTCOME` marker line".to_string(),
        )),
        [one] if request.legal_outcomes.contains(one) => Ok(one.to_string()),
        [one] => Err(illegal(request, one)),
        many => Err(conflicting(many)),
    }
}

fn illegal(request: &StageRequest, name: &str) -> Failure {
    let message = format!(
        "`### {name}` is not a legal outcome of stage `{}` (legal: {})",
        request.node,
        request.legal_outcomes.join(", ")
    );
    (FailureClass::IllegalTerminalResult, message)
}

fn conflicting(names: &[&String]) -> Failure {
    let list: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    let message = format!(
        "the final message names several outcomes: {}",
        list.join(", ")
    );
    (FailureClass::ConflictingTerminalResults, message)
}

/// The class the runner's output points at, else the marker problem.
fn classify_exit(request: &StageRequest, code: i32, fallback: Failure) -> Failure {
    let stderr = read_tail(&request.artifact("stderr", "txt"), TAIL_BYTES);
    let stdout = read_tail(&request.artifact("stdout", "txt"), TAIL_BYTES);
    let text = format!("{stderr}\n{stdout}");
    match classify(&text) {
        Some(class) => {
            let hint = last_line(&text);
            let message = format!("the runner exited with code {code}: {hint}");
            (class, message)
        }
        None => (
            fallback.0,
            format!("the runner exited with code {code}; {}", fallback.1),
        ),
    }
}

/// The last non-empty line, shortened to 300 characters.
fn last_line(text: &str) -> String {
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty());
    line.unwrap_or("").chars().take(300).collect()
}

/// The last `max` bytes of a file as text; empty when it cannot be read.
pub fn read_tail(path: &Path, max: u64) -> String {
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|mut file| {
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(max)))?;
        file.take(max).read_to_end(&mut bytes)
    });
    match read {
        Ok(_) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    }
}

/// The metadata object, or why the file present could not be used.
fn read_metadata(path: &Path) -> (BTreeMap<String, serde_json::Value>, Option<String>) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (BTreeMap::new(), None),
        Err(e) => return (BTreeMap::new(), Some(format!("{}: {e}", path.display()))),
    };
    match serde_json::from_slice(&bytes) {
        Ok(map) => (map, None),
        Err(e) => {
            let error = format!("{}: not a JSON object: {e}", path.display());
            (BTreeMap::new(), Some(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::fixture;

    struct Case {
        _dir: tempfile::TempDir,
        request: StageRequest,
    }

    fn case() -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        let run_dir = dir.path().join("run");
        std::fs::create_dir_all(&run_dir).expect("run dir");
        let request = fixture::request(&run_dir);
        Case { _dir: dir, request }
    }

    fn result(exit: RunnerExit, message: Option<&str>) -> RunnerResult {
        RunnerResult {
            exit,
            last_message: message.map(str::to_string),
            tokens: None,
            duration_ms: 1,
            artifacts: Vec::new(),
        }
    }

    fn completed(code: i32, message: &str) -> RunnerResult {
        result(RunnerExit::Completed { code }, Some(message))
    }

    fn class_of(outcome: &StageOutcome) -> Option<&'static str> {
        outcome.failure_class.map(FailureClass::as_str)
    }

    #[test]
    fn one_legal_marker_is_the_outcome() {
        let c = case();
        let out = normalize(&c.request, &completed(0, "All good.\n### CHECKER_PASS\n"));
        assert_eq!(out.outcome, "CHECKER_PASS");
        assert_eq!(out.failure_class, None);
        assert_eq!(out.failure_message, None);
        assert_eq!(out.detected_markers, ["CHECKER_PASS"]);
    }

    #[test]
    fn repeated_marker_counts_once() {
        let c = case();
        let out = normalize(&c.request, &completed(0, "### FIX_NEEDED\n### FIX_NEEDED"));
        assert_eq!(out.outcome, "FIX_NEEDED");
        assert_eq!(out.detected_markers, ["FIX_NEEDED", "FIX_NEEDED"]);
    }

    #[test]
    fn declared_blocked_has_no_failure_class() {
        let c = case();
        let out = normalize(&c.request, &completed(0, "### BLOCKED"));
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(out.failure_class, None);
    }

    #[test]
    fn no_marker_is_missing() {
        let c = case();
        let out = normalize(&c.request, &completed(0, "I am done."));
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(class_of(&out), Some("missing_terminal_result"));
        let out = normalize(&c.request, &result(RunnerExit::Completed { code: 0 }, None));
        assert_eq!(class_of(&out), Some("missing_terminal_result"));
    }

    #[test]
    fn distinct_markers_conflict() {
        let c = case();
        let out = normalize(
            &c.request,
            &completed(0, "### CHECKER_PASS\n### FIX_NEEDED"),
        );
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(class_of(&out), Some("conflicting_terminal_results"));
        assert!(
            out.failure_message
                .is_some_and(|m| m.contains("CHECKER_PASS, FIX_NEEDED"))
        );
    }

    #[test]
    fn unknown_marker_is_illegal() {
        let c = case();
        let out = normalize(&c.request, &completed(0, "### BUILDER_COMPLETE"));
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(class_of(&out), Some("illegal_terminal_result"));
        assert_eq!(out.detected_markers, ["BUILDER_COMPLETE"]);
    }

    #[test]
    fn a_nonzero_exit_fails_even_after_a_valid_marker() {
        let c = case();
        let out = normalize(&c.request, &completed(3, "### CHECKER_PASS"));
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(class_of(&out), Some("runner_transport_failure"));
        let message = out.failure_message.unwrap_or_default();
        assert!(
            message.contains("code 3") && message.contains("### CHECKER_PASS"),
            "{message}"
        );
        assert_eq!(out.detected_markers, ["CHECKER_PASS"]);
    }

    #[test]
    fn a_nonzero_exit_after_a_valid_marker_is_classified_from_output() {
        let c = case();
        let stderr = c.request.artifact("stderr", "txt");
        std::fs::write(&stderr, "error: 429 Too Many Requests\n").expect("write");
        let out = normalize(&c.request, &completed(1, "### CHECKER_PASS"));
        assert_eq!(class_of(&out), Some("provider_rate_limited"));
    }

    #[test]
    fn an_answer_recorded_before_a_nonzero_exit_stands() {
        let c = case();
        let exit = RunnerExit::AnsweredThenExited { code: 1 };
        let out = normalize(&c.request, &result(exit, Some("ok\n### CHECKER_PASS")));
        assert_eq!(out.outcome, "CHECKER_PASS");
        assert_eq!(out.failure_class, None);
    }

    #[test]
    fn failed_keeps_its_class() {
        let c = case();
        let exit = RunnerExit::Failed {
            class: FailureClass::RunnerBinaryMissing,
            message: "runner binary not found: codex".into(),
        };
        let out = normalize(&c.request, &result(exit, None));
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(class_of(&out), Some("runner_binary_missing"));
        assert_eq!(
            out.failure_message.as_deref(),
            Some("runner binary not found: codex")
        );
    }

    #[test]
    fn timeout_is_runner_timeout_even_with_a_marker() {
        let c = case();
        let out = normalize(
            &c.request,
            &result(RunnerExit::TimedOut, Some("### CHECKER_PASS")),
        );
        assert_eq!(out.outcome, "BLOCKED");
        assert_eq!(class_of(&out), Some("runner_timeout"));
    }

    #[test]
    fn cancelled_is_a_transport_failure_if_normalized() {
        let c = case();
        let out = normalize(&c.request, &result(RunnerExit::Cancelled, None));
        assert_eq!(class_of(&out), Some("runner_transport_failure"));
    }

    #[test]
    fn nonzero_exit_is_classified_from_output() {
        let c = case();
        let stderr = c.request.artifact("stderr", "txt");
        std::fs::write(&stderr, "retrying\nerror: 429 Too Many Requests\n").expect("write");
        let out = normalize(&c.request, &completed(1, ""));
        assert_eq!(class_of(&out), Some("provider_rate_limited"));
        assert!(
            out.failure_message
                .is_some_and(|m| m.contains("429 Too Many Requests"))
        );
    }

    #[test]
    fn nonzero_exit_reads_only_the_tail() {
        let c = case();
        let mut text = "connection refused\n".to_string();
        text.push_str(&"x".repeat(TAIL_BYTES as usize));
        std::fs::write(c.request.artifact("stdout", "txt"), text).expect("write");
        let out = normalize(&c.request, &completed(1, "no marker"));
        assert_eq!(class_of(&out), Some("missing_terminal_result"));
    }

    #[test]
    fn nonzero_exit_with_nothing_specific_keeps_marker_class() {
        let c = case();
        let out = normalize(&c.request, &completed(2, "oops"));
        assert_eq!(class_of(&out), Some("missing_terminal_result"));
        let out = normalize(&c.request, &completed(2, "### NOPE"));
        assert_eq!(class_of(&out), Some("illegal_terminal_result"));
    }

    #[test]
    fn metadata_is_read() {
        let c = case();
        let json = r#"{"resume_stage": "builder", "n": 2}"#;
        std::fs::write(metadata_path(&c.request), json).expect("write");
        let out = normalize(&c.request, &completed(0, "### CHECKER_PASS"));
        assert_eq!(out.metadata["resume_stage"], "builder");
        assert_eq!(out.metadata["n"], 2);
        assert_eq!(out.metadata_error, None);
    }

    #[test]
    fn invalid_metadata_is_ignored_and_reported() {
        let c = case();
        std::fs::write(metadata_path(&c.request), "[1, 2]").expect("write");
        let out = normalize(&c.request, &completed(0, "### CHECKER_PASS"));
        assert_eq!(out.outcome, "CHECKER_PASS");
        assert!(out.metadata.is_empty());
        assert!(
            out.metadata_error
                .is_some_and(|e| e.contains("not a JSON object"))
        );
    }

    #[test]
    fn stale_metadata_can_be_removed() {
        let c = case();
        std::fs::write(metadata_path(&c.request), "{}").expect("write");
        remove_stage_metadata(&c.request).expect("remove");
        remove_stage_metadata(&c.request).expect("absent is fine");
        assert!(!metadata_path(&c.request).exists());
    }
}
