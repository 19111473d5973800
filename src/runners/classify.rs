//! Failure classification: guesses why a runner failed from what it printed.
//!
//! The text (usually the tail of the runner's stderr and stdout) is
//! lower-cased and searched for known phrases, class by class, in a fixed
//! order: a missing binary first, then authentication, rate limiting, the
//! network, and an unavailable provider. The first class with a matching
//! phrase wins. Numeric status codes (`401`, `429`, `503`) only match when
//! they are not part of a longer number, so `took 14290 ms` is not a rate
//! limit.

use super::FailureClass;

/// Phrases per class, checked in this order.
const RULES: &[(FailureClass, &[&str])] = &[
    (
        FailureClass::RunnerBinaryMissing,
        &[
            "runner binary not found",
            "executable missing",
            "no such file or directory",
            "command not found",
        ],
    ),
    (
        FailureClass::AuthMissingOrInvalid,
        &[
            "unauthorized",
            "authentication",
            "not authenticated",
            "login required",
            "invalid api key",
            "api key",
            "401",
        ],
    ),
    (
        FailureClass::ProviderRateLimited,
        &["rate limit", "rate_limit", "too many requests", "429"],
    ),
    (
        FailureClass::NetworkUnavailable,
        &[
            "could not resolve",
            "temporary failure in name resolution",
            "dns",
            "network is unreachable",
            "connection refused",
            "connection reset",
            "no route to host",
            "stream disconnected",
            "error sending request",
            "connection error",
            "connection failed",
            "fetch failed",
            "socket hang up",
            "econnrefused",
            "econnreset",
            "offline",
            "internet",
        ],
    ),
    (
        FailureClass::ProviderUnavailable,
        &[
            "service unavailable",
            "temporarily unavailable",
            "provider unavailable",
            "provider overloaded",
            "overloaded",
            "internal server error",
            "server error",
            "server_error",
            "bad gateway",
            "gateway timeout",
            "500",
            "502",
            "503",
            "504",
            "529",
        ],
    ),
];

/// The failure class the text points at, if any phrase matches.
pub fn classify(text: &str) -> Option<FailureClass> {
    let lower = text.to_lowercase();
    RULES
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| contains_phrase(&lower, p)))
        .map(|(class, _)| *class)
}

/// Whether `phrase` occurs in `text`; an all-digit phrase must not touch
/// other digits.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    if !phrase.bytes().all(|b| b.is_ascii_digit()) {
        return text.contains(phrase);
    }
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].bytes().next_back();
        let after = text[at + phrase.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<&'static str> {
        classify(text).map(FailureClass::as_str)
    }

    #[test]
    fn binary_missing() {
        assert_eq!(
            class("bash: codex: command not found"),
            Some("runner_binary_missing")
        );
        assert_eq!(
            class("No such file or directory (os error 2)"),
            Some("runner_binary_missing")
        );
    }

    #[test]
    fn auth() {
        assert_eq!(
            class("Error: Invalid API key"),
            Some("auth_missing_or_invalid")
        );
        assert_eq!(
            class("HTTP 401 Unauthorized"),
            Some("auth_missing_or_invalid")
        );
        assert_eq!(class("Login required"), Some("auth_missing_or_invalid"));
    }

    #[test]
    fn rate_limit() {
        assert_eq!(class("status 429"), Some("provider_rate_limited"));
        assert_eq!(class("Too Many Requests"), Some("provider_rate_limited"));
        assert_eq!(class("rate_limit_exceeded"), Some("provider_rate_limited"));
    }

    #[test]
    fn network() {
        assert_eq!(
            class("connect: Connection refused"),
            Some("network_unavailable")
        );
        assert_eq!(
            class("Connection reset by peer"),
            Some("network_unavailable")
        );
        assert_eq!(
            class("Temporary failure in name resolution"),
            Some("network_unavailable")
        );
        assert_eq!(class("could not resolve host"), Some("network_unavailable"));
    }

    #[test]
    fn provider_unavailable() {
        assert_eq!(
            class("503 Service Unavailable"),
            Some("provider_unavailable")
        );
        assert_eq!(
            class("the model is overloaded"),
            Some("provider_unavailable")
        );
    }

    #[test]
    fn agent_cli_messages() {
        assert_eq!(
            class("stream disconnected before completion: error sending request"),
            Some("network_unavailable")
        );
        assert_eq!(
            class("500 mock-model: scripted server error"),
            Some("provider_unavailable")
        );
        assert_eq!(
            class("unexpected status 502 Bad Gateway"),
            Some("provider_unavailable")
        );
    }

    #[test]
    fn nothing_specific() {
        assert_eq!(class(""), None);
        assert_eq!(class("panicked at src/main.rs: index out of bounds"), None);
    }

    #[test]
    fn status_codes_need_number_boundaries() {
        assert_eq!(class("took 14290 ms"), None);
        assert_eq!(class("id 5034"), None);
        assert_eq!(class("error=429;"), Some("provider_rate_limited"));
    }

    #[test]
    fn earlier_classes_win() {
        assert_eq!(
            class("401 unauthorized after connection reset"),
            Some("auth_missing_or_invalid")
        );
    }
}
