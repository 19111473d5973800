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
    use crate::cli::output::CliError;
    use crate::fs_error::at;
    use crate::runtime::RuntimeError;
    use crate::workspace::queue::QueueError;

    fn full_disk() -> io::Error {
        io::Error::from(io::ErrorKind::StorageFull)
    }

    /// A cause an error does not say, after `: ` or on its own lines.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot save")]
    struct Quiet(#[source] QueueError);

    #[test]
    fn an_io_error_under_a_queue_error_stays_reachable() {
        let error = CliError::from(QueueError::from(at("write", "q/t-1.md")(full_disk())));
        let causes = std::iter::successors(error.source(), |&e| e.source());
        let io = causes.filter_map(|e| e.downcast_ref::<io::Error>()).next();
        assert_eq!(io.map(io::Error::kind), Some(io::ErrorKind::StorageFull));
        assert_eq!(error.message(), "cannot write `q/t-1.md`: no storage space");
    }

    #[test]
    fn a_cause_already_said_is_not_repeated() {
        let queue = QueueError::from(at("write", "x")(full_disk()));
        let error = CliError::from(RuntimeError::Queue(queue));
        assert_eq!(error.message(), "cannot write `x`: no storage space");
    }

    /// Every error `?` turns into a `CliError` printed `to_string()` before:
    /// the chain must read the same.
    #[test]
    fn wrapped_errors_print_as_their_message_did() {
        use crate::workspace::documents::{DocumentError, Problem, ProblemKind};
        use crate::workspace::interventions::InterventionError;
        use crate::workspace::mailbox::AwaitError;
        use crate::workspace::state::StateError;
        let file = || at("read", "/w/x.json")(io::Error::from_raw_os_error(2));
        let problem = |line, kind| Problem::new(Some(line), None, kind);
        let invalid = DocumentError::Invalid {
            path: "t.md".into(),
            problems: vec![
                problem(1, ProblemKind::MissingHeading),
                problem(
                    3,
                    ProblemKind::Missing {
                        field: "Task-ID".into(),
                    },
                ),
            ],
        };
        let errors: Vec<Box<dyn Error + Send + Sync>> = vec![
            Box::new(file()),
            Box::new(QueueError::from(file())),
            Box::new(StateError::from(file())),
            Box::new(invalid),
            Box::new(InterventionError::from(DocumentError::from(file()))),
            Box::new(AwaitError::Io(full_disk())),
            Box::new(RuntimeError::State(StateError::from(file()))),
            Box::new(RuntimeError::Io {
                what: "write a probe".into(),
                source: full_disk(),
            }),
        ];
        for error in errors {
            let before = error.to_string();
            assert_eq!(CliError::Caused(error).message(), before);
        }
    }

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
