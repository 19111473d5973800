//! What a hostile or careless user puts in the workspace or sends: FIFOs
//! where files should be, a journal line of tens of megabytes, host names
//! made to look like loopback, a stale token in an old link.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::http::{self, get_within, next_journal_event, open_events};
use super::{Served, demo_workspace};

/// Long enough for a debug build under load; a hang never answers.
const PATIENCE: Duration = Duration::from_secs(30);

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let made = Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// Two run folders of the demo, with a request id of the first.
fn two_runs(agents: &Path) -> (String, String, String) {
    let mut runs: Vec<String> = std::fs::read_dir(agents.join("runs"))
        .expect("runs")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    runs.sort();
    let prompt = std::fs::read_dir(agents.join("runs").join(&runs[0]))
        .expect("run folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("prompt."))
        .expect("a prompt");
    let request = prompt.trim_start_matches("prompt.").trim_end_matches(".md");
    (runs[0].clone(), runs[1].clone(), request.to_string())
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("journal");
    file.write_all(text.as_bytes()).expect("append");
}

#[test]
fn a_fifo_where_a_file_should_be_never_hangs_a_page() {
    let ws = demo_workspace();
    let agents = ws.path().join("millrace-agents");
    let (run, other_run, request) = two_runs(&agents);
    let journal = agents.join("logs/runtime_events.jsonl");
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut events = open_events(&served.host);
    for fifo in [
        agents.join("tasks/queue/fifo-doc.md"),
        agents.join(format!("runs/{run}/prompt.{request}.md")),
        agents.join(format!("runs/{other_run}/run_trace.json")),
        agents.join("state/runtime_snapshot.json"),
        journal.clone(),
    ] {
        mkfifo(&fifo);
    }
    for target in [
        "/".to_string(),
        "/api/status".into(),
        "/queue".into(),
        "/runs".into(),
        format!("/runs/{run}"),
        format!("/runs/{other_run}"),
        "/items/demo-fix-me".into(),
        "/flow".into(),
        "/runs".into(),
        "/assets/app.css".into(),
    ] {
        let page = get_within(&served.host, &target, PATIENCE);
        assert_eq!(page.status, 200, "{target}: {}", page.body);
    }
    // The journal becomes a file again: live updates resume.
    std::fs::remove_file(&journal).expect("remove the FIFO");
    std::fs::write(&journal, "").expect("a journal again");
    append(&journal, &event_line("after-the-fifo"));
    assert!(next_journal_event(&mut events).contains("after-the-fifo"));
}

fn event_line(marker: &str) -> String {
    format!(
        "{{\"schema_version\":\"1.0\",\"event_type\":\"stage_completed\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"data\":{{\"marker\":\"{marker}\"}}}}\n"
    )
}

#[test]
fn a_journal_line_of_forty_megabytes_is_skipped_not_read_whole() {
    let ws = demo_workspace();
    let journal = ws.path().join("millrace-agents/logs/runtime_events.jsonl");
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut events = open_events(&served.host);
    let huge = format!(
        "{{\"event_type\":\"stage_completed\",\"data\":\"{}\"}}\n",
        "A".repeat(40 << 20)
    );
    append(&journal, &huge);
    append(&journal, &event_line("after-the-huge-line"));
    let overview = get_within(&served.host, "/", PATIENCE);
    assert_eq!(overview.status, 200);
    assert!(
        overview.body.contains("after-the-huge-line"),
        "{}",
        overview.body
    );
    let pushed = next_journal_event(&mut events);
    assert!(pushed.contains("after-the-huge-line"), "{}", &pushed[..80]);
}

#[test]
fn a_dns_name_that_starts_like_a_loopback_address_is_refused() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let port = served.host.rsplit_once(':').expect("port").1.to_string();
    let status = |host: &str| {
        let header = format!("Host: {host}:{port}");
        let head = http::Head {
            method: "GET",
            target: "/",
            headers: &[&header],
        };
        http::request_within(&served.host, &head, None, PATIENCE).status
    };
    for rebinding in [
        "127.0.0.1.attacker.example",
        "127.attacker.example",
        "[::1].evil",
    ] {
        assert_eq!(status(rebinding), 403, "{rebinding}");
    }
    for loopback in ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "[::1]"] {
        assert_eq!(status(loopback), 200, "{loopback}");
    }
}

#[test]
fn a_stale_token_in_an_old_link_does_not_replace_the_good_cookie() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &["--token", "new-token"]);
    let cookie = "Cookie: millrace_token=new-token";
    let stale = http::get(&served.host, "/?token=old-token", &[cookie]);
    assert_eq!(stale.status, 200);
    assert_eq!(stale.header("set-cookie"), None);
    let fresh = http::get(&served.host, "/?token=new-token", &[]);
    assert!(
        fresh
            .header("set-cookie")
            .is_some_and(|c| c.starts_with("millrace_token=new-token;"))
    );
}

#[test]
fn a_client_that_never_finishes_its_request_is_closed() {
    use std::io::Read;
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut stream = std::net::TcpStream::connect(&served.host).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let half = format!("GET / HTTP/1.1\r\nHost: {}\r\n", served.host);
    stream.write_all(half.as_bytes()).expect("send");
    let mut rest = Vec::new();
    let closed = stream.read_to_end(&mut rest);
    assert!(closed.is_ok(), "still open after {PATIENCE:?}: {closed:?}");
    // The server still answers the next client.
    assert_eq!(served.get("/").status, 200);
}

#[test]
fn a_junk_query_value_gets_the_dashboards_own_400_page() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let bad = [
        ("/queue?page=abc", "`page` is \"abc\"", "a whole number"),
        (
            "/queue?family=task&page=-1",
            "`page` is \"-1\"",
            "a whole number",
        ),
        ("/runs?page=1.5", "`page` is \"1.5\"", "a whole number"),
        ("/runs?plane=execution&page=%FF", "`page`", "a whole number"),
        ("/queue?family=nope", "`family` is \"nope\"", "task, spec"),
        (
            "/queue?family=task&state=nope",
            "`state` is \"nope\"",
            "queued, active",
        ),
    ];
    for (target, names, takes) in bad {
        let page = served.get(target);
        assert_eq!(page.status, 400, "{target}: {}", page.body);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{target}"
        );
        for shown in ["<h1>Bad request</h1>", "/assets/app.css", names, takes] {
            let shown = shown.replace('"', "&quot;");
            assert!(
                page.body.contains(&shown),
                "{target}: {shown} missing from\n{}",
                page.body
            );
        }
    }
    // Pages without parameters, and parameters a page does not know (the
    // token's among them), leave the page as it is.
    let run = two_runs(&ws.path().join("millrace-agents")).0;
    for path in [
        "/",
        "/flow",
        "/items/demo-hello",
        &format!("/runs/{run}"),
        "/queue",
        "/runs",
    ] {
        let target = format!("{path}?limit=-1&junk=%FF%FE");
        let page = served.get(&target);
        assert_eq!(page.status, 200, "{target}: {}", page.body);
    }
}
