//! Terminal marker lines: `### OUTCOME` on a line of its own.
//!
//! A line is a marker when, after trimming, it matches
//! `^###\s+([A-Z][A-Z0-9_]*)\s*$`: three hashes, whitespace, then an upper-case
//! name. `#### X`, `### lower` and `### TWO WORDS` are ordinary text.

/// The marker names in `text`, in order of appearance (repeats included).
pub fn markers(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(marker)
        .map(str::to_string)
        .collect()
}

/// The marker name on this line, if the line is a marker line.
pub fn marker(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("###")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let name = rest.trim();
    is_marker_name(name).then_some(name)
}

/// `[A-Z][A-Z0-9_]*`.
fn is_marker_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether the only marker in `text` is a legal one on its last non-empty
/// line: the shape of a final answer recorded by an agent CLI that stands
/// even when the CLI then exits non-zero.
pub fn ends_in_one_legal_marker(text: &str, legal: &[String]) -> bool {
    let mut found = markers(text);
    found.dedup();
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    match (found.as_slice(), last.and_then(marker)) {
        ([only], Some(on_last)) => only == on_last && legal.contains(only),
        _ => false,
    }
}

/// The marker line for an outcome: `### OUTCOME`.
pub fn marker_line(outcome: &str) -> String {
    format!("### {outcome}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_marker_lines() {
        assert_eq!(marker("### CHECKER_PASS"), Some("CHECKER_PASS"));
        assert_eq!(marker("  ###\tFIX_NEEDED2  "), Some("FIX_NEEDED2"));
    }

    #[test]
    fn rejects_other_lines() {
        for line in [
            "###CHECKER_PASS",
            "#### CHECKER_PASS",
            "### checker_pass",
            "### _PASS",
            "### TWO WORDS",
            "### ",
            "text ### PASS",
            "## PASS",
        ] {
            assert_eq!(marker(line), None, "{line:?}");
        }
    }

    #[test]
    fn a_final_answer_ends_in_its_one_legal_marker() {
        let legal = ["A".to_string(), "BLOCKED".to_string()];
        assert!(ends_in_one_legal_marker("Done.\n\n### A\n\n", &legal));
        assert!(ends_in_one_legal_marker("### A\nagain:\n### A", &legal));
        assert!(!ends_in_one_legal_marker("### A\nthen more text", &legal));
        assert!(!ends_in_one_legal_marker("### A\n### BLOCKED", &legal));
        assert!(!ends_in_one_legal_marker("### NOT_LEGAL", &legal));
        assert!(!ends_in_one_legal_marker("", &legal));
    }

    #[test]
    fn collects_in_order_with_repeats() {
        let text = "Done.\n### A\nmore\n### B\r\n### A\n";
        assert_eq!(markers(text), ["A", "B", "A"]);
    }
}
