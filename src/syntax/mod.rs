//! The `.loop` syntax: the pest grammar binding, a spanned AST, syntax errors.
//!
//! Parsing does no name resolution; that belongs to `check`.

mod ast;
mod builder;
mod error;
mod format;
mod grammar;
mod grants;
mod keywords;
mod parser;
mod recovery;
mod source;

pub use ast::*;
pub use error::SyntaxError;
pub use format::format;
pub use keywords::keywords;
pub use parser::parse;
pub use source::{FileId, SourceFile, SourceMap, Span};

pub use grammar::{LoopParser, Rule};
