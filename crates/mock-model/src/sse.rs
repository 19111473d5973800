//! Server-sent-event framing and the splitting of text into stream deltas.

use serde_json::Value;

/// An SSE frame with an `event:` line: `event: NAME\ndata: JSON\n\n`.
pub fn named_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// An SSE frame with only a `data:` line: `data: JSON\n\n`.
pub fn data_event(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// The Chat Completions end-of-stream marker.
pub fn done_marker() -> String {
    "data: [DONE]\n\n".to_string()
}

/// Splits text into word-sized deltas (each keeps its trailing whitespace);
/// the pieces concatenate to the original. Empty text gives no pieces.
pub fn text_deltas(text: &str) -> Vec<&str> {
    text.split_inclusive(char::is_whitespace).collect()
}

/// Splits a JSON argument string into two deltas at a character boundary.
pub fn argument_deltas(arguments: &str) -> Vec<&str> {
    let mid = (0..=arguments.len() / 2)
        .rev()
        .find(|i| arguments.is_char_boundary(*i))
        .unwrap_or(0);
    let (head, tail) = arguments.split_at(mid);
    [head, tail].into_iter().filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_rejoin() {
        let text = "Hello  there,\nworld";
        assert_eq!(text_deltas(text).concat(), text);
        assert_eq!(text_deltas(text).len(), 4);
        let args = r#"{"cmd":"héllo"}"#;
        assert_eq!(argument_deltas(args).concat(), args);
        assert_eq!(argument_deltas(args).len(), 2);
        assert!(text_deltas("").is_empty());
    }
}
