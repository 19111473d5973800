//! The commented `millrace.toml` that `millrace init` writes.

/// The text of a fresh `millrace.toml`: every setting at its default, commented.
pub fn default_toml() -> &'static str {
    DEFAULT_TOML
}

const DEFAULT_TOML: &str = r#"# millrace.toml: the local operator's settings. Values here override loops and modes.
# Every key is optional; a key millrace does not know is an error.

[runtime]
# The mode `millrace run` uses when none is given.
default_mode = "default_codex"
# Seconds an idle daemon sleeps when no event wakes it.
idle_sleep_seconds = 1.0

[runners]
# The runner of stages that bind none: codex_cli, pi_rpc, claude_code, command, script.
default_runner = "codex_cli"

[runners.codex]
command = "codex"
args = ["exec"]
# profile = "work"
# basic | elevated | maximum
permission_default = "maximum"
# permission_by_stage = { checker = "basic" }
# permission_by_model = { "gpt-5-codex" = "elevated" }
skip_git_repo_check = true
# Each item is passed as `-c ITEM`.
extra_config = []
# env = { CODEX_HOME = "/path" }

[runners.pi]
command = "pi"
args = []
# provider = "anthropic"
# thinking = "high"
disable_context_files = true
disable_skills = true
# failure_full | full
event_log_policy = "failure_full"

[runners.claude]
command = "claude"
args = []
# permission_mode = "acceptEdits"   # bypassPermissions as root gets IS_SANDBOX=1
# allowed_tools = ["Bash", "Edit", "Write", "Read", "Glob", "Grep"]

[runners.command]
# command = "/usr/local/bin/my-runner"
args = []

[runners.script]
# The built-in script runner's answers, relative to millrace-agents/.
file = "script.toml"

[recovery]
# Checker -> fixer rounds per task.
max_fix_cycles = 2
# Troubleshooter attempts before the consultant is asked.
max_troubleshoot_attempts_before_consult = 2
# Mechanic attempts in planning.
max_mechanic_attempts = 2
stale_state_recovery_enabled = true

[auto_recovery]
# Requeue blocked work whose failure was transient (network, rate limit, timeout).
enabled = true
blocked_dependency_retry_enabled = true
max_auto_requeues_per_work_item = 3
# Wait before the n-th automatic requeue, in seconds; the last value repeats.
cooldown_seconds = [300, 900, 3600]
# Retries of a transient runner failure inside one stage: exponential backoff.
backoff_base_seconds = 2.0
backoff_max_seconds = 60.0
# Random spread of each delay, as a fraction.
backoff_jitter = 0.2
max_transient_retries = 2

[watchers]
enabled = true
debounce_ms = 250
watch_ideas_inbox = true
watch_specs_queue = true

[usage_governance]
# Pause new stages when token use reaches a threshold (checked between stages).
enabled = false
auto_resume = true

[[usage_governance.rules]]
rule_id = "rolling-5h-default"
# rolling_5h | calendar_week | daemon_session | per_run
window = "rolling_5h"
threshold = 750000

[[usage_governance.rules]]
rule_id = "calendar-week-default"
window = "calendar_week"
threshold = 5000000

[runs]
# Each run keeps its evidence in runs/<run_id>/ (prompts, requests, answers,
# stage results, run_trace.json), about 80 KB a run. A finished run's folder
# is removed once it is past either limit: by the daemon (at start and as runs
# finish) and by `millrace runs prune`. Always kept, whatever the limits: runs
# the daemon is executing, runs of queued, active or blocked work, runs an
# open incident or learning request names, and unidentified runs under a day old.
# Keep at most this many run folders, newest first; 0: no count limit.
keep_last = 1000
# Remove run folders untouched for more than this many days; 0: no age limit.
keep_days = 30

[skills]
# The remote skills index (a markdown table) that `millrace skills install ID`,
# `skills search` and the librarian read: an https:// or http:// URL, a file://
# URL or a path. Cached as skills/remote_skills_index.md; offline, the cache is used.
remote_index_url = "https://raw.githubusercontent.com/tim-osterhus/millrace-skills/main/index.md"
# How long one fetch of the index or a package may take, in seconds.
fetch_timeout_seconds = 10

[execution_capabilities]
# What stages may do: `millrace compile show` lists each node's grants and who
# holds them. false: no grants are compiled; runners run as configured.
enabled = true
# What one approval of a gate written here covers: stage | run | work_item.
approval_scope = "stage"
# true: a denial the node's runner cannot hold fails the compile.
fail_required_advisory = false
# Policies (allow | deny | approval_required), later wins: every stage, then
# one plane, then one node. A gated stage waits for `millrace approvals approve ID`.
# [execution_capabilities.defaults]
# "network.access" = "deny"
# [execution_capabilities.planes.execution]
# "package.install" = "approval_required"
# [execution_capabilities.stages.builder]
# "git.mutate" = "approval_required"

[lanes]
# Execution lanes: how many tasks run at once, each in its own git worktree
# (millrace-agents/lanes/<task-id>/) on branch millrace/<task-id>, entering the
# branch checked out here through one merge gate (docs/lanes.md). They help
# when the queue holds independent tasks whose Target-Paths do not overlap;
# tasks that touch the same paths still run one after the other. Overrides the
# mode's `lanes execution`; 1 to 16. More than one needs a loop whose tasks
# finish through the merge gate (mode default_codex_lanes, or `loop
# execution.parallel` in your mode). Outside git, or with a detached HEAD,
# one lane runs (`millrace doctor` says why).
# execution = 4
# A shell command run in a lane's worktree on its rebased commit before it
# merges; a failure sends the task back to the fixer. None: every merge passes.
# merge_check = "cargo test"
# How long the merge check may run, in seconds.
# merge_check_timeout = 1800

[params]
# Loop parameters by name, overriding loops and modes.
# max_fix_cycles = 3

# Per-stage bindings, overriding loops and modes:
# [stages.builder]
# runner = "codex_cli"
# model = "gpt-5-codex"
# thinking_level = "high"
# timeout_seconds = 3600
"#;
