//! `queue repair-lineage --apply`: drifted lineage work (see
//! [`crate::workspace::lineage`]) gets its closure target's root spec. Each
//! rewritten document is audited in its family's log, each target's repair
//! is kept as a report under `arbiter/diagnostics/lineage-repairs/` and
//! journaled.

use serde_json::json;

use super::InterventionError;
use super::checks::{check_id, check_reason};
use super::record::{self, InterventionRecord};
use crate::fs_error::at;
use crate::workspace::atomic::write_atomic;
use crate::workspace::closure_targets::{self, ClosureTarget};
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::lineage::{self, RepairPlan};
use crate::workspace::queue::QueueStore;
use crate::workspace::timestamp::Timestamp;

/// The repair plans of one open target (`root`) or of every open one.
pub fn repair_plans(
    queue: &QueueStore,
    root: Option<&str>,
) -> Result<Vec<RepairPlan>, InterventionError> {
    let targets: Vec<ClosureTarget> = match root {
        Some(root) => {
            check_id("root spec id", root)?;
            let target = closure_targets::load(queue.paths(), root)
                .filter(|t| t.closure_open)
                .ok_or_else(|| InterventionError::Unknown {
                    what: "open closure target",
                    id: root.to_string(),
                })?;
            vec![target]
        }
        None => closure_targets::open(queue.paths()),
    };
    Ok(targets.iter().map(|t| lineage::plan(queue, t)).collect())
}

/// Applies the repair of one target or of every open one; the detail says
/// how many documents were rewritten.
pub fn repair_lineage(
    queue: &mut QueueStore,
    journal: &Journal,
    root: Option<&str>,
    reason: &str,
) -> Result<String, InterventionError> {
    let reason = check_reason(reason)?;
    let plans = repair_plans(queue, root)?;
    let mut repaired = 0;
    for plan in &plans {
        repaired += apply_one(queue, journal, plan, reason)?;
    }
    Ok(format!(
        "repaired {repaired} documents for {} closure targets",
        plans.len()
    ))
}

fn apply_one(
    queue: &mut QueueStore,
    journal: &Journal,
    plan: &RepairPlan,
    reason: &str,
) -> Result<usize, InterventionError> {
    // The report's folder first: a repair is never left without its report.
    let reports = reports_dir(queue);
    std::fs::create_dir_all(&reports).map_err(at("create", &reports))?;
    let repaired = lineage::apply(queue, plan)?;
    for change in &plan.changes {
        let details = json!({"field": change.field, "old": change.old, "new": change.new});
        let entry = InterventionRecord::new("repair_lineage", change.family, &change.id, reason)
            .details(details);
        record::audit(queue, &entry)?;
    }
    let report = write_report(queue, plan, reason)?;
    let event = RuntimeEvent::ClosureLineageRepaired {
        root_spec_id: plan.root_spec_id.clone(),
        repair_count: repaired,
        repair_report_path: report,
        reason: reason.to_string(),
    };
    record::journal(journal, event, String::new());
    Ok(repaired)
}

/// `arbiter/diagnostics/lineage-repairs/<time>-<root>.json`: the plan as applied.
fn write_report(
    queue: &QueueStore,
    plan: &RepairPlan,
    reason: &str,
) -> Result<String, InterventionError> {
    let stamp = Timestamp::now().to_string().replace([':', '-'], "");
    let path = reports_dir(queue).join(format!("{stamp}-{}.json", plan.root_spec_id));
    let report = json!({"applied": true, "reason": reason, "plan": plan});
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    write_atomic(&path, text.as_bytes()).map_err(at("write", &path))?;
    Ok(path.display().to_string())
}

fn reports_dir(queue: &QueueStore) -> std::path::PathBuf {
    queue
        .paths()
        .closure_diagnostics_dir()
        .join("lineage-repairs")
}
