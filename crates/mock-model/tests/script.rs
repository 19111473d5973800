//! The JSON script format and the `mock-model` binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mock_model::{Action, Script, SideRule, Turn, Usage};
use serde_json::json;

use crate::client::post;

/// The example script shipped beside the crate (and shown in its README).
const EXAMPLE: &str = include_str!("../example-script.json");

#[test]
fn json_script_matches_builder() {
    let parsed = Script::from_json(EXAMPLE).expect("parse");
    let mut built = Script::new()
        .shell("echo hi > hello.txt")
        .write_file("notes.md", "# Notes\n")
        .http_error(500)
        .times(2)
        .rate_limit(1)
        .drop_connection()
        .cut_stream("Half an ans")
        .turn(Turn {
            usage: Some(Usage {
                input_tokens: 7,
                cached_input_tokens: 0,
                output_tokens: 3,
            }),
            ..Turn::new(Action::Message {
                text: "### BUILDER_COMPLETE".into(),
            })
        })
        .hang()
        .repeat()
        .when_exhausted(Action::Message { text: "bye".into() })
        .usage(Usage {
            input_tokens: 1000,
            cached_input_tokens: 400,
            output_tokens: 50,
        });
    built
        .side_requests
        .rules
        .push(SideRule::MaxTokensAtMost { limit: 1 });
    built.side_requests.reply = "Title".into();
    built.models = vec!["mock-a".into(), "mock-b".into()];
    // The builder's http_error carries the default message, as does JSON.
    assert_eq!(parsed, built);
    let round_trip =
        Script::from_json(&serde_json::to_string(&parsed).expect("json")).expect("parse");
    assert_eq!(round_trip, parsed);
}

#[test]
fn bad_script_reports_position() {
    let err = Script::from_json(r#"{ "turns": [ { "type": "teleport" } ] }"#).expect_err("invalid");
    let text = err.to_string();
    assert!(
        text.contains("invalid script") && text.contains("line 1"),
        "{text}"
    );
}

#[test]
fn binary_serves_a_script_file() {
    let dir = std::env::temp_dir();
    let script = dir.join(format!("mock-model-{}-script.json", std::process::id()));
    std::fs::write(
        &script,
        r#"{ "turns": [ { "type": "message", "text": "from file" } ] }"#,
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-model"))
        .arg("--script")
        .arg(&script)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let url = line
        .trim()
        .strip_prefix("listening: http://")
        .expect("listening line");
    let addr = url.parse().expect("address");
    let body = json!({ "model": "m", "messages": [], "tools": [{ "type": "function", "function": { "name": "bash" } }] });
    let reply = post(addr, "/v1/chat/completions", &body).json();
    child.kill().expect("kill");
    let _ = child.wait();
    let _ = std::fs::remove_file(&script);
    assert_eq!(reply["choices"][0]["message"]["content"], "from file");
    assert!(url.starts_with("127.0.0.1:"));
}
