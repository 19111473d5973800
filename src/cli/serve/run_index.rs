//! Run summaries kept in memory and re-read only for runs whose trace
//! changed, so a thousand runs cost a listing and a `stat` each.

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use crate::runtime::RunTrace;

/// One run as the list shows it.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub plane: String,
    pub status: String,
    pub work_item: Option<String>,
    pub stages: Vec<(String, String)>,
    created: SystemTime,
    trace_mtime: Option<SystemTime>,
}

/// The summaries of every run, refreshed on each read.
#[derive(Debug, Default)]
pub struct RunIndex {
    runs: HashMap<String, RunSummary>,
}

impl RunIndex {
    /// Every run, newest first.
    pub fn refresh(&mut self, runs_dir: &Path) -> Vec<RunSummary> {
        let Ok(entries) = std::fs::read_dir(runs_dir) else {
            self.runs.clear();
            return Vec::new();
        };
        let mut seen = HashMap::with_capacity(self.runs.len());
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let summary = self.summary(&entry.path(), &name);
            seen.insert(name, summary);
        }
        self.runs = seen;
        let mut all: Vec<RunSummary> = self.runs.values().cloned().collect();
        all.sort_by(|a, b| (b.created, &b.run_id).cmp(&(a.created, &a.run_id)));
        all
    }

    fn summary(&self, dir: &Path, name: &str) -> RunSummary {
        let trace_mtime = std::fs::metadata(RunTrace::path(dir))
            .and_then(|m| m.modified())
            .ok();
        match self.runs.get(name) {
            Some(known) if known.trace_mtime == trace_mtime => known.clone(),
            _ => summarize(dir, name, trace_mtime),
        }
    }
}

fn summarize(dir: &Path, name: &str, trace_mtime: Option<SystemTime>) -> RunSummary {
    let created = std::fs::metadata(dir)
        .and_then(|m| m.created().or_else(|_| m.modified()))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let trace = RunTrace::load(dir);
    let work_item = trace.as_ref().and_then(|t| t.work_item_id.clone());
    RunSummary {
        run_id: name.to_string(),
        plane: trace.as_ref().map_or_else(String::new, |t| t.plane.clone()),
        status: trace
            .as_ref()
            .map_or_else(|| "no_trace".into(), |t| t.status.clone()),
        stages: trace.map_or_else(Vec::new, |t| {
            t.nodes.into_iter().map(|n| (n.node, n.outcome)).collect()
        }),
        work_item,
        created,
        trace_mtime,
    }
}
