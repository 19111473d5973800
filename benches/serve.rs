//! `millrace serve` at scale: every page's render time at the server (its
//! `Server-Timing` header) with 10,000 queued tasks and 1,000 runs, and the
//! server's resident memory while an hour's worth of journal events (a busy
//! daemon's 36,000 lines, appended as fast as a stream client takes them)
//! is pushed to a live client, and how soon a journal line appended as the
//! daemon appends it reaches a live client over 127.0.0.1 (200 lines, one
//! at a time). Run with `cargo bench --bench serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use std::time::{Duration, Instant};

use millrace::workspace::journal::{Journal, RuntimeEvent};
use millrace::workspace::{Plane, WorkspacePaths};

mod common;
use common::write_tasks;

const BIN: &str = env!("CARGO_BIN_EXE_millrace");
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn millrace(args: &[&str]) -> Result<()> {
    let status = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("millrace {args:?} failed").into());
    }
    Ok(())
}

/// Copies the demo's runs until there are `count` run folders.
fn clone_runs(runs: &Path, count: usize) -> Result<String> {
    let template = std::fs::read_dir(runs)?
        .flatten()
        .next()
        .ok_or("no demo run")?
        .path();
    let name = template
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    for n in 0..count {
        let id = format!("run-bench{n:06}");
        let dir = runs.join(&id);
        std::fs::create_dir_all(dir.join("stage_results"))?;
        for entry in walk(&template)? {
            let relative = entry.strip_prefix(&template)?;
            let text = std::fs::read_to_string(&entry)?.replace(&name, &id);
            std::fs::write(dir.join(relative), text)?;
        }
    }
    Ok("run-bench000000".into())
}

fn walk(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_type()?.is_dir() {
            files.extend(walk(&entry.path())?);
        } else {
            files.push(entry.path());
        }
    }
    Ok(files)
}

fn get(host: &str, target: &str) -> Result<f64> {
    let mut stream = TcpStream::connect(host)?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let timing = text.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("server-timing: render;dur=")
            .map(str::to_string)
    });
    Ok(timing.ok_or("no timing")?.trim().parse()?)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("");
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn serve(root: &Path) -> Result<(Child, String)> {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--workspace"])
        .arg(root)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
    let host = line
        .trim()
        .trim_start_matches("dashboard: http://")
        .trim_end_matches('/')
        .to_string();
    Ok((child, host))
}

fn main() -> Result<()> {
    let temp = tempfile::tempdir()?;
    let root = temp.path();
    let root_arg = root.display().to_string();
    millrace(&["demo", "--workspace", &root_arg])?;
    let agents = root.join("millrace-agents");
    write_tasks(&agents.join("tasks/queue"), 10_000)?;
    let run = clone_runs(&agents.join("runs"), 1_000)?;
    let (mut child, host) = serve(root)?;
    let pages = [
        "/".to_string(),
        "/flow".into(),
        "/queue?family=task&state=queue&page=100".into(),
        "/items/t-005000".into(),
        "/items/demo-fix-me".into(),
        "/runs".into(),
        "/runs?item=demo-fix-me".into(),
        format!("/runs/{run}"),
    ];
    println!("10,000 queued tasks, 1,000 runs; render time at the server, 20 requests each:");
    for page in &pages {
        get(&host, page)?; // the first fills the caches (run index, drawing)
        let mut times: Vec<f64> = (0..20).map(|_| get(&host, page)).collect::<Result<_>>()?;
        times.sort_by(f64::total_cmp);
        println!(
            "  {page:<45} median {:>6.2} ms  max {:>6.2} ms",
            times[10], times[19]
        );
    }
    push_latency(&host, &WorkspacePaths::new(root))?;
    memory(&host, child.id(), &agents.join("logs/runtime_events.jsonl"))?;
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}

/// Appends 36,000 journal lines in bursts while a stream client reads,
/// printing the server's resident memory along the way.
fn memory(host: &str, pid: u32, journal: &Path) -> Result<()> {
    let mut client = TcpStream::connect(host)?;
    write!(client, "GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n")?;
    let reader = std::thread::spawn(move || {
        let mut sink = [0u8; 65536];
        while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
    });
    let mut file = std::fs::OpenOptions::new().append(true).open(journal)?;
    print!("memory while 36,000 events stream (KiB):");
    for burst in 0..360 {
        for n in 0..100 {
            writeln!(
                file,
                r#"{{"schema_version":"1.0","event_type":"stage_completed","occurred_at":"2026-01-01T00:00:00Z","data":{{"n":{}}}}}"#,
                burst * 100 + n
            )?;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        if burst % 60 == 0 || burst == 359 {
            print!(" {}", rss_kib(pid));
        }
    }
    println!();
    drop(reader);
    Ok(())
}

/// A stage completing, as the daemon journals it.
fn stage_completed(n: usize) -> RuntimeEvent {
    RuntimeEvent::StageCompleted {
        plane: Plane::Execution,
        run_id: format!("latency-{n}"),
        node: "checker".into(),
        outcome: "CHECKER_PASS".into(),
        result_class: "success".into(),
        duration_seconds: 1.0,
    }
}

/// The time from a journal append (through the daemon's own `Journal`) to
/// the event's arrival at a stream client, 200 times, one at a time.
fn push_latency(host: &str, paths: &WorkspacePaths) -> Result<()> {
    let mut client = TcpStream::connect(host)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(client, "GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n")?;
    let mut reader = BufReader::new(client);
    let journal = Journal::new(paths);
    let mut times = Vec::new();
    for n in 0..200 {
        let marker = format!("\"latency-{n}\"");
        let started = Instant::now();
        journal.append(stage_completed(n))?;
        let mut line = String::new();
        while !(line.starts_with("data:") && line.contains(&marker)) {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err("the event stream ended".into());
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "journal append to SSE client (200 events): median {:.2} ms  p95 {:.2} ms  max {:.2} ms",
        times[99], times[189], times[199]
    );
    Ok(())
}
