//! The dashboard in a real browser: headless Chromium driven through
//! chromedriver (WebDriver's JSON over HTTP on 127.0.0.1, spoken by the
//! small client in `http.rs`: a WebDriver crate would bring a second HTTP
//! stack for a dozen calls). While a `demo`-mode daemon runs: every view
//! loads without console errors, the Flow view's highlighted node changes
//! as stages complete, the Overview's counts equal `status --format json`,
//! and the Detail view of `demo-fix-me` shows its FIX_NEEDED and fix cycle.
//! Screenshots land in `target/tmp/serve-screenshots/`.
//!
//! Without chromium and chromedriver the test is skipped with a note,
//! except in CI (`CI=true`), where it fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::Served;
use super::http::request;
use crate::support::{TestWorkspace, millrace};

/// Every stage waits, so a browser can see each one run.
const SCRIPT: &str = r#"
[[step]]
node = "checker"
work_item = "demo-fix-me"
outcomes = ["FIX_NEEDED", "CHECKER_PASS"]
message = "The greeting is missing its closing punctuation."
delay_ms = 900

[[step]]
node = "builder"
delay_ms = 900

[[step]]
node = "checker"
delay_ms = 900

[[step]]
node = "fixer"
delay_ms = 900

[[step]]
node = "doublechecker"
delay_ms = 900

[[step]]
node = "updater"
delay_ms = 900
"#;

/// chromedriver and chromium, or `None` (with a note) outside CI.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| {
        names
            .iter()
            .map(|n| Path::new("/usr/bin").join(n))
            .find(|p| p.exists())
    };
    let driver = find(&["chromedriver"]);
    let chromium = find(&["chromium", "chromium-browser", "google-chrome"]);
    if let (Some(driver), Some(chromium)) = (driver, chromium) {
        return Some((driver, chromium));
    }
    let help = "chromium and chromedriver are not installed: apt-get install -y chromium chromium-driver (or run .ci/run)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{help}");
    }
    eprintln!("skipping: {help}");
    None
}

/// A chromedriver process and one browser session, ended on drop.
struct Driver {
    child: Child,
    host: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start(driver: &Path, chromium: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while !line.contains("started successfully") {
            line.clear();
            assert!(
                out.read_line(&mut line).expect("chromedriver output") > 0,
                "chromedriver did not start"
            );
        }
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let profile = tempfile::tempdir().expect("profile dir");
        let host = format!("127.0.0.1:{port}");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", format!("--user-data-dir={}", profile.path().display())]}
        }}});
        let created = call(&host, "POST", "/session", Some(&capabilities));
        let session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        let mut driver = Driver {
            child,
            host,
            session,
            _profile: profile,
        };
        driver.post("timeouts", json!({"script": 90_000, "pageLoad": 60_000}));
        driver
    }

    fn post(&mut self, command: &str, body: Value) -> Value {
        call(
            &self.host,
            "POST",
            &format!("/session/{}/{command}", self.session),
            Some(&body),
        )
    }

    fn open(&mut self, url: &str) {
        self.post("url", json!({"url": url}));
    }

    fn run(&mut self, script: &str, args: Value) -> Value {
        self.post("execute/sync", json!({"script": script, "args": args}))
    }

    fn wait(&mut self, script: &str, args: Value) -> Value {
        self.post("execute/async", json!({"script": script, "args": args}))
    }

    /// The browser console's errors since the last call.
    fn console_errors(&mut self) -> Vec<String> {
        let log = self.post("se/log", json!({"type": "browser"}));
        let entries = log.as_array().cloned().unwrap_or_default();
        let severe = entries.iter().filter(|e| e["level"] == "SEVERE");
        severe
            .map(|e| e["message"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    fn screenshot(&mut self, name: &str) {
        let value = call(
            &self.host,
            "GET",
            &format!("/session/{}/screenshot", self.session),
            None,
        );
        let png = decode_base64(value.as_str().expect("base64 PNG"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = request(
            &self.host,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver call; its `value`, or a panic with the driver's error.
fn call(host: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string);
    let response = request(host, method, path, &[], body.as_deref());
    let parsed: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    assert_eq!(response.status, 200, "{method} {path}: {}", response.body);
    parsed["value"].clone()
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let sextets: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, s)| acc | (u32::from(*s) << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}

/// Resolves with the execution plane's highlighted node once it differs
/// from `arguments[0]` (watching the page change, not polling), or null.
const NEXT_ACTIVE: &str = r#"
const previous = arguments[0], done = arguments[arguments.length - 1];
const active = () => {
  const node = document.querySelector('section[data-plane="execution"] g.node.active');
  return node ? node.getAttribute('data-node') : null;
};
const check = () => { const now = active(); if (now && now !== previous) { observer.disconnect(); done(now); return true; } return false; };
const observer = new MutationObserver(check);
if (!check()) {
  observer.observe(document.body, { childList: true, subtree: true });
  setTimeout(() => { observer.disconnect(); done(null); }, 60000);
}
"#;

/// Resolves once the page's event stream is open.
const LIVE: &str = r#"
const done = arguments[arguments.length - 1];
const live = document.getElementById('live');
const check = () => live.textContent === 'live';
if (check()) { done(true); } else {
  const observer = new MutationObserver(() => { if (check()) { observer.disconnect(); done(true); } });
  observer.observe(live, { childList: true, characterData: true, subtree: true });
}
"#;

fn demo_mode_workspace() -> TestWorkspace {
    let ws = TestWorkspace::new();
    ws.write("millrace.toml", "[runtime]\ndefault_mode = \"demo\"\n");
    ws.write("script.toml", SCRIPT);
    for (name, text) in [
        (
            "demo-hello.md",
            include_str!("../../assets/demo/demo-hello.md"),
        ),
        (
            "demo-fix-me.md",
            include_str!("../../assets/demo/demo-fix-me.md"),
        ),
    ] {
        let path = ws.root().join(name);
        std::fs::write(&path, text).expect("write task");
        ws.run(&["add-task", &path.display().to_string()]).ok();
    }
    ws
}

fn status_value(ws: &TestWorkspace, key: &str) -> String {
    let run = millrace(
        &[
            "status",
            "--format",
            "json",
            "--workspace",
            &ws.root().display().to_string(),
        ],
        ws.root(),
    )
    .ok();
    let status: Value = serde_json::from_str(&run.stdout).expect("status JSON");
    status[key].to_string()
}

#[test]
fn the_views_work_in_a_real_browser_while_a_demo_daemon_runs() {
    let Some((driver_bin, chromium)) = browser() else {
        return;
    };
    let ws = demo_mode_workspace();
    let served = Served::start(ws.root(), "127.0.0.1:0", &[]);
    let mut driver = Driver::start(&driver_bin, &chromium);
    let base = served.url.clone();
    driver.open(&format!("{base}flow"));
    assert_eq!(driver.wait(LIVE, json!([])), json!(true));

    let mut daemon = Command::new(env!("CARGO_BIN_EXE_millrace"))
        .args(["run", "daemon", "--until-idle", "--workspace"])
        .arg(ws.root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let mut seen: Vec<String> = Vec::new();
    let mut previous = Value::Null;
    while seen.len() < 3 {
        let next = driver.wait(NEXT_ACTIVE, json!([previous]));
        let Some(node) = next.as_str() else { break };
        seen.push(node.to_string());
        if seen.len() == 2 {
            driver.screenshot("flow");
        }
        previous = next;
    }
    assert!(
        seen.len() >= 2,
        "the highlighted node changed only through {seen:?}"
    );
    assert!(seen.iter().all(|n| n.starts_with("execution/")), "{seen:?}");
    assert_eq!(
        driver.console_errors(),
        Vec::<String>::new(),
        "on the Flow view"
    );
    assert!(daemon.wait().expect("the daemon ends").success());

    driver.open(&base);
    driver.screenshot("overview");
    for key in [
        "task_queue_depth",
        "spec_queue_depth",
        "incident_queue_depth",
        "execution_queue_depth",
    ] {
        let shown = driver.run(
            &format!("return document.querySelector('[data-status-key=\"{key}\"]').textContent"),
            json!([]),
        );
        assert_eq!(
            shown.as_str().unwrap_or("?"),
            status_value(&ws, key),
            "{key}"
        );
    }
    let daemon_state = driver.run(
        "return document.querySelector('[data-daemon]').dataset.daemon",
        json!([]),
    );
    assert_eq!(daemon_state, json!("stopped"));
    assert_eq!(
        driver.console_errors(),
        Vec::<String>::new(),
        "on the Overview"
    );

    driver.open(&format!("{base}items/demo-fix-me"));
    let text = driver.run(
        "return document.getElementById('main').innerText",
        json!([]),
    );
    let text = text.as_str().unwrap_or_default();
    for shown in ["FIX_NEEDED", "fixer", "done"] {
        assert!(
            text.contains(shown),
            "{shown} missing from the Detail view:\n{text}"
        );
    }
    driver.screenshot("detail");
    assert_eq!(
        driver.console_errors(),
        Vec::<String>::new(),
        "on the Detail view"
    );

    driver.open(&format!("{base}runs"));
    let first_run = driver.run(
        "return document.querySelector('table.runs a').getAttribute('href')",
        json!([]),
    );
    driver.screenshot("runs");
    driver.open(&format!(
        "{base}{}",
        first_run
            .as_str()
            .unwrap_or("/runs")
            .trim_start_matches('/')
    ));
    driver.screenshot("run");
    driver.open(&format!("{base}queue?family=task&state=done"));
    assert_eq!(
        driver.console_errors(),
        Vec::<String>::new(),
        "on the runs and queue views"
    );
}
