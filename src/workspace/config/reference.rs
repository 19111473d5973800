//! Keys of the reference's `millrace.toml` (millrace-ai 0.20.0) that ours
//! reads differently: aliases are taken, its token rules become ours, and a
//! key that means nothing here is a warning naming it, never a refusal.

use std::path::Path;

use super::ConfigError;
use super::model::{Config, UsageRule};
use super::reference_rules::ReferenceTokenRule;

impl Config {
    /// Applies the reference's keys: `model_reasoning_effort` as
    /// `thinking_level`, `runtime_token_rules` as `rules`; keys without a
    /// meaning here become [`Config::warnings`].
    pub(super) fn adopt_reference_keys(
        &mut self,
        path: &Path,
        text: &str,
    ) -> Result<(), ConfigError> {
        self.adopt_stage_aliases(path, text)?;
        self.adopt_usage_keys(path, text)?;
        Ok(())
    }

    fn adopt_stage_aliases(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        for (stage, binding) in &mut self.stages {
            let Some(effort) = binding.model_reasoning_effort.take() else {
                continue;
            };
            match &binding.thinking_level {
                Some(level) if *level != effort => {
                    return Err(invalid(
                        path,
                        text,
                        "model_reasoning_effort",
                        format!(
                            "`stages.{stage}`: `thinking_level` and `model_reasoning_effort` must match when both are set"
                        ),
                    ));
                }
                _ => binding.thinking_level = Some(effort),
            }
        }
        Ok(())
    }

    fn adopt_usage_keys(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let usage = &mut self.usage_governance;
        if let Some(boundary) = usage.evaluation_boundary.take()
            && boundary != "between_stages"
        {
            let message = format!(
                "`usage_governance.evaluation_boundary` must be `between_stages`, not `{boundary}`"
            );
            return Err(invalid(path, text, "evaluation_boundary", message));
        }
        if let Some(zone) = usage.calendar_timezone.take()
            && zone != "UTC"
        {
            self.warnings.push(format!(
                "`usage_governance.calendar_timezone = \"{zone}\"` is not supported: calendar weeks are counted in UTC"
            ));
        }
        if let Some(quota) = usage.subscription_quota_rules.take() {
            let on = quota.get("enabled").and_then(toml::Value::as_bool) == Some(true);
            let effect = if on {
                "it is ignored: no subscription quota is read here"
            } else {
                "it is off and has no effect here"
            };
            self.warnings.push(format!(
                "`usage_governance.subscription_quota_rules`: {effect}"
            ));
        }
        if let Some(token_rules) = usage.runtime_token_rules.take() {
            usage.rules = match (token_rules.enabled, token_rules.rules) {
                (false, _) => Vec::new(),
                (true, Some(rules)) => rules
                    .into_iter()
                    .map(|rule| usage_rule(rule, path, text))
                    .collect::<Result<_, _>>()?,
                (true, None) => std::mem::take(&mut usage.rules),
            };
        }
        Ok(())
    }
}

/// One of the reference's token rules as ours.
fn usage_rule(rule: ReferenceTokenRule, path: &Path, text: &str) -> Result<UsageRule, ConfigError> {
    let window =
        serde_json::from_value(serde_json::Value::String(rule.window.clone())).map_err(|_| {
            let message = format!(
                "unknown window `{}` in `usage_governance.runtime_token_rules`",
                rule.window
            );
            invalid(path, text, "window", message)
        })?;
    Ok(UsageRule {
        rule_id: rule.rule_id,
        window,
        threshold: rule.threshold,
    })
}

fn invalid(path: &Path, text: &str, key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        line: super::unknown::line_of_key(text, key),
        message,
    }
}
