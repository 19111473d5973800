//! The environment the `command` runner gives its program: the request,
//! variable by variable, and where to leave answers.

use super::{StageRequest, metadata_path, report_path};

/// `<run_dir>/request.<request_id>.json`: the request as JSON.
pub fn request_path(request: &StageRequest) -> std::path::PathBuf {
    request.artifact("request", "json")
}

/// `<run_dir>/last_message.<request_id>.txt`: the program's final message.
pub fn last_message_path(request: &StageRequest) -> std::path::PathBuf {
    request.artifact("last_message", "txt")
}

/// `<run_dir>/tokens.<request_id>.json`: the program's token counts.
pub fn tokens_path(request: &StageRequest) -> std::path::PathBuf {
    request.artifact("tokens", "json")
}

/// The `MILLRACE_*` variables for a stage, in a fixed order; values that do
/// not apply are empty.
pub fn stage_env(request: &StageRequest) -> Vec<(&'static str, String)> {
    let item = request.work_item.as_ref();
    let text = |p: &std::path::Path| p.display().to_string();
    let root_spec = request
        .closure_target
        .as_ref()
        .map(|t| t.root_spec_id.clone());
    let mut env = vec![
        ("MILLRACE_REQUEST_PATH", text(&request_path(request))),
        ("MILLRACE_REQUEST_ID", request.request_id.clone()),
        ("MILLRACE_RUN_ID", request.run_id.clone()),
        ("MILLRACE_RUN_DIR", text(&request.run_dir)),
        ("MILLRACE_PLANE", request.plane.clone()),
        ("MILLRACE_NODE", request.node.clone()),
        ("MILLRACE_STAGE", request.stage_kind.clone()),
        (
            "MILLRACE_WORK_ITEM_FAMILY",
            item.map(|i| i.family.clone()).unwrap_or_default(),
        ),
        (
            "MILLRACE_WORK_ITEM_ID",
            item.map(|i| i.id.clone()).unwrap_or_default(),
        ),
        (
            "MILLRACE_WORK_ITEM_PATH",
            item.map(|i| text(&i.path)).unwrap_or_default(),
        ),
        ("MILLRACE_ROOT_SPEC_ID", root_spec.unwrap_or_default()),
        ("MILLRACE_LEGAL_OUTCOMES", request.legal_outcomes.join(" ")),
        ("MILLRACE_AGENTS_DIR", text(&request.agents_dir)),
        ("MILLRACE_WORKSPACE", text(&request.workspace_root)),
        ("MILLRACE_PROMPT_PATH", text(&request.prompt_path)),
        (
            "MILLRACE_LAST_MESSAGE_PATH",
            text(&last_message_path(request)),
        ),
        ("MILLRACE_TOKENS_PATH", text(&tokens_path(request))),
        ("MILLRACE_METADATA_PATH", text(&metadata_path(request))),
        ("MILLRACE_REPORT_PATH", text(&report_path(request))),
    ];
    env.extend(super::grant_env(request));
    env
}
