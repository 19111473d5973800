//! Output conventions: `key: value` lines on stdout, `error: ...` on stderr,
//! exit 1 for failures and 2 for usage errors. A closed pipe ends quietly.

use std::error::Error;
use std::fmt::{self, Display};
use std::io::{self, IsTerminal, Write};

use super::chain::chain_text;
use crate::check::{Diagnostic, Diagnostics, render};
use crate::fs_error::FileError;
use crate::syntax::SourceMap;

/// A command failure: printed as `error: <message>` with exit code 1.
#[derive(Debug)]
pub enum CliError {
    /// A message of the command's own.
    Failed(String),
    /// An error of a layer below, kept whole so that its causes stay
    /// reachable through `source()`; printed with its chain of causes.
    Caused(Box<dyn Error + Send + Sync>),
    /// The problem was already reported (diagnostics); just exit 1.
    Reported,
    /// Writing the command's output failed (a closed pipe ends quietly).
    /// A file's I/O error is a [`FileError`], which names the file.
    Io(io::Error),
}

impl From<io::Error> for CliError {
    fn from(error: io::Error) -> Self {
        CliError::Io(error)
    }
}

/// `?` keeps the errors of the layers below whole, as [`CliError::Caused`].
macro_rules! caused_by {
    ($($error:ty),+ $(,)?) => {$(
        impl From<$error> for CliError {
            fn from(error: $error) -> Self {
                CliError::Caused(Box::new(error))
            }
        }
    )+};
}

caused_by!(
    FileError,
    crate::check::SelectError,
    crate::workspace::config::ConfigError,
    crate::workspace::documents::DocumentError,
    crate::workspace::intake::IntakeError,
    crate::workspace::lock::LockError,
    crate::workspace::interventions::InterventionError,
    crate::workspace::mailbox::AwaitError,
    crate::workspace::queue::QueueError,
    crate::workspace::runs::RunsError,
    crate::workspace::state::StateError,
    crate::runtime::RuntimeError,
);

impl CliError {
    /// An error of a layer below that the command wraps in words of its own.
    pub fn caused(error: impl Error + Send + Sync + 'static) -> CliError {
        CliError::Caused(Box::new(error))
    }

    /// The text printed after `error: ` (one `error: ` line per line).
    pub fn message(&self) -> String {
        match self {
            CliError::Failed(message) => message.clone(),
            CliError::Caused(error) => chain_text(error.as_ref()),
            CliError::Reported => "failed".to_string(),
            CliError::Io(error) => error.to_string(),
        }
    }
}

impl Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl Error for CliError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CliError::Caused(error) => Some(error.as_ref()),
            CliError::Io(error) => Some(error),
            CliError::Failed(_) | CliError::Reported => None,
        }
    }
}

pub type CliResult = Result<(), CliError>;

/// A failure with a message.
pub fn fail<T>(message: impl Into<String>) -> Result<T, CliError> {
    Err(CliError::Failed(message.into()))
}

/// Standard output, written line by line.
pub struct Out {
    out: Box<dyn Write>,
}

impl Out {
    pub fn new() -> Self {
        Out {
            out: Box::new(io::stdout().lock()),
        }
    }

    /// An `Out` that discards everything (a command reusing another quietly).
    pub fn quiet() -> Self {
        Out {
            out: Box::new(io::sink()),
        }
    }

    pub fn kv(&mut self, key: &str, value: impl Display) -> io::Result<()> {
        writeln!(self.out, "{key}: {value}")
    }

    pub fn line(&mut self, text: impl Display) -> io::Result<()> {
        writeln!(self.out, "{text}")
    }

    pub fn raw(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }
}

/// Prints diagnostics on stderr, in colour when stderr is a terminal.
pub fn report(sources: &SourceMap, diagnostics: &Diagnostics) {
    let sorted: Vec<&Diagnostic> = diagnostics.sorted();
    if sorted.is_empty() {
        return;
    }
    let text = render(sources, &sorted, io::stderr().is_terminal());
    let _ = io::stderr().write_all(text.as_bytes());
}

/// The exit code for a finished command, printing its error if any.
pub fn finish(result: CliResult) -> i32 {
    match result {
        Ok(()) => 0,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(CliError::Io(e)) => {
            let _ = writeln!(io::stderr(), "error: {e}");
            1
        }
        Err(CliError::Reported) => 1,
        Err(error) => {
            let mut stderr = io::stderr().lock();
            for line in error.message().lines() {
                let _ = writeln!(stderr, "error: {line}");
            }
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::io;

    use super::*;
    use crate::fs_error::at;
    use crate::runtime::RuntimeError;
    use crate::workspace::queue::QueueError;

    fn full_disk() -> io::Error {
        io::Error::from(io::ErrorKind::StorageFull)
    }

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
}
