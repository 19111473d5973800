//! "Did you mean" suggestions for misspelt names.

/// The known name closest to `name`, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in known {
        let score = strsim::jaro_winkler(name, candidate);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    let (score, candidate) = best?;
    let edits = strsim::levenshtein(name, candidate);
    let close = score >= 0.85 || edits <= 2.max(name.len() / 4);
    (close && candidate != name).then(|| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_names_only() {
        let known = ["success", "no_op", "blocked"];
        assert_eq!(closest("sucess", known).as_deref(), Some("success"));
        assert_eq!(closest("blokced", known).as_deref(), Some("blocked"));
        assert_eq!(closest("zebra", known), None);
    }
}
