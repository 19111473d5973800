//! The `.loop` syntax: the pest grammar binding, a spanned AST, syntax errors.
//!
//! Parsing does no name resolution; that belongs to `check`.

mod ast;
mod format;
mod grammar;
mod parser;
mod recovery;
mod source;

pub use ast::*;
pub use format::format;
pub use parser::{SyntaxError, parse};
pub use source::{FileId, SourceFile, SourceMap, Span};

pub use grammar::{LoopParser, Rule};
