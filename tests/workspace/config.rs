//! `millrace.toml`: defaults, the init text, friendly unknown-key errors with lines.

use std::path::Path;

use millrace::workspace::config::{self, CodexPermission, Config, ConfigError, UsageWindow};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("millrace-agents/millrace.toml"))
}

fn error(text: &str) -> String {
    parse(text).expect_err("invalid config").to_string()
}

#[test]
fn the_init_text_parses_to_the_defaults() {
    assert_eq!(
        parse(config::default_toml()).expect("default text"),
        Config::default()
    );
    assert_eq!(parse("").expect("empty"), Config::default());
}

#[test]
fn defaults_follow_the_reference() {
    let config = Config::default();
    assert_eq!(config.runtime.default_mode, "default_codex");
    assert_eq!(
        config.runners.codex.permission_default,
        CodexPermission::Maximum
    );
    assert_eq!(config.recovery.max_fix_cycles, 2);
    assert_eq!(config.auto_recovery.cooldown_seconds, [300, 900, 3600]);
    assert_eq!(config.watchers.debounce_ms, 250);
    assert_eq!((config.runs.keep_last, config.runs.keep_days), (1000, 30));
    assert!(!config.usage_governance.enabled);
    assert_eq!(
        config.usage_governance.rules[0].window,
        UsageWindow::Rolling5h
    );
}

#[test]
fn a_reference_bootstrap_config_is_accepted() {
    let text = "[runtime]\ndefault_mode = \"default_codex\"\nrun_style = \"daemon\"\n\n[runners.codex]\npermission_default = \"maximum\"\n";
    assert_eq!(parse(text).expect("reference config"), Config::default());
}

#[test]
fn sections_and_free_tables_parse() {
    let text = r#"
[runners.codex]
permission_by_stage = { checker = "basic" }
env = { CODEX_HOME = "/tmp/codex" }

[params]
max_fix_cycles = 4

[stages.builder]
model = "gpt-5-codex"
thinking_level = "high"
timeout_seconds = 7200
"#;
    let config = parse(text).expect("valid");
    assert_eq!(
        config.runners.codex.permission_by_stage["checker"],
        CodexPermission::Basic
    );
    assert_eq!(config.params["max_fix_cycles"], 4);
    assert_eq!(config.stages["builder"].timeout_seconds, Some(7200));
    assert_eq!(config.stage_names().collect::<Vec<_>>(), ["builder"]);
}

#[test]
fn unknown_keys_name_the_dotted_key_line_and_closest_known_key() {
    insta::assert_snapshot!(
        error("[runtime]\ndefault_mode = \"x\"\n\n[runners.codex]\npermision_default = \"basic\"\n"),
        @"millrace-agents/millrace.toml:5: unknown key `runners.codex.permision_default`; did you mean `permission_default`?"
    );
    insta::assert_snapshot!(
        error("[runtime]\nidle_sleep_second = 2.0\n"),
        @"millrace-agents/millrace.toml:2: unknown key `runtime.idle_sleep_second`; did you mean `idle_sleep_seconds`?"
    );
    insta::assert_snapshot!(
        error("[runers]\ndefault_runner = \"pi_rpc\"\n"),
        @"millrace-agents/millrace.toml:1: unknown key `runers`; did you mean `runners`?"
    );
    insta::assert_snapshot!(
        error("[stages.builder]\nmodle = \"m\"\n"),
        @"millrace-agents/millrace.toml:2: unknown key `stages.builder.modle`; did you mean `model`?"
    );
    insta::assert_snapshot!(
        error("[runners]\ncodex.comand = \"c\"\n"),
        @"millrace-agents/millrace.toml:2: unknown key `runners.codex.comand`; did you mean `command`?"
    );
}

#[test]
fn bad_values_name_file_and_line() {
    insta::assert_snapshot!(
        error("[runners.codex]\npermission_default = \"maximal\"\n"),
        @"millrace-agents/millrace.toml:2: `runners.codex.permission_default`: unknown value `maximal`, expected one of `basic`, `elevated`, `maximum`; did you mean `maximum`?"
    );
    insta::assert_snapshot!(
        error("[recovery]\nmax_fix_cycles = 0\n"),
        @"millrace-agents/millrace.toml:2: `recovery.max_fix_cycles` must be > 0"
    );
    insta::assert_snapshot!(
        error("[watchers]\ndebounce_ms = \"fast\"\n"),
        @"millrace-agents/millrace.toml:2: `watchers.debounce_ms`: invalid type: string \"fast\", expected a whole number, 0 or more"
    );
    insta::assert_snapshot!(
        error("[runs]\nkeep_last = -1\n"),
        @"millrace-agents/millrace.toml:2: `runs.keep_last`: invalid value: integer `-1`, expected a whole number, 0 or more"
    );
    insta::assert_snapshot!(
        error("[runs]\nkeep_days = 1.5\n"),
        @"millrace-agents/millrace.toml:2: `runs.keep_days`: invalid type: floating point `1.5`, expected a whole number, 0 or more"
    );
    insta::assert_snapshot!(
        error("[runtime\n"),
        @"millrace-agents/millrace.toml:1: unclosed table, expected `]`"
    );
}

#[test]
fn lanes_are_read_and_checked_with_the_modes_limits() {
    let lanes =
        parse("[lanes]\nexecution = 4\nmerge_check = \"cargo test\"\nmerge_check_timeout = 600\n")
            .expect("valid")
            .lanes;
    assert_eq!(lanes.execution, Some(4));
    assert_eq!(lanes.merge_check.as_deref(), Some("cargo test"));
    assert_eq!(lanes.merge_check_timeout, Some(600));
    assert_eq!(Config::default().lanes.execution, None);
    insta::assert_snapshot!(
        error("[runtime]\nidle_sleep_seconds = 1.0\n\n[lanes]\nexecution = 17\n"),
        @"millrace-agents/millrace.toml:5: `lanes.execution` must be from 1 to 16"
    );
    insta::assert_snapshot!(
        error("[lanes]\nexecution = 0\n"),
        @"millrace-agents/millrace.toml:2: `lanes.execution` must be from 1 to 16"
    );
    insta::assert_snapshot!(
        error("[lanes]\nmerge_check = \" \"\n"),
        @"millrace-agents/millrace.toml:2: `lanes.merge_check` must be a command; leave it out for no check"
    );
    insta::assert_snapshot!(
        error("[lanes]\nmerge_check = \"make\"\nmerge_check_timeout = 0\n"),
        @"millrace-agents/millrace.toml:3: `lanes.merge_check_timeout` must be > 0"
    );
    insta::assert_snapshot!(
        error("[lanes]\nexecusion = 2\n"),
        @"millrace-agents/millrace.toml:2: unknown key `lanes.execusion`; did you mean `execution`?"
    );
}

/// A `millrace.toml` written for the reference loads: its aliases and token
/// rules mean what they mean there; keys without effect here are warnings.
#[test]
fn a_reference_config_loads_with_warnings_naming_its_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference_oracle/millrace.toml");
    let config = Config::load(&path).expect("a reference config loads");
    assert_eq!(
        config.stages["builder"].thinking_level.as_deref(),
        Some("xhigh")
    );
    assert_eq!(
        config.stages["checker"].thinking_level.as_deref(),
        Some("low")
    );
    let rules: Vec<(&str, u64)> = config
        .usage_governance
        .rules
        .iter()
        .map(|rule| (rule.rule_id.as_str(), rule.threshold))
        .collect();
    assert_eq!(rules, [("five-hours", 500_000)]);
    let warnings = config.warnings.join("\n");
    for key in ["calendar_timezone", "subscription_quota_rules"] {
        assert!(warnings.contains(key), "{key} not named in:\n{warnings}");
    }
    assert!(!warnings.contains("execution_capabilities"), "{warnings}");
    let capabilities = &config.execution_capabilities;
    assert!(capabilities.enabled);
    assert_eq!(
        capabilities.defaults.get("network.access"),
        Some(&millrace::vocab::capability::Policy::Deny)
    );
}

#[test]
fn a_reference_alias_that_disagrees_is_refused() {
    let text = "[stages.builder]\nthinking_level = \"low\"\nmodel_reasoning_effort = \"high\"\n";
    let error = Config::parse(text, Path::new("millrace.toml")).expect_err("refused");
    assert!(error.to_string().contains("must match"), "{error}");
}
