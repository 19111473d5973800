//! The reference's token rules table (`[usage_governance.runtime_token_rules]`),
//! read as written; `reference.rs` turns it into ours' rules.

use serde::{Deserialize, Serialize};

/// The reference's `[usage_governance.runtime_token_rules]`: ours' `rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceTokenRules {
    /// `false` turns every token rule off.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// `[[usage_governance.runtime_token_rules.rules]]`.
    pub rules: Option<Vec<ReferenceTokenRule>>,
}

/// One of the reference's token rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceTokenRule {
    /// A name for messages and events.
    pub rule_id: String,
    /// The window (`rolling_5h`, `calendar_week`, ...), checked on load.
    pub window: String,
    /// What is counted: only `total_tokens` exists.
    pub metric: Option<String>,
    /// Total tokens at which new stages stop starting.
    pub threshold: u64,
}

fn enabled() -> bool {
    true
}
