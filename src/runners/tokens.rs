//! Token counts as written by a program or a script: every field optional.

use serde::Deserialize;

use super::TokenUsage;

/// Token counts with defaults: absent fields are 0, an absent `total` is
/// input + output + thinking.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct TokenCounts {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub cached_input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub thinking: u64,
    #[serde(default)]
    pub total: Option<u64>,
}

impl TokenCounts {
    /// As the runner result's token usage.
    pub fn usage(self) -> TokenUsage {
        let sum = self.input + self.output + self.thinking;
        TokenUsage {
            input: self.input,
            cached_input: self.cached_input,
            output: self.output,
            thinking: self.thinking,
            total: self.total.unwrap_or(sum),
        }
    }
}

/// Reads a JSON token file; `None` when absent or not valid.
pub fn read_token_file(path: &std::path::Path) -> Option<TokenUsage> {
    let bytes = std::fs::read(path).ok()?;
    let counts: TokenCounts = serde_json::from_slice(&bytes).ok()?;
    Some(counts.usage())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_defaults_to_the_sum() {
        let counts: TokenCounts =
            serde_json::from_str(r#"{"input": 10, "output": 5, "thinking": 1}"#).expect("valid");
        assert_eq!(counts.usage().total, 16);
        let counts: TokenCounts =
            serde_json::from_str(r#"{"input": 10, "total": 99, "extra": 1}"#).expect("valid");
        assert_eq!(counts.usage().total, 99);
    }
}
