//! `queue ls` and `status` latency through the real binary at 10, 1,000 and
//! 100,000 queued tasks: cold (the queue directory just changed, so it is
//! listed) and cached (a quiet directory's count comes from the depth cache).
//! Run with `cargo bench --bench status`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::write_tasks;

const BIN: &str = env!("CARGO_BIN_EXE_millrace");

fn millrace(workspace: &Path, args: &[&str]) -> Result<Duration, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let status = Command::new(BIN)
        .args(args)
        .arg("--workspace")
        .arg(workspace)
        .stdout(Stdio::null())
        .status()?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("millrace {args:?} failed: {status}").into());
    }
    Ok(elapsed)
}

/// The median of `runs` timings.
fn median(
    workspace: &Path,
    args: &[&str],
    runs: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(millrace(workspace, args)?);
    }
    times.sort();
    Ok(times[runs / 2])
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for size in [10, 1_000, 100_000] {
        let temp = tempfile::tempdir()?;
        let workspace = temp.path();
        millrace(workspace, &["init"])?;
        millrace(workspace, &["compile", "validate"])?;
        write_tasks(&workspace.join("millrace-agents/tasks/queue"), size)?;
        let status_cold = millrace(workspace, &["status"])?;
        let ls_cold = millrace(workspace, &["queue", "ls"])?;
        // Let the directory go quiet so its count can be cached, as for a waiting queue.
        std::thread::sleep(Duration::from_millis(2100));
        millrace(workspace, &["queue", "ls"])?;
        let ls = median(workspace, &["queue", "ls"], 9)?;
        let status = median(workspace, &["status"], 9)?;
        let json = median(workspace, &["status", "--format", "json"], 9)?;
        println!(
            "{size:>7} queued tasks: queue ls {} (cold {}), status {} (cold {}), status --format json {}",
            ms(ls),
            ms(ls_cold),
            ms(status),
            ms(status_cold),
            ms(json)
        );
    }
    Ok(())
}
