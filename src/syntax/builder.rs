//! The state of parsing one file, shared by the AST builder (`parser.rs`)
//! and syntax-error recovery (`recovery.rs`), each of which adds its own
//! methods: the text, the errors found so far, and what a broken node
//! block leaves for its loop.

use pest::iterators::Pair;

use super::ast::Name;
use super::error::SyntaxError;
use super::grammar::Rule;
use super::source::{FileId, Span};

pub(super) struct Builder<'t> {
    pub(super) file: FileId,
    pub(super) text: &'t str,
    pub(super) errors: Vec<SyntaxError>,
    /// Names declared by broken lines inside a node block, for the loop.
    pub(super) pending_broken: Vec<Name>,
    /// A node block of the current loop swallowed loop statements: its `}`
    /// is probably missing, so the loop's own end is off too.
    pub(super) block_unclosed: bool,
}

impl<'t> Builder<'t> {
    pub(super) fn new(file: FileId, text: &'t str) -> Builder<'t> {
        Builder {
            file,
            text,
            errors: Vec::new(),
            pending_broken: Vec::new(),
            block_unclosed: false,
        }
    }

    pub(super) fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }
}
