//! The ids and titles of the incidents a handoff to planning opens. They
//! are the reference's names: operators and scripts that know them find
//! the same files here. Each takes a short suffix that makes the id unique
//! per stage and stable when a stage is applied again after a crash.

/// `incident-<source>-<suffix>`: planning is needed for a work item.
pub fn for_item(source_id: &str, suffix: &str) -> (String, String) {
    (
        format!("incident-{source_id}-{suffix}"),
        format!("Planning needed for {source_id}"),
    )
}

/// `arbiter-gap-<root>-<suffix>`: the closure stage asked for remediation
/// of a root spec's body of work.
pub fn for_closure_gap(root_spec_id: &str, suffix: &str) -> (String, String) {
    (
        format!("arbiter-gap-{root_spec_id}-{suffix}"),
        format!("Arbiter remediation for {root_spec_id}"),
    )
}

/// `incident-<stage>-<suffix>`: a stage with no work item handed off.
pub fn for_stage(node: &str, suffix: &str) -> (String, String) {
    (
        format!("incident-{node}-{suffix}"),
        format!("Planning needed after {node}"),
    )
}
