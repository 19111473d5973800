//! An error and its chain of causes as the text after `error: `, each
//! cause said once.
//!
//! Most errors of this crate end their message with their cause's
//! (`cannot write `x`: No space left on device`), so that `to_string()`
//! alone is whole where it is logged; some wrap a cause without saying it.
//! Walking `source()` serves both: a cause an error already ends with is
//! not repeated, and one it does not say is added after `: ` (on a line of
//! its own when it spans several lines, like a document's problems).

use std::error::Error;

/// The whole message of `error` and its causes.
pub fn chain_text(error: &(dyn Error + 'static)) -> String {
    let chain: Vec<&(dyn Error + 'static)> =
        std::iter::successors(Some(error), |&e| e.source()).collect();
    // From the deepest cause up: `text` is the whole message of the error
    // below, `said` that error's own message.
    let mut text = String::new();
    let mut said = String::new();
    for error in chain.iter().rev() {
        let message = message(*error);
        text = match message.strip_suffix(said.as_str()) {
            // It ends with its cause's message: its own words, then the cause's chain.
            Some(own) if !said.is_empty() => format!("{own}{text}"),
            _ if text.is_empty() => message.clone(),
            _ => join(&message, &text),
        };
        said = message;
    }
    text
}

/// An error's own message, without the trailing line break some parsers add.
fn message(error: &dyn Error) -> String {
    error.to_string().trim_end().to_string()
}

/// `error` followed by `cause`, which it does not say.
fn join(error: &str, cause: &str) -> String {
    let separator = if cause.contains('\n') { "\n" } else { ": " };
    format!("{error}{separator}{cause}")
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::fs_error::at;
    use crate::workspace::queue::QueueError;

    fn full_disk() -> io::Error {
        io::Error::from(io::ErrorKind::StorageFull)
    }

    /// A cause an error does not say, after `: ` or on its own lines.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot save")]
    struct Quiet(#[source] QueueError);

    #[test]
    fn a_cause_not_said_follows_the_message() {
        let error = Quiet(QueueError::from(at("write", "x")(full_disk())));
        assert_eq!(
            chain_text(&error),
            "cannot save: cannot write `x`: no storage space"
        );
    }

    #[test]
    fn a_cause_of_several_lines_starts_on_its_own_line() {
        #[derive(Debug, thiserror::Error)]
        #[error("two problems")]
        struct Lines(#[source] Problems);
        #[derive(Debug, thiserror::Error)]
        #[error("a.md:1: first\na.md:2: second")]
        struct Problems;
        assert_eq!(
            chain_text(&Lines(Problems)),
            "two problems\na.md:1: first\na.md:2: second"
        );
    }
}
