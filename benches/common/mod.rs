//! What several benches build alike.

use std::path::Path;

/// Writes `count` valid queued tasks (`t-000000.md`, ...) into `dir`.
pub fn write_tasks(dir: &Path, count: usize) -> std::io::Result<()> {
    for n in 0..count {
        let id = format!("t-{n:06}");
        let text = format!(
            "# Task {id}\n\nTask-ID: {id}\nTitle: Task {id}\nCreated-At: 2026-01-01T00:00:00Z\nCreated-By: bench\n\n\
             Target-Paths:\n- x\n\nAcceptance:\n- x\n\nRequired-Checks:\n- x\n\nReferences:\n- x\n\nRisk:\n- x\n"
        );
        std::fs::write(dir.join(format!("{id}.md")), text)?;
    }
    Ok(())
}
