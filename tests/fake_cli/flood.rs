//! Agents that flood their output: the daemon's memory stays flat, each
//! output file is capped and says what it cut, and the answer and the
//! tokens are still read.

use super::{PRELUDE, fake_workspace, results_of};
use crate::daemon::{commanded, enqueue, run_cmd_mode};
use crate::harness::{assert_done, run_daemon};
use crate::support::TestWorkspace;

/// What the daemon may use at its peak, whatever the agents print.
const PEAK_LIMIT_KB: u64 = 150 * 1024;

/// The cap of every kept output (`millrace::runners::OUTPUT_MAX_BYTES`) and
/// room for the line that says what was cut.
const OUTPUT_LIMIT: u64 = millrace::runners::OUTPUT_MAX_BYTES + 4096;

/// The daemon's own peak resident memory, from its monitor log.
fn daemon_peak_kb(ws: &TestWorkspace) -> u64 {
    let monitor = ws.read("logs/monitor.log");
    let peak = monitor
        .lines()
        .filter_map(|l| l.split("peak_rss_kb=").nth(1))
        .next_back()
        .and_then(|kb| kb.trim().parse().ok());
    peak.unwrap_or_else(|| panic!("no peak in the monitor log:\n{monitor}"))
}

/// The builder's artifact `name.<request_id>.<ext>`.
fn builder_artifact(ws: &TestWorkspace, name: &str, ext: &str) -> std::path::PathBuf {
    let builder = &results_of(ws, "builder")[0];
    let (run, request) = (&builder["run_id"], &builder["request_id"]);
    let run = run.as_str().unwrap_or_default();
    let request = request.as_str().unwrap_or_default();
    ws.path(&format!("runs/{run}/{name}.{request}.{ext}"))
}

/// Checks a flooded output file: capped, with a cut notice, ending with
/// what the agent printed last.
fn assert_capped(path: &std::path::Path, last: &str) {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    assert!(size <= OUTPUT_LIMIT, "{} is {size} bytes", path.display());
    let tail = millrace::runners::read_tail(path, 64 * 1024);
    let head = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&head);
    assert!(text.contains("millrace cut "), "no cut notice");
    assert!(
        tail.trim_end().ends_with(last),
        "{}",
        &tail[tail.len().saturating_sub(300)..]
    );
}

#[test]
fn a_codex_flooding_200_mb_of_events_leaves_the_daemon_small() {
    let body = r#"echo '{"type":"thread.started","thread_id":"t"}'
if [ "$MILLRACE_STAGE" = builder ]; then
  text=$(head -c 1000 /dev/zero | tr '\0' x)
  yes "{\"type\":\"item.completed\",\"item\":{\"id\":\"r\",\"type\":\"reasoning\",\"text\":\"$text\"}}" | head -n 200000
fi
printf '{"type":"item.completed","item":{"type":"agent_message","text":"flood-answer-7\\n\\n### %s"}}\n' "$first"
echo '{"type":"turn.completed","usage":{"input_tokens":1200,"cached_input_tokens":200,"output_tokens":300,"reasoning_output_tokens":50}}'
"#;
    let ws = fake_workspace("codex_cli", "codex", body);
    run_daemon(&ws);
    assert_done(&ws);
    let peak = daemon_peak_kb(&ws);
    assert!(peak < PEAK_LIMIT_KB, "the daemon peaked at {peak} kB");
    let builder = &results_of(&ws, "builder")[0];
    assert_eq!(builder["outcome"], "BUILDER_COMPLETE", "{builder}");
    let tokens = serde_json::json!({"input": 1200, "cached_input": 200, "output": 300,
        "thinking": 50, "total": 1500});
    assert_eq!(builder["tokens"], tokens);
    let answer = std::fs::read_to_string(builder_artifact(&ws, "last_message", "txt"));
    assert!(answer.is_ok_and(|a| a.starts_with("flood-answer-7")));
    let events = builder_artifact(&ws, "events", "jsonl");
    assert_capped(&events, r#""reasoning_output_tokens":50}}"#);
}

#[test]
fn a_command_flooding_its_stdout_keeps_a_capped_file_and_its_marker() {
    let program = format!(
        "{PRELUDE}read -r -d '' prompt\n\
         if [ \"$MILLRACE_STAGE\" = builder ]; then yes 'noise from the agent' | head -c 40000000; echo; fi\n\
         echo \"### $first\"\n"
    );
    let ws = commanded(&program, "120");
    enqueue(&ws, "t1", &[]);
    run_cmd_mode(&ws);
    assert_done(&ws);
    assert!(daemon_peak_kb(&ws) < PEAK_LIMIT_KB);
    assert_eq!(results_of(&ws, "builder")[0]["outcome"], "BUILDER_COMPLETE");
    assert_capped(
        &builder_artifact(&ws, "stdout", "txt"),
        "### BUILDER_COMPLETE",
    );
}
