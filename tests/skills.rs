//! `millrace skills ...` through the real binary: installs from a folder,
//! an archive and an index served on 127.0.0.1, export and install
//! round-tripping byte for byte, bad packages refused with nothing
//! written, and the offline cache.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::support::TestWorkspace;

const SKILL: &str = "---\nname: csv-formats\ndescription: How to write RFC 4180 CSV.\ntags: data, csv\n---\n\n# CSV formats\n\nQuote fields that hold commas.\n";

/// A package folder `csv-formats/` with `SKILL.md` and a reference file.
fn package(dir: &Path) -> PathBuf {
    let root = dir.join("csv-formats");
    std::fs::create_dir_all(root.join("references")).expect("mkdir");
    std::fs::write(root.join("SKILL.md"), SKILL).expect("write");
    std::fs::write(root.join("references/rfc.md"), [0u8, 159, 146, 150]).expect("write");
    root
}

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    collect(dir, dir, &mut out);
    out
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let name = path
                .strip_prefix(root)
                .expect("inside")
                .display()
                .to_string();
            out.insert(name, std::fs::read(&path).unwrap_or_default());
        }
    }
}

/// A `.tar.gz` of `entries` (name → bytes), names written as given.
fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        let raw = header.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        builder.append(&header, *bytes).expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

#[test]
fn a_folder_installs_and_is_listed_shown_and_searched() {
    let ws = TestWorkspace::new();
    let source = package(ws.root());
    let run = ws
        .run(&["skills", "install", source.to_str().expect("utf8")])
        .ok();
    assert_eq!(run.value("installed_skill"), Some("csv-formats"));
    assert_eq!(run.value("version"), Some("1"));
    assert_eq!(files(&ws.path("skills/csv-formats")), files(&source));
    let ls = ws.run(&["skills", "ls"]).ok();
    assert!(
        ls.stdout.contains(
            "skill: csv-formats version=1 origin=installed path=skills/csv-formats/SKILL.md"
        ),
        "{}",
        ls.stdout
    );
    assert!(
        ls.stdout
            .contains("skill: fixer-core version=1 origin=shipped")
    );
    let show = ws
        .run(&["skills", "show", "csv-formats", "--format", "json"])
        .ok();
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).expect("json");
    assert_eq!(shown["tags"], serde_json::json!(["data", "csv"]));
    let search = ws.run(&["skills", "search", "RFC"]).ok();
    assert!(
        search.stdout.contains("installed: csv-formats"),
        "{}",
        search.stdout
    );
    let again = ws
        .run(&["skills", "install", source.to_str().expect("utf8")])
        .fails(1);
    assert!(
        again.stderr.contains("skill already exists: csv-formats"),
        "{}",
        again.stderr
    );
}

#[test]
fn export_then_install_round_trips_byte_for_byte() {
    let first = TestWorkspace::new();
    let source = package(first.root());
    first
        .run(&["skills", "install", source.to_str().expect("utf8")])
        .ok();
    let zip = first.root().join("out/csv-formats.zip");
    let run = first
        .run(&[
            "skills",
            "export",
            "csv-formats",
            "--output",
            zip.to_str().expect("utf8"),
        ])
        .ok();
    assert_eq!(run.value("path"), zip.to_str());
    let second = TestWorkspace::new();
    second
        .run(&["skills", "install", zip.to_str().expect("utf8")])
        .ok();
    assert_eq!(files(&second.path("skills/csv-formats")), files(&source));
    let index = |ws: &TestWorkspace| {
        let run = ws.run(&["skills", "show", "csv-formats"]).ok();
        run.value("checksum").map(str::to_string)
    };
    assert_eq!(index(&first), index(&second));
}

#[test]
fn a_tar_gz_installs_and_update_keeps_the_old_version_in_history() {
    let ws = TestWorkspace::new();
    let archive = ws.root().join("csv.tar.gz");
    std::fs::write(
        &archive,
        tar_gz(&[("csv-formats/SKILL.md", SKILL.as_bytes())]),
    )
    .expect("write");
    ws.run(&["skills", "install", archive.to_str().expect("utf8")])
        .ok();
    assert_eq!(ws.read("skills/csv-formats/SKILL.md"), SKILL);
    let newer = SKILL.replace("commas.", "commas or quotes.");
    std::fs::write(&archive, tar_gz(&[("SKILL.md", newer.as_bytes())])).expect("write");
    let run = ws
        .run(&[
            "skills",
            "install",
            archive.to_str().expect("utf8"),
            "--update",
        ])
        .ok();
    assert_eq!(run.value("version"), Some("2"));
    assert_eq!(ws.read("skills/csv-formats/SKILL.md"), newer);
    assert_eq!(ws.read("skills/.history/csv-formats/v1/SKILL.md"), SKILL);
    // A hand edit is never overwritten by --update, only by --force.
    ws.write("skills/csv-formats/SKILL.md", &format!("{newer}\nMine.\n"));
    let refused = ws.run(&[
        "skills",
        "install",
        archive.to_str().expect("utf8"),
        "--update",
    ]);
    assert!(
        refused
            .fails(1)
            .stderr
            .contains("was edited in the workspace")
    );
    let events = ws.read("logs/runtime_events.jsonl");
    assert!(events.contains("\"skill_changed\""), "{events}");
}

/// Each bad package is refused with an `error:` line, and `skills/` is as it was.
#[test]
fn bad_packages_are_refused_with_nothing_written() {
    let ws = TestWorkspace::new();
    let before = files(&ws.path("skills"));
    let bad = ws.root().join("bad");
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();

    let traversal = bad.join("traversal.tar.gz");
    std::fs::create_dir_all(&bad).expect("mkdir");
    let entries: &[(&str, &[u8])] = &[("SKILL.md", SKILL.as_bytes()), ("../escape.md", b"x")];
    std::fs::write(&traversal, tar_gz(entries)).expect("write");
    cases.push((traversal, "not inside the package"));

    let symlink = package(&bad.join("symlink"));
    std::os::unix::fs::symlink("/etc/hostname", symlink.join("host.md")).expect("symlink");
    cases.push((symlink, "links outside the package"));

    let oversize = package(&bad.join("oversize"));
    std::fs::write(oversize.join("big.bin"), vec![7u8; 1024 * 1024 + 1]).expect("write");
    cases.push((oversize, "more than the limit"));

    let missing = package(&bad.join("missing"));
    std::fs::remove_file(missing.join("SKILL.md")).expect("rm");
    cases.push((missing, "no `SKILL.md`"));

    for (path, why) in cases {
        let run = ws
            .run(&["skills", "install", path.to_str().expect("utf8")])
            .fails(1);
        assert!(
            run.stderr.starts_with("error: invalid skill package"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(why),
            "{}: {}",
            path.display(),
            run.stderr
        );
        assert_eq!(files(&ws.path("skills")), before, "{}", path.display());
    }
}

/// Serves `files` (URL path → bytes) over HTTP on 127.0.0.1; returns the base URL.
fn serve(files: BTreeMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
                    break;
                }
            }
            let mut out = &stream;
            let (status, body) = match files.get(&path) {
                Some(body) => ("200 OK", body.clone()),
                None => ("404 Not Found", Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body);
        }
    });
    base
}

const INDEX: &str = "# Skills\n\n| Skill | Description | Tags | Path | Status |\n| --- | --- | --- | --- | --- |\n\
| `csv-formats` | How to write RFC 4180 CSV. | `data` | `skills/csv-formats/SKILL.md` | available |\n\
| `retired` | Old. | `old` | `skills/retired/SKILL.md` | retired |\n";

fn set_index_url(ws: &TestWorkspace, url: &str) {
    let config = ws.read("millrace.toml");
    let start = config
        .find("remote_index_url = ")
        .expect("the default config names the index");
    let end = start + config[start..].find('\n').expect("line end");
    let edited = format!(
        "{}remote_index_url = \"{url}\"{}",
        &config[..start],
        &config[end..]
    );
    ws.write("millrace.toml", &edited);
}

#[test]
fn an_index_served_on_loopback_installs_by_id_and_its_cache_works_offline() {
    let ws = TestWorkspace::new();
    let mut served = BTreeMap::new();
    served.insert("/repo/index.md".to_string(), INDEX.as_bytes().to_vec());
    served.insert(
        "/repo/skills/csv-formats/SKILL.md".to_string(),
        SKILL.as_bytes().to_vec(),
    );
    let base = serve(served);
    set_index_url(&ws, &format!("{base}/repo/index.md"));
    let refresh = ws.run(&["skills", "refresh-remote-index"]).ok();
    assert_eq!(refresh.value("entries"), Some("2"));
    let search = ws.run(&["skills", "search", "csv"]).ok();
    assert!(
        search
            .stdout
            .contains("remote: csv-formats status=available"),
        "{}",
        search.stdout
    );
    let run = ws.run(&["skills", "install", "csv-formats"]).ok();
    assert_eq!(
        run.value("source"),
        Some(format!("{base}/repo/skills/csv-formats/SKILL.md").as_str())
    );
    assert_eq!(ws.read("skills/csv-formats/SKILL.md"), SKILL);
    let retired = ws.run(&["skills", "install", "retired"]).fails(1);
    assert!(
        retired.stderr.contains("is not available (status retired)"),
        "{}",
        retired.stderr
    );

    // Offline: nothing listens on the index's port any more.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    set_index_url(&ws, &format!("http://127.0.0.1:{port}/index.md"));
    let offline = ws.run(&["skills", "refresh-remote-index"]).fails(1);
    assert!(
        offline.stderr.contains("cannot fetch"),
        "{}",
        offline.stderr
    );
    assert!(
        offline.stderr.contains("the cached index is kept"),
        "{}",
        offline.stderr
    );
    let cached = ws.run(&["skills", "search", "csv"]).ok();
    assert!(
        cached.stdout.contains("remote: csv-formats"),
        "{}",
        cached.stdout
    );
}

/// The curator of a learning request accepts a candidate for `fixer-core`.
const CURATOR_SCRIPT: &str = r#"
[[step]]
node = "curator"
outcomes = ["CURATOR_COMPLETE"]
message = "The candidate is traceable and better."

[[step.writes]]
path = "{run_dir}/curator_decision.md"
content = '''
# Curator decision: {work_item_id}

Learning-Request-ID: {work_item_id}
Decision: accept
Change-Kind: improve
Target-Skill-ID: fixer-core
Target-Skill-Path: millrace-agents/skills/stage/execution/fixer-core/SKILL.md
Candidate-Path: millrace-agents/runs/{run_id}/professor_skill_candidate.md
Created-At: 2026-01-01T00:00:00Z
Created-By: curator
'''

[[step.writes]]
path = "{run_dir}/professor_skill_candidate.md"
content = '''
---
name: fixer-core
description: Fix exactly the findings given, each reproduced before and after.
---

# Fixer core

Reproduce every finding before you change code.
'''
"#;

const REQUEST: &str = "# Improve fixer-core\n\nLearning-Request-ID: learn-t1\nTitle: Improve fixer-core\n\
Requested-Action: improve\nTarget-Skill-ID: fixer-core\nTarget-Stage: curator\n\
Created-At: 2026-01-01T00:00:00Z\nCreated-By: test\n";

#[test]
fn a_curator_accepted_candidate_becomes_the_skills_next_version() {
    let ws = crate::daemon::scripted(CURATOR_SCRIPT);
    let shipped = ws.read("skills/stage/execution/fixer-core/SKILL.md");
    ws.write("learning/requests/queue/learn-t1.md", REQUEST);
    crate::daemon::run_until_idle(&ws);
    assert!(
        ws.path("learning/requests/done/learn-t1.md").is_file(),
        "{}",
        crate::daemon::monitor(&ws)
    );
    let now = ws.read("skills/stage/execution/fixer-core/SKILL.md");
    assert!(
        now.contains("Reproduce every finding before you change code."),
        "{now}"
    );
    assert_eq!(ws.read("skills/.history/fixer-core/v1/SKILL.md"), shipped);
    let ls = ws.run(&["skills", "ls"]).ok();
    assert!(
        ls.stdout.contains("skill: fixer-core version=2 origin=learned path=skills/stage/execution/fixer-core/SKILL.md\n"),
        "{}",
        ls.stdout
    );
    let events = ws.read("logs/runtime_events.jsonl");
    let changed = events
        .lines()
        .find(|l| l.contains("\"skill_changed\""))
        .expect("the change is journaled");
    let event: serde_json::Value = serde_json::from_str(changed).expect("json");
    assert_eq!(event["data"]["learning_request_id"], "learn-t1");
    assert_eq!(event["data"]["operation"], "curator_promotion");
    let run_id = event["data"]["run_id"].as_str().expect("a run id");
    assert!(
        ws.path(&format!("runs/{run_id}/curator_decision.md"))
            .is_file()
    );
    let record = ws.path(&format!(
        "learning/update-candidates/applied/{run_id}-learn-t1.json"
    ));
    assert!(record.is_file(), "the applied record is kept");
    // The plan was recompiled over the new skill: it is current.
    let status = ws.run(&["status"]).ok();
    assert_eq!(
        status.value("compiled_plan_currentness"),
        Some("current"),
        "{}",
        status.stdout
    );
}

#[test]
fn the_demo_shows_the_improved_skill_and_the_installed_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dir.path().join("demo");
    let run = crate::support::millrace(
        &["demo", "--workspace", ws.to_str().expect("utf8")],
        dir.path(),
    )
    .ok();
    assert!(
        run.stdout
            .contains("skill changed: greeting-style version 2 by curator_promotion"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  + - End a greeting with punctuation.\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("skill changed: release-notes version 1 by librarian_install")
    );
    let done = ws.join("millrace-agents/learning/requests/done");
    let requests: Vec<String> = std::fs::read_dir(&done)
        .expect("done requests")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("read"))
        .collect();
    assert_eq!(requests.len(), 2, "both learning requests are done");
    let planned = requests
        .iter()
        .find(|r| r.contains("\"rule_source\":\"planner\""))
        .expect("the librarian's request");
    assert!(
        planned.contains("\"root_spec_id\":\"idea-greeting\""),
        "it names the root spec of the work that triggered it:\n{planned}"
    );
}

const LIBRARIAN_SCRIPT: &str = r#"
[[step]]
node = "librarian"
outcomes = ["LIBRARIAN_COMPLETE"]

[[step.writes]]
path = "{run_dir}/librarian_selection_report.md"
content = '''
# Librarian selection: {work_item_id}

Install:
- no-such-skill: named by mistake
'''
"#;

#[test]
fn a_failed_librarian_install_blocks_only_its_learning_request() {
    let ws = crate::daemon::scripted(LIBRARIAN_SCRIPT);
    let index = ws.root().join("index.md");
    std::fs::write(&index, INDEX).expect("write");
    set_index_url(&ws, index.to_str().expect("utf8"));
    let request = REQUEST
        .replace("learn-t1", "learn-lib")
        .replace("Target-Stage: curator", "Target-Stage: librarian")
        .replace("Requested-Action: improve", "Requested-Action: install");
    ws.write("learning/requests/queue/learn-lib.md", &request);
    crate::daemon::enqueue(&ws, "t-1", &[]);
    crate::daemon::run_until_idle(&ws);
    assert!(
        ws.path("tasks/done/t-1.md").is_file(),
        "the task is not held"
    );
    assert!(ws.path("learning/requests/blocked/learn-lib.md").is_file());
    let log = crate::daemon::monitor(&ws);
    assert!(
        log.contains(
            "effect skill_install fault: skill_install_failed: no-such-skill: skill not found"
        ),
        "{log}"
    );
    assert!(!ws.path("skills/no-such-skill").exists());
}

/// With a live daemon, `skills install` goes to its mailbox; the daemon applies it.
#[test]
fn with_a_live_daemon_an_install_goes_through_the_mailbox() {
    let ws = crate::daemon::scripted("");
    let source = package(ws.root());
    let record = serde_json::json!({
        "workspace_root": ws.root(),
        "owner_pid": std::process::id(),
        "owner_hostname": millrace::workspace::lock::hostname(),
        "owner_session_id": "test-session",
        "boot_id": millrace::workspace::lock::current_boot_id(),
        "acquired_at": "2026-01-01T00:00:00Z",
    });
    ws.write("state/runtime_daemon.lock.json", &record.to_string());
    let run = ws.run(&["skills", "install", "./csv-formats"]).ok();
    assert_eq!(run.value("mode"), Some("mailbox"), "{}", run.stdout);
    assert_eq!(run.value("action"), Some("install_skill"));
    let mailed =
        std::fs::read_to_string(run.value("mailbox_path").expect("a path")).expect("the envelope");
    let envelope: serde_json::Value = serde_json::from_str(&mailed).expect("json");
    assert_eq!(
        envelope["payload"]["reference"],
        source.display().to_string(),
        "a path is sent absolute"
    );
    assert!(
        !ws.path("skills/csv-formats").exists(),
        "nothing installed yet"
    );
    std::fs::remove_file(ws.path("state/runtime_daemon.lock.json")).expect("unlock");
    crate::daemon::run_until_idle(&ws);
    assert_eq!(files(&ws.path("skills/csv-formats")), files(&source));
    let log = crate::daemon::monitor(&ws);
    assert!(
        log.contains("mailbox install_skill applied: skill csv-formats version 1 installed"),
        "{log}"
    );
}

/// The librarian names `csv-formats`; the mode binds that optional skill to
/// the builder. Installed, it is read by the next builder: the running
/// daemon recompiled its plan over it.
#[test]
fn a_skill_the_librarian_installs_is_read_where_the_mode_binds_it() {
    let ws = crate::daemon::scripted(&LIBRARIAN_SCRIPT.replace("no-such-skill", "csv-formats"));
    ws.write(
        "modes/test.loop",
        "mode test extends learning_codex {\n  runner script\n  timeout 30\n  builder {\n    skill \"skills/csv-formats/SKILL.md\"\n  }\n}\n",
    );
    let index = ws.root().join("idx/index.md");
    std::fs::create_dir_all(ws.root().join("idx/skills/csv-formats")).expect("mkdir");
    std::fs::write(&index, INDEX).expect("write");
    std::fs::write(ws.root().join("idx/skills/csv-formats/SKILL.md"), SKILL).expect("write");
    set_index_url(&ws, index.to_str().expect("utf8"));
    let request = REQUEST
        .replace("Target-Stage: curator", "Target-Stage: librarian")
        .replace("Requested-Action: improve", "Requested-Action: install");
    ws.write("learning/requests/queue/learn-t1.md", &request);
    crate::daemon::run_until_idle(&ws);
    assert_eq!(ws.read("skills/csv-formats/SKILL.md"), SKILL);
    let log = crate::daemon::monitor(&ws);
    assert!(log.contains("skills recompiled: reload"), "{log}");
    assert!(log.contains("takes over from"), "{log}");
    let status = ws.run(&["status"]).ok();
    assert_eq!(status.value("compiled_plan_currentness"), Some("current"));
    crate::daemon::enqueue(&ws, "t-1", &[]);
    crate::daemon::run_until_idle(&ws);
    let run = crate::daemon::outcomes_of(&ws, "t-1");
    assert!(!run.is_empty(), "the task ran");
    let prompts = files(&ws.path("runs"));
    let builder = prompts
        .iter()
        .filter(|(name, _)| name.contains("/prompt."))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .find(|text| text.contains("entrypoints/execution/builder.md"))
        .expect("the builder's prompt");
    assert!(builder.contains("skills/csv-formats/SKILL.md"), "{builder}");
}

#[test]
fn create_and_improve_queue_learning_requests_in_a_learning_mode() {
    let ws =
        crate::daemon::scripted("[[step]]\nnode = \"analyst\"\noutcomes = [\"ANALYST_NOOP\"]\n");
    let refused = ws.run(&["skills", "create", "csv rules"]).fails(1);
    assert!(
        refused
            .stderr
            .contains("does not enable the learning plane"),
        "{}",
        refused.stderr
    );
    let unknown = ws
        .run(&["skills", "improve", "nope", "--mode", "test"])
        .fails(1);
    assert!(
        unknown.stderr.contains("skill not found: nope"),
        "{}",
        unknown.stderr
    );
    let queued = ws
        .run(&["skills", "improve", "fixer-core", "--mode", "test"])
        .ok();
    let path = queued.value("queued_learning_request").expect("a path");
    let text = std::fs::read_to_string(path).expect("the request");
    assert!(text.contains("Requested-Action: improve\n"), "{text}");
    assert!(text.contains("Target-Skill-ID: fixer-core\n"), "{text}");
    let foreground = ws
        .run(&[
            "skills",
            "create",
            "csv rules",
            "--mode",
            "test",
            "--foreground",
        ])
        .ok();
    assert_eq!(
        foreground.value("learning_request_state"),
        Some("done"),
        "{}",
        foreground.stdout
    );
}
