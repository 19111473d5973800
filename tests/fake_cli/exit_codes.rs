//! A runner that exits non-zero after printing a valid marker: each
//! runner's rule (`docs/harness-runners.md`, "Exit codes and markers").

use super::{PRELUDE, fake_workspace, results_of};
use crate::daemon::{commanded, enqueue, run_cmd_mode};
use crate::harness::{assert_done, run_daemon};
use crate::support::TestWorkspace;

/// Codex's arguments: `$last` is the `--output-last-message` file.
const CODEX_ARGS: &str = r#"last=""
while [ $# -gt 0 ]; do
  [ "$1" = --output-last-message ] && last=$2
  shift
done
printf '{"type":"item.completed","item":{"type":"agent_message","text":"Done.\\n\\n### %s"}}\n' "$first"
echo '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":5}}'
"#;

/// The builder's first run answered, then failed: the stage is blocked
/// with `class`, and the item finishes after the troubleshooter.
fn assert_first_builder_blocked(ws: &TestWorkspace, class: &str, code: &str) {
    assert_done(ws);
    let builder = results_of(ws, "builder");
    let outcomes: Vec<&str> = builder
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    assert_eq!(builder.len(), 2, "{builder:#?}");
    let blocked = builder
        .iter()
        .find(|r| r["outcome"] == "BLOCKED")
        .unwrap_or_else(|| panic!("no blocked builder: {outcomes:?}"));
    assert_eq!(blocked["failure_class"], class, "{blocked}");
    let message = blocked["failure_message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("code {code}")), "{message}");
    assert_eq!(blocked["detected_markers"][0], "BUILDER_COMPLETE");
}

/// Every builder run recorded its answer and exited 1: the answers stand.
fn assert_answers_kept(ws: &TestWorkspace) {
    assert_done(ws);
    let builder = results_of(ws, "builder");
    assert_eq!(builder.len(), 1, "{builder:#?}");
    assert_eq!(builder[0]["outcome"], "BUILDER_COMPLETE", "{}", builder[0]);
    let exit = serde_json::json!({"kind": "answered_then_exited", "code": 1});
    assert_eq!(builder[0]["exit"], exit);
}

#[test]
fn a_command_exiting_non_zero_after_its_marker_is_blocked() {
    let program = format!(
        "{PRELUDE}read -r -d '' prompt\necho \"### $first\"\n\
         if [ \"$MILLRACE_STAGE\" = builder ] && first_time; then exit 3; fi\n"
    );
    let ws = commanded(&program, "30");
    enqueue(&ws, "t1", &[]);
    run_cmd_mode(&ws);
    assert_first_builder_blocked(&ws, "runner_transport_failure", "3");
}

#[test]
fn codex_exiting_non_zero_keeps_the_answer_of_its_last_message_file() {
    let body = format!(
        "{CODEX_ARGS}printf 'Done.\\n\\n### %s\\n' \"$first\" > \"$last\"\n\
         [ \"$MILLRACE_STAGE\" = builder ] && exit 1\nexit 0\n"
    );
    let ws = fake_workspace("codex_cli", "codex", &body);
    run_daemon(&ws);
    assert_answers_kept(&ws);
}

#[test]
fn codex_exiting_non_zero_without_its_last_message_file_is_blocked() {
    let body = format!(
        "{CODEX_ARGS}if [ \"$MILLRACE_STAGE\" = builder ] && first_time; then exit 1; fi\n\
         printf 'Done.\\n\\n### %s\\n' \"$first\" > \"$last\"\n"
    );
    let ws = fake_workspace("codex_cli", "codex", &body);
    run_daemon(&ws);
    assert_first_builder_blocked(&ws, "runner_transport_failure", "1");
}

#[test]
fn claude_exiting_non_zero_after_its_result_keeps_the_answer() {
    let body = r#"echo '{"type":"system","subtype":"init"}'
printf '{"type":"result","is_error":false,"result":"Done.\\n\\n### %s","usage":{"input_tokens":10,"output_tokens":5}}\n' "$first"
[ "$MILLRACE_STAGE" = builder ] && exit 1
exit 0
"#;
    let ws = fake_workspace("claude_code", "claude", body);
    run_daemon(&ws);
    assert_answers_kept(&ws);
}

#[test]
fn pi_is_judged_by_its_conversation_not_its_exit_code() {
    let body = r#"while IFS= read -r line; do
  case "$line" in
    *'"type":"prompt"'*)
      echo '{"type":"response","id":"prompt-1","command":"prompt","success":true}'
      echo '{"type":"agent_end","messages":[{"role":"assistant","stopReason":"stop","content":[]}]}' ;;
    *get_last_assistant_text*)
      printf '{"type":"response","id":"last-text-1","success":true,"data":{"text":"Done.\\n\\n### %s"}}\n' "$first" ;;
    *get_session_stats*)
      echo '{"type":"response","id":"stats-1","success":true,"data":{"tokens":{"input":10,"output":5}}}' ;;
  esac
done
exit 3
"#;
    let ws = fake_workspace("pi_rpc", "pi", body);
    run_daemon(&ws);
    assert_done(&ws);
    let builder = results_of(&ws, "builder");
    assert_eq!(builder.len(), 1, "{builder:#?}");
    assert_eq!(builder[0]["outcome"], "BUILDER_COMPLETE");
}
