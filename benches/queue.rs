//! Queue figures: enqueue throughput, open (scan) time, claim cost and depth counting
//! at 10, 1,000 and 100,000 queued tasks. Run with `cargo bench --bench queue`.

use std::time::{Duration, Instant};

use millrace::workspace::documents::{self, WorkDocument};
use millrace::workspace::queue::{self, ClaimFilter, QueueStore};
use millrace::workspace::{Family, LifecycleState, Plane, WorkspacePaths};

fn task(id: &str, n: usize) -> WorkDocument {
    let text = format!(
        "# Task {id}\n\nTask-ID: {id}\nCreated-At: 2026-01-01T{:02}:{:02}:{:02}Z\nCreated-By: bench\n\nTarget-Paths:\n- x\n\nAcceptance:\n- x\n\nRequired-Checks:\n- x\n\nReferences:\n- x\n\nRisk:\n- x\n",
        (n / 3600) % 24,
        (n / 60) % 60,
        n % 60
    );
    documents::parse_markdown(Family::Task, std::path::Path::new("b.md"), &text)
        .expect("bench task")
}

fn per(total: Duration, n: usize) -> String {
    format!("{:.1} µs", total.as_secs_f64() * 1e6 / n.max(1) as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for size in [10, 1_000, 100_000] {
        let temp = tempfile::tempdir()?;
        let paths = WorkspacePaths::new(temp.path());
        paths.create_layout()?;
        let mut store = QueueStore::open(&paths)?;
        let durable = size.min(1_000);
        let start = Instant::now();
        for n in 0..durable {
            store.enqueue(&task(&format!("t-{n:06}"), n))?;
        }
        let enqueue = start.elapsed();
        let dir = paths.lifecycle_dir(Family::Task, LifecycleState::Queued);
        for n in durable..size {
            let id = format!("t-{n:06}");
            std::fs::write(dir.join(format!("{id}.md")), task(&id, n).render())?;
        }
        let start = Instant::now();
        let mut store = QueueStore::open(&paths)?;
        let open = start.elapsed();
        let start = Instant::now();
        let depths = queue::count_queued(&paths)?;
        let count = start.elapsed();
        // Let the directory go quiet so its count can be cached, as for a waiting queue.
        std::thread::sleep(Duration::from_millis(2100));
        queue::count_queued(&paths)?;
        let start = Instant::now();
        queue::count_queued(&paths)?;
        let cached = start.elapsed();
        let claims = size.min(100);
        let start = Instant::now();
        for _ in 0..claims {
            store
                .claim(&[Family::Task], &ClaimFilter::default())?
                .ok_or("empty queue")?;
        }
        let claim = start.elapsed();
        println!(
            "{size:>7} tasks: enqueue {} each (durable, {durable} items), open/scan {:?}, \
             count_queued {:?} ({} queued; cached {:?}), claim {} each",
            per(enqueue, durable),
            open,
            count,
            depths.plane(Plane::Execution),
            cached,
            per(claim, claims)
        );
    }
    Ok(())
}
