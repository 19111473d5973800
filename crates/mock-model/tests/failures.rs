//! Scripted failures on every API: HTTP 500, 429 with `retry-after`, a
//! dropped connection, a stream cut mid-way, a hang, and repetition.

use std::time::{Duration, Instant};

use mock_model::{Action, EXHAUSTED_TEXT, MockServer, Script, Served};
use serde_json::{Value, json};

use crate::client::{Fetch, post, send, send_with_timeout};

/// The three model endpoints with a tool-carrying request body.
fn endpoints(stream: bool) -> Vec<(&'static str, Value)> {
    vec![
        (
            "/v1/responses",
            json!({ "model": "m", "input": [], "stream": stream,
                    "tools": [{ "type": "function", "name": "exec_command" }] }),
        ),
        (
            "/v1/chat/completions",
            json!({ "model": "m", "messages": [], "stream": stream,
                    "tools": [{ "type": "function", "function": { "name": "bash" } }] }),
        ),
        (
            "/v1/messages?beta=true",
            json!({ "model": "m", "messages": [], "max_tokens": 100, "stream": stream,
                    "tools": [{ "name": "Bash", "input_schema": {} }] }),
        ),
    ]
}

#[test]
fn http_500_has_an_error_body() {
    for (path, body) in endpoints(true) {
        let server = MockServer::start(Script::new().http_error(500)).expect("start");
        let response = post(server.addr(), path, &body);
        assert_eq!(response.status, 500, "{path}");
        let error = response.json();
        assert!(error["error"]["message"].is_string(), "{path}: {error}");
        assert_eq!(server.requests()[0].status, Some(500));
        assert_eq!(server.turns_consumed(), 1);
    }
}

#[test]
fn rate_limit_sends_retry_after() {
    for (path, body) in endpoints(true) {
        let server = MockServer::start(Script::new().rate_limit(2)).expect("start");
        let response = post(server.addr(), path, &body);
        assert_eq!(response.status, 429, "{path}");
        assert_eq!(response.header("retry-after"), Some("2"));
        assert_eq!(response.header("retry-after-ms"), Some("2000"));
    }
    let server = MockServer::start(Script::new().rate_limit(1)).expect("start");
    let (path, body) = &endpoints(false)[2];
    let error = post(server.addr(), path, body).json();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "rate_limit_error");
}

#[test]
fn dropped_connection_sends_nothing() {
    for (path, body) in endpoints(true) {
        let server =
            MockServer::start(Script::new().drop_connection().message("after")).expect("start");
        assert!(
            matches!(
                send(server.addr(), "POST", path, Some(&body)),
                Fetch::Closed
            ),
            "{path}"
        );
        assert_eq!(server.requests()[0].status, None);
        let next = post(server.addr(), path, &body);
        assert_eq!(next.status, 200, "the server goes on after a drop");
    }
}

#[test]
fn cut_stream_stops_before_completion() {
    let closing = ["response.completed", "[DONE]", "message_stop"];
    for (path, body) in endpoints(true) {
        let server =
            MockServer::start(Script::new().cut_stream("Partial words here")).expect("start");
        let response = post(server.addr(), path, &body);
        assert_eq!(response.status, 200, "{path}");
        assert!(
            !response.complete,
            "{path}: the chunked body must not end cleanly"
        );
        let events = response.events();
        assert!(
            events.len() >= 3,
            "{path}: some events arrive before the cut"
        );
        let seen = |marker: &str| {
            events
                .iter()
                .any(|(name, data)| name.as_deref() == Some(marker) || data == marker)
        };
        assert!(!closing.iter().any(|m| seen(m)), "{path}: no closing event");
        assert!(response.body.contains("Partial"), "{path}");
    }
}

#[test]
fn cut_non_streamed_body_is_truncated_json() {
    let server = MockServer::start(Script::new().cut_stream("x")).expect("start");
    let (path, body) = &endpoints(false)[2];
    let response = post(server.addr(), path, body);
    assert!(!response.complete);
    assert!(serde_json::from_str::<Value>(&response.body).is_err());
}

#[test]
fn hang_times_out_and_does_not_block_shutdown() {
    let server = MockServer::start(Script::new().hang()).expect("start");
    let (path, body) = &endpoints(true)[0];
    let fetch = send_with_timeout(
        server.addr(),
        "POST",
        path,
        Some(body),
        Duration::from_millis(300),
    );
    assert!(matches!(fetch, Fetch::TimedOut));
    assert_eq!(server.requests()[0].action.as_deref(), Some("hang"));
    let started = Instant::now();
    server.shutdown().expect("shutdown");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn repeat_makes_a_failure_persistent() {
    let server = MockServer::start(Script::new().http_error(503).repeat()).expect("start");
    let (path, body) = &endpoints(true)[1];
    for _ in 0..3 {
        assert_eq!(post(server.addr(), path, body).status, 503);
    }
    assert_eq!(server.turns_consumed(), 0);
    let served: Vec<Served> = server.requests().iter().map(|r| r.served).collect();
    assert_eq!(served, [Served::Turn { index: 0 }; 3]);
}

#[test]
fn times_then_recovery() {
    let script = Script::new().http_error(500).times(2).message("recovered");
    let server = MockServer::start(script).expect("start");
    let (path, body) = &endpoints(false)[1];
    let statuses: Vec<u16> = (0..3)
        .map(|_| post(server.addr(), path, body).status)
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
}

#[test]
fn exhausted_script_answers_default_or_notice() {
    let (path, body) = &endpoints(false)[1];
    let server = MockServer::start(Script::new()).expect("start");
    let reply = post(server.addr(), path, body).json();
    assert_eq!(reply["choices"][0]["message"]["content"], EXHAUSTED_TEXT);
    assert_eq!(server.requests()[0].served, Served::Exhausted);
    let script = Script::new().when_exhausted(Action::HttpError {
        status: 502,
        message: "gone".into(),
    });
    let server = MockServer::start(script).expect("start");
    assert_eq!(post(server.addr(), path, body).status, 502);
    assert_eq!(server.requests()[0].served, Served::Default);
}
