//! Work item ids: the safe identifier shape every family shares.

/// The longest id: every name derived from one (`<id>.requeue.jsonl`,
/// `learning_request-<id>.json`, `<id>.md.<n>.invalid`) must still fit in
/// the 255 bytes a file name may have.
pub const MAX_ID_LEN: usize = 200;

/// True when `id` matches `^[A-Za-z0-9][A-Za-z0-9._-]*$`.
pub fn is_valid_id(id: &str) -> bool {
    if id.len() > MAX_ID_LEN {
        return false;
    }
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
