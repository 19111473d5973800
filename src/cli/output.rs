//! Output conventions: `key: value` lines on stdout, `error: ...` on stderr,
//! exit 1 for failures and 2 for usage errors. A closed pipe ends quietly.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};

use crate::check::{Diagnostic, Diagnostics, render};
use crate::syntax::SourceMap;

/// A command failure: printed as `error: <message>` with exit code 1.
#[derive(Debug)]
pub enum CliError {
    Failed(String),
    /// The problem was already reported (diagnostics); just exit 1.
    Reported,
    Io(io::Error),
}

impl From<io::Error> for CliError {
    fn from(error: io::Error) -> Self {
        CliError::Io(error)
    }
}

impl CliError {
    /// The text printed after `error: `.
    pub fn message(&self) -> String {
        match self {
            CliError::Failed(message) => message.clone(),
            CliError::Reported => "failed".to_string(),
            CliError::Io(error) => error.to_string(),
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
        Err(CliError::Failed(message)) => {
            let mut stderr = io::stderr().lock();
            for line in message.lines() {
                let _ = writeln!(stderr, "error: {line}");
            }
            1
        }
        Err(CliError::Reported) => 1,
    }
}
