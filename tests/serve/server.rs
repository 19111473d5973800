//! The server's endpoints and rules, over plain HTTP.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use super::http::{self, get, next_event, next_journal_event, open_events};
use super::{Served, demo_workspace};
use crate::support::millrace;
use millrace::workspace::state::{ActiveRun, Slot, StateStore, WorkItemRef};
use millrace::workspace::{Family, Plane, Timestamp, WorkspacePaths};

fn status_json(root: &Path) -> serde_json::Value {
    let run = millrace(
        &[
            "status",
            "--format",
            "json",
            "--workspace",
            &root.display().to_string(),
        ],
        root,
    )
    .ok();
    serde_json::from_str(&run.stdout).expect("status JSON")
}

fn fix_me_run(root: &Path) -> String {
    let runs = std::fs::read_dir(root.join("millrace-agents/runs")).expect("runs");
    let found = runs.flatten().find(|e| {
        std::fs::read_to_string(e.path().join("run_trace.json"))
            .is_ok_and(|t| t.contains("\"demo-fix-me\""))
    });
    found
        .expect("a run of demo-fix-me")
        .file_name()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_endpoint_answers_with_what_the_workspace_holds() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let overview = served.get("/");
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(
        overview
            .header("server-timing")
            .is_some_and(|t| t.starts_with("render;dur="))
    );
    assert!(
        overview.body.contains("No daemon is running"),
        "{}",
        overview.body
    );
    let status = status_json(ws.path());
    let api: serde_json::Value =
        serde_json::from_str(&served.get("/api/status").body).expect("JSON");
    for key in [
        "task_queue_depth",
        "spec_queue_depth",
        "compiled_plan_id",
        "active_mode_id",
    ] {
        assert_eq!(api[key], status[key], "{key}");
    }
    let depth = format!(
        "data-status-key=\"task_queue_depth\">{}<",
        status["task_queue_depth"]
    );
    assert!(overview.body.contains(&depth), "{}", overview.body);

    let done = served.get("/queue?family=task&state=done");
    assert!(
        done.body.contains("href=\"/items/demo-fix-me\""),
        "{}",
        done.body
    );
    let item = served.get("/items/demo-fix-me");
    assert_eq!(item.status, 200);
    for shown in [
        "Punctuate the greeting",
        "FIX_NEEDED",
        "fixer",
        "Depends-On",
        "/items/demo-hello",
    ] {
        assert!(
            item.body.contains(shown),
            "{shown} missing from\n{}",
            item.body
        );
    }
    let runs = served.get("/runs?item=demo-fix-me");
    let run_id = fix_me_run(ws.path());
    assert!(runs.body.contains(&run_id), "{}", runs.body);
    let run = served.get(&format!("/runs/{run_id}"));
    for shown in [
        "prompt sent",
        "output tail",
        "stage result",
        "FIX_NEEDED",
        "duration",
    ] {
        assert!(
            run.body.contains(shown),
            "{shown} missing from\n{}",
            run.body
        );
    }
    let flow = served.get("/flow");
    assert_eq!(flow.status, 200);
    assert!(
        flow.body.contains("data-plane=\"execution\""),
        "{}",
        flow.body
    );
    for asset in ["/assets/app.css", "/assets/app.js"] {
        assert_eq!(served.get(asset).status, 200, "{asset}");
    }
    assert_eq!(served.get("/nope").status, 404);
    assert_eq!(served.get("/items/no-such-item").status, 404);
    assert_eq!(served.get("/runs/run-none").status, 404);
}

#[test]
fn paths_in_urls_cannot_leave_the_workspace() {
    let ws = demo_workspace();
    let agents = ws.path().join("millrace-agents");
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret.md"), "TOP-SECRET\n").expect("write");
    // A run folder that is a symlink out, and a prompt inside a real run
    // that is a symlink to a file outside.
    std::os::unix::fs::symlink(outside.path(), agents.join("runs/run-evil")).expect("symlink");
    let run_id = fix_me_run(ws.path());
    let trace = std::fs::read_to_string(agents.join(format!("runs/{run_id}/run_trace.json")))
        .expect("trace");
    let request = trace
        .split("\"request_id\": \"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("a request id");
    let prompt = agents.join(format!("runs/{run_id}/prompt.{request}.md"));
    std::fs::remove_file(&prompt).expect("remove prompt");
    std::os::unix::fs::symlink(outside.path().join("secret.md"), &prompt).expect("symlink");
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        agents.join("tasks/done/leak.md"),
    )
    .expect("symlink");
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let attempts = [
        "/items/..%2F..%2F..%2Fetc%2Fpasswd",
        "/items/%2e%2e",
        "/items/..",
        "/items/leak",
        "/runs/..%2Fmillrace.toml",
        "/runs/%2E%2E%2F%2E%2E",
        "/runs/run-evil",
        "/assets/..%2F..%2FCargo.toml",
        "/queue?family=task&state=..%2F..%2F..",
        "/../../../etc/passwd",
        "/items/../../../etc/passwd",
    ];
    for target in attempts {
        let response = get(&served.host, target, &[]);
        assert!(
            !response.body.contains("TOP-SECRET") && !response.body.contains("root:x:0"),
            "{target} leaked"
        );
        assert_ne!(
            response.status, 200,
            "{target} answered 200\n{}",
            response.body
        );
    }
    let run = served.get(&format!("/runs/{run_id}"));
    assert_eq!(run.status, 200);
    assert!(
        !run.body.contains("TOP-SECRET"),
        "a symlinked prompt was followed out"
    );
}

#[test]
fn a_token_is_needed_off_loopback_and_taken_from_query_cookie_or_header() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &["--token", "s3cret-token"]);
    assert_eq!(served.get("/").status, 401);
    assert_eq!(served.get("/?token=wrong").status, 401);
    assert_eq!(served.get("/events").status, 401);
    let first = served.get("/?token=s3cret-token");
    assert_eq!(first.status, 200);
    let cookie = first
        .header("set-cookie")
        .expect("a cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    assert!(cookie.starts_with("millrace_token="));
    assert_eq!(
        get(&served.host, "/runs", &[&format!("Cookie: {cookie}")]).status,
        200
    );
    assert_eq!(
        get(
            &served.host,
            "/runs",
            &["Authorization: Bearer s3cret-token"]
        )
        .status,
        200
    );
    assert!(served.url.ends_with("/?token=s3cret-token"));

    let open = Served::start(ws.path(), "0.0.0.0:0", &[]);
    let token = open.token.clone().expect("a generated token");
    assert!(token.len() >= 32, "{token}");
    assert_eq!(open.get("/").status, 401);
    assert_eq!(open.get(&format!("/?token={token}")).status, 200);
}

#[test]
fn on_loopback_a_foreign_host_name_is_refused() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let rebound = http::request(&served.host, "GET", "/", &[], None);
    assert_eq!(rebound.status, 200);
    let mut stream = std::net::TcpStream::connect(&served.host).expect("connect");
    use std::io::{Read, Write};
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
}

/// Every file under `root`: type, size, modification time and content hash.
fn tree(root: &Path) -> BTreeMap<String, (String, u64, u128, u64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let meta = std::fs::symlink_metadata(entry.path()).expect("metadata");
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let mut hasher = DefaultHasher::new();
            if meta.is_file() {
                std::fs::read(entry.path()).expect("read").hash(&mut hasher);
            } else if meta.is_dir() {
                stack.push(entry.path());
            }
            let name = entry
                .path()
                .strip_prefix(root)
                .expect("inside")
                .display()
                .to_string();
            out.insert(
                name,
                (
                    format!("{:?}", meta.file_type()),
                    meta.len(),
                    mtime,
                    hasher.finish(),
                ),
            );
        }
    }
    out
}

#[test]
fn browsing_every_page_writes_nothing_in_the_workspace() {
    let ws = demo_workspace();
    // A queue folder quiet for long: `status` would cache its count here.
    let queue = ws.path().join("millrace-agents/tasks/queue");
    let touched = std::process::Command::new("touch")
        .args(["-d", "2020-01-01"])
        .arg(&queue)
        .status();
    assert!(touched.is_ok_and(|s| s.success()));
    let before = tree(ws.path());
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let run_id = fix_me_run(ws.path());
    let pages = [
        "/",
        "/api/status",
        "/flow",
        "/queue",
        "/queue?family=spec&state=done",
        "/items/demo-fix-me",
        "/items/demo-hello",
        "/runs",
        "/runs?plane=planning",
    ];
    for page in pages
        .iter()
        .map(|p| p.to_string())
        .chain([format!("/runs/{run_id}")])
    {
        assert_eq!(served.get(&page).status, 200, "{page}");
    }
    drop(served);
    let after = tree(ws.path());
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "changed: {changed:?}, gone: {gone:?}"
    );
}

#[test]
fn a_broken_workspace_is_described_and_the_server_keeps_serving() {
    let ws = demo_workspace();
    let agents = ws.path().join("millrace-agents");
    std::fs::write(
        agents.join("tasks/queue/broken.md"),
        "no heading, no fields\n",
    )
    .expect("write");
    std::fs::write(agents.join("loops/execution/zz_extra.loop"), "# changed\n").expect("write");
    std::fs::write(agents.join("state/runtime_snapshot.json"), "{ not json").expect("write");
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let overview = served.get("/");
    assert_eq!(overview.status, 200);
    for said in ["No daemon is running", "stale", "snapshot_error"] {
        assert!(
            overview.body.contains(said),
            "{said} missing from\n{}",
            overview.body
        );
    }
    let broken = served.get("/items/broken");
    assert_eq!(broken.status, 200);
    assert!(
        broken.body.contains("does not read as a task"),
        "{}",
        broken.body
    );
    assert_eq!(served.get("/flow").status, 200);
    assert_eq!(served.get("/").status, 200);
}

/// Appends a journal line carrying `marker` to the journal at `path`.
fn append_journal(path: &Path, marker: &str) {
    use std::io::Write;
    let line = format!(
        r#"{{"schema_version":"1.0","event_type":"stage_completed","occurred_at":"2026-01-01T00:00:00Z","data":{{"marker":"{marker}"}}}}"#
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("journal");
    writeln!(file, "{line}").expect("append");
}

#[test]
fn a_journal_line_is_pushed_to_event_stream_clients() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut events = open_events(&served.host);
    let journal = ws.path().join("millrace-agents/logs/runtime_events.jsonl");
    append_journal(&journal, "pushed-live");
    let data = next_journal_event(&mut events);
    assert!(data.contains("pushed-live"), "{data}");
}

#[test]
fn live_updates_go_on_after_the_logs_folder_is_removed_and_made_again() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut events = open_events(&served.host);
    let logs = ws.path().join("millrace-agents/logs");
    let journal = logs.join("runtime_events.jsonl");
    for round in ["first", "second"] {
        std::fs::remove_dir_all(&logs).expect("remove logs");
        // The server tells its clients once it saw the folder go.
        next_event(&mut events, "refresh");
        std::fs::create_dir(&logs).expect("make logs");
        append_journal(&journal, &format!("{round}-new-journal"));
        let data = next_journal_event(&mut events);
        assert!(data.contains(&format!("{round}-new-journal")), "{data}");
        append_journal(&journal, &format!("{round}-appended"));
        let data = next_journal_event(&mut events);
        assert!(data.contains(&format!("{round}-appended")), "{data}");
    }
}

/// A run of `node` on task `id` (recorded in a lane by the caller).
fn lane_run(id: &str, node: &str) -> ActiveRun {
    ActiveRun {
        run_id: format!("run-{id}"),
        node: node.into(),
        stage: node.into(),
        work_item: Some(WorkItemRef {
            family: Family::Task,
            id: id.into(),
        }),
        plan_id: None,
        started_at: Timestamp::now(),
        request_id: None,
        gate_request: None,
    }
}

#[test]
fn lanes_are_shown_with_their_task_worktree_and_branch() {
    let ws = demo_workspace();
    let paths = WorkspacePaths::new(ws.path());
    let store = StateStore::new(&paths);
    let mut snapshot = store.load_snapshot().expect("snapshot");
    snapshot.set_run(Slot::of(Plane::Execution), lane_run("lane-one", "checker"));
    snapshot.set_run(
        Slot::lane(Plane::Execution, 2),
        lane_run("lane-two", "checker"),
    );
    store.save_snapshot(&mut snapshot).expect("save");
    std::fs::create_dir_all(paths.lanes_dir().join("lane-two")).expect("worktree");
    let status = millrace(
        &["status", "--workspace", &ws.path().display().to_string()],
        ws.path(),
    )
    .ok();
    let worktree = paths.lanes_dir().join("lane-two");
    let line = format!(
        "active_run: plane=execution.2 run=run-lane-two node=checker stage=checker work_item=task:lane-two worktree={} branch=millrace/lane-two",
        worktree.display()
    );
    assert!(status.stdout.contains(&line), "{}", status.stdout);
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let overview = served.get("/").body;
    assert!(overview.contains("<h2>Lanes</h2>"), "{overview}");
    assert!(overview.contains("millrace/lane-two"), "{overview}");
    let flow = served.get("/flow").body;
    assert!(flow.contains("Other lanes"), "{flow}");
    assert!(
        flow.contains("execution.2 at <strong>checker</strong>"),
        "{flow}"
    );
}

/// The `<g>` line of node `key` in a Flow page, and the lane label drawn in
/// its group, if any.
fn drawn_node<'a>(flow: &'a str, key: &str) -> (&'a str, Option<&'a str>) {
    let data = format!("data-node=\"{key}\">");
    let start = flow
        .find(&data)
        .unwrap_or_else(|| panic!("{key} not drawn"));
    let head = flow[..start + data.len()]
        .rsplit('\n')
        .next()
        .unwrap_or_default();
    let group = &flow[start..start + flow[start..].find("</g>").unwrap_or(0)];
    let label = group
        .split("class=\"lane-label\"")
        .nth(1)
        .and_then(|l| l.split_once('>'))
        .and_then(|(_, l)| l.split_once("</text>"))
        .map(|(l, _)| l);
    (head, label)
}

#[test]
fn the_flow_view_highlights_the_node_of_every_running_lane() {
    let ws = demo_workspace();
    let paths = WorkspacePaths::new(ws.path());
    let store = StateStore::new(&paths);
    let mut snapshot = store.load_snapshot().expect("snapshot");
    snapshot.set_run(Slot::of(Plane::Execution), lane_run("lane-one", "checker"));
    store.save_snapshot(&mut snapshot).expect("save");
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    // One lane: its node highlighted, no label, as before lanes.
    let flow = served.get("/flow").body;
    let (checker, label) = drawn_node(&flow, "execution/checker");
    assert!(checker.contains("class=\"node active\""), "{checker}");
    assert_eq!(label, None);
    assert!(!flow.contains("lane-label"), "{flow}");

    snapshot.set_run(
        Slot::lane(Plane::Execution, 2),
        lane_run("lane-two", "fixer"),
    );
    snapshot.set_run(
        Slot::lane(Plane::Execution, 3),
        lane_run("lane-three", "fixer"),
    );
    store.save_snapshot(&mut snapshot).expect("save");
    let flow = served.get("/flow").body;
    let (checker, label) = drawn_node(&flow, "execution/checker");
    assert!(checker.contains("class=\"node active\""), "{checker}");
    assert_eq!(label, Some("lane 1 · lane-one"));
    let (fixer, label) = drawn_node(&flow, "execution/fixer");
    assert!(fixer.contains("class=\"node active\""), "{fixer}");
    assert_eq!(label, Some("lane 2 · lane-two; lane 3 · lane-three"));
    let (builder, label) = drawn_node(&flow, "execution/builder");
    assert!(!builder.contains("active"), "{builder}");
    assert_eq!(label, None);
}

/// `mv logs logs.old` keeps the folder (the watch followed it away): the
/// server kept watching `logs.old` and never saw the new `logs/` journal.
#[test]
fn live_updates_go_on_after_the_logs_folder_is_renamed_away_and_made_again() {
    let ws = demo_workspace();
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut events = open_events(&served.host);
    let agents = ws.path().join("millrace-agents");
    let logs = agents.join("logs");
    std::fs::rename(&logs, agents.join("logs.old")).expect("rename logs");
    next_event(&mut events, "refresh");
    std::fs::create_dir(&logs).expect("make logs");
    append_journal(&logs.join("runtime_events.jsonl"), "after-rename");
    let data = next_journal_event(&mut events);
    assert!(data.contains("after-rename"), "{data}");
}

/// A `logs` that is a file when the server starts stopped live updates for
/// good; once it is a folder again they come.
#[test]
fn live_updates_come_once_a_logs_file_becomes_a_folder() {
    let ws = demo_workspace();
    let logs = ws.path().join("millrace-agents/logs");
    std::fs::remove_dir_all(&logs).expect("remove logs");
    std::fs::write(&logs, "not a folder\n").expect("logs as a file");
    let served = Served::start(ws.path(), "127.0.0.1:0", &[]);
    let mut events = open_events(&served.host);
    std::fs::remove_file(&logs).expect("remove the file");
    std::fs::create_dir(&logs).expect("make logs");
    append_journal(&logs.join("runtime_events.jsonl"), "folder-again");
    let data = next_journal_event(&mut events);
    assert!(data.contains("folder-again"), "{data}");
}
