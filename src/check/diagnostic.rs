//! The one diagnostic type of the compiler: a kind with a stable code, a span,
//! and every message text in one place. Rendered by miette over whole files.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::syntax::{SourceMap, Span};
use crate::vocab::Builtin;

pub use crate::vocab::MAX_LANES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// What went wrong. Each variant has a stable code (`millrace::<code>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Syntax {
        message: String,
        help: Option<String>,
    },
    Duplicate {
        what: &'static str,
        name: String,
    },
    Unknown {
        what: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    IllegalOutcome {
        outcome: String,
        stage: String,
        legal: Vec<String>,
    },
    UnroutedOutcome {
        node: String,
        outcome: String,
    },
    UnreachableNode {
        node: String,
    },
    FinalClassMismatch {
        target: String,
        class: String,
        /// What leads there: "outcome `X`", "the `fault` port of effect `e`".
        source: String,
        allowed: Vec<String>,
    },
    ExtendsCycle {
        what: &'static str,
        chain: Vec<String>,
    },
    PlaneMismatch {
        what: String,
        expected: String,
        found: String,
    },
    ModePlaneConflict {
        plane: String,
        first: String,
    },
    ModeMissingLoop {
        mode: String,
        plane: String,
    },
    MissingEntry {
        name: String,
    },
    FamilyNotAccepted {
        family: String,
        node: String,
        stage: String,
    },
    ExceptExcludesDefault {
        node: String,
    },
    UnboundedCycle {
        cycle: Vec<String>,
        /// `per failure_class` budgets without a `cap` spent on the cycle.
        uncapped: Vec<String>,
        /// Nodes the cycle reaches through a `result.<key>` resume.
        resumes_to: Vec<String>,
    },
    NotANode {
        name: String,
        place: &'static str,
    },
    LearnWithoutLearningLoop {
        mode: String,
    },
    InvalidValue {
        what: &'static str,
        reason: String,
    },
    UnusedBudget {
        name: String,
    },
    UnusedParam {
        name: String,
    },
    UnusedFinal {
        name: String,
    },
    UnusedCatch {
        outcome: String,
    },
    CapabilityContradiction {
        capability: String,
        first: &'static str,
        second: &'static str,
    },
    BuiltinBinding {
        node: String,
        builtin: String,
        binding: &'static str,
    },
    LanesUnmerged {
        lanes: u64,
        loop_name: String,
        /// Nodes from an entry to a finishing final, the final last.
        path: Vec<String>,
    },
    LanesZero,
    LanesTooMany {
        count: u64,
    },
    LanesPlane {
        plane: String,
    },
}

impl Kind {
    /// The stable code, without the `millrace::` prefix.
    pub fn code(&self) -> &'static str {
        match self {
            Kind::Syntax { .. } => "syntax",
            Kind::Duplicate { .. } => "duplicate_definition",
            Kind::Unknown { what, .. } => unknown_code(what),
            Kind::IllegalOutcome { .. } => "illegal_outcome",
            Kind::UnroutedOutcome { .. } => "unrouted_outcome",
            Kind::UnreachableNode { .. } => "unreachable_node",
            Kind::FinalClassMismatch { .. } => "final_class_mismatch",
            Kind::ExtendsCycle { .. } => "extends_cycle",
            Kind::PlaneMismatch { .. } => "plane_mismatch",
            Kind::ModePlaneConflict { .. } => "mode_plane_conflict",
            Kind::ModeMissingLoop { .. } => "mode_missing_loop",
            Kind::MissingEntry { .. } => "missing_entry",
            Kind::FamilyNotAccepted { .. } => "family_not_accepted",
            Kind::ExceptExcludesDefault { .. } => "except_excludes_default",
            Kind::UnboundedCycle { .. } => "unbounded_cycle",
            Kind::NotANode { .. } => "not_a_node",
            Kind::LearnWithoutLearningLoop { .. } => "learn_without_learning_loop",
            Kind::InvalidValue { .. } => "invalid_value",
            Kind::BuiltinBinding { .. } => "builtin_binding",
            Kind::LanesUnmerged { .. } => "lanes_unmerged",
            Kind::LanesZero => "lanes_zero",
            Kind::LanesTooMany { .. } => "lanes_too_many",
            Kind::LanesPlane { .. } => "lanes_plane",
            Kind::UnusedBudget { .. } => "unused_budget",
            Kind::UnusedParam { .. } => "unused_param",
            Kind::UnusedFinal { .. } => "unused_final",
            Kind::UnusedCatch { .. } => "unused_catch",
            Kind::CapabilityContradiction { .. } => "capability_contradiction",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Kind::UnusedBudget { .. }
            | Kind::UnusedParam { .. }
            | Kind::UnusedFinal { .. }
            | Kind::UnusedCatch { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Kind::Syntax { message, .. } => message.clone(),
            Kind::Duplicate { what, name } => format!("{what} `{name}` is defined more than once"),
            Kind::Unknown { what, name, .. } => format!("unknown {what} `{name}`"),
            Kind::IllegalOutcome { outcome, stage, .. } => {
                format!("`{outcome}` is not an outcome of stage `{stage}`")
            }
            Kind::UnroutedOutcome { node, outcome } => {
                format!("node `{node}` does not route outcome `{outcome}`")
            }
            Kind::UnreachableNode { node } => format!("node `{node}` can never run"),
            Kind::FinalClassMismatch {
                target,
                class,
                source,
                ..
            } => format!("final `{target}` has class `{class}`, which {source} cannot lead to"),
            Kind::ExtendsCycle { what, chain } => {
                format!("{what} `extends` forms a cycle: {}", chain.join(" -> "))
            }
            Kind::PlaneMismatch {
                what,
                expected,
                found,
            } => {
                format!("{what} belongs to plane `{found}`, not `{expected}`")
            }
            Kind::ModePlaneConflict { plane, first } => {
                format!("mode selects a second loop for plane `{plane}` (already `{first}`)")
            }
            Kind::ModeMissingLoop { mode, plane } => {
                format!("mode `{mode}` selects no `{plane}` loop")
            }
            Kind::MissingEntry { name } => format!("loop `{name}` has no `entry`"),
            Kind::FamilyNotAccepted {
                family,
                node,
                stage,
            } => {
                format!("node `{node}` (stage `{stage}`) does not accept `{family}` work items")
            }
            Kind::ExceptExcludesDefault { node } => {
                format!("the default target `{node}` is also listed after `except`")
            }
            Kind::UnboundedCycle {
                cycle, uncapped, ..
            } => {
                let what = if uncapped.is_empty() {
                    "budget"
                } else {
                    "capped budget"
                };
                format!("this cycle spends no {what}: {}", cycle.join(" -> "))
            }
            Kind::NotANode { name, place } => {
                format!("`{name}` is a final, but {place} must name a node")
            }
            Kind::LearnWithoutLearningLoop { mode } => {
                format!("mode `{mode}` has learn rules but selects no `learning` loop")
            }
            Kind::InvalidValue { what, reason } => format!("invalid {what}: {reason}"),
            Kind::BuiltinBinding {
                node,
                builtin,
                binding,
            } => format!(
                "node `{node}` is run by the runtime (`builtin {builtin}`) and takes no `{binding}`"
            ),
            Kind::LanesUnmerged {
                lanes, loop_name, ..
            } => format!(
                "with {lanes} execution lanes, loop `{loop_name}` can finish a task without its merge gate"
            ),
            Kind::LanesZero => "a plane needs at least one lane".into(),
            Kind::LanesTooMany { count } => {
                format!("{count} lanes is more than the most a plane may run ({MAX_LANES})")
            }
            Kind::LanesPlane { plane } => {
                format!("plane `{plane}` runs one item at a time; only `execution` has lanes")
            }
            Kind::UnusedBudget { name } => format!("budget `{name}` is never spent"),
            Kind::UnusedParam { name } => format!("param `{name}` is never used"),
            Kind::UnusedFinal { name } => format!("final `{name}` is never reached"),
            Kind::UnusedCatch { outcome } => format!("`catch {outcome}` applies to no node"),
            Kind::CapabilityContradiction {
                capability,
                first,
                second,
            } => format!("capability `{capability}` is both `{first}` and `{second}` here"),
        }
    }

    pub fn help(&self) -> Option<String> {
        Some(match self {
            Kind::Syntax { help, .. } => return help.clone(),
            Kind::Unknown {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            Kind::Unknown {
                what: "gate scope",
                ..
            } => "a gate covers one `stage`, a `run` or a `work_item`".into(),
            Kind::Unknown { what, .. } => format!("define the {what} first, or check its spelling"),
            Kind::IllegalOutcome { legal, .. } => format!("legal outcomes: {}", legal.join(", ")),
            Kind::UnroutedOutcome { outcome, .. } => format!(
                "add `{outcome} -> <node or final>` to the node, or a loop-wide `catch {outcome} -> ...`"
            ),
            Kind::UnreachableNode { .. } => {
                "route an outcome to it, list it in an `entry`, or remove it".into()
            }
            Kind::FinalClassMismatch { allowed, .. } => {
                format!("route it to a final of class {}", allowed.join(" or "))
            }
            Kind::ExtendsCycle { .. } => "break the cycle by removing one `extends`".into(),
            Kind::ModePlaneConflict { .. } => "a mode selects at most one loop per plane".into(),
            Kind::ModeMissingLoop { plane, .. } => format!("add `loop {plane}.<name>`"),
            Kind::MissingEntry { .. } => "add `entry <family> -> <node>`".into(),
            Kind::UnboundedCycle {
                uncapped,
                resumes_to,
                ..
            } => unbounded_help(uncapped, resumes_to),
            Kind::NotANode { .. } => "work starts at a node: name one of the loop's nodes".into(),
            Kind::Duplicate { what, .. } => match *what {
                "route for outcome" => "keep one route per outcome in a node".into(),
                "builtin for stage" => "keep one `builtin` line in a stage".into(),
                "entry for family" => {
                    "keep one entry per family; list more nodes after `->` with commas".into()
                }
                _ => "rename or remove one of the two definitions".into(),
            },
            Kind::PlaneMismatch {
                expected, found, ..
            } => format!(
                "use a stage kind of plane `{expected}`, or move the node to a `{found}.*` loop"
            ),
            Kind::InvalidValue { what, .. } => match *what {
                "timeout" => "write a positive duration: `600`, `90s`, `10m` or `2h`".into(),
                _ => return None,
            },
            Kind::UnusedCatch { outcome } => format!(
                "remove the `catch`, or remove `{outcome} -> ...` from the nodes that route it"
            ),
            Kind::LearnWithoutLearningLoop { .. } => "add `loop learning.standard`".into(),
            Kind::ExceptExcludesDefault { .. } => "remove it from `except`".into(),
            Kind::UnusedBudget { .. } => "spend it with `within`, or remove it".into(),
            Kind::UnusedParam { name } => {
                format!("use it as `${name}` in a budget, or remove it")
            }
            Kind::UnusedFinal { .. } => "route an outcome to it, or remove it".into(),
            Kind::BuiltinBinding { .. } => {
                "remove the binding: no runner runs a builtin stage (only `timeout` applies)".into()
            }
            Kind::LanesUnmerged { .. } => format!(
                "route every path to a finishing final through a node whose stage is `builtin {}`, or use `lanes execution 1`",
                Builtin::MergeGate
            ),
            Kind::LanesZero => "write `lanes execution 1` for one task at a time".into(),
            Kind::LanesTooMany { .. } => format!("write a number from 1 to {MAX_LANES}"),
            Kind::LanesPlane { .. } => "write `lanes execution <n>`".into(),
            Kind::FamilyNotAccepted { .. } => "enter the family at a node that accepts it".into(),
            Kind::CapabilityContradiction { .. } => {
                "keep one policy per capability in a block; a node or a mode's stage block may override a wider one".into()
            }
        })
    }
}

fn unbounded_help(uncapped: &[String], resumes_to: &[String]) -> String {
    let mut help = String::from("add `within <budget> else <target>` to one route of the cycle");
    for budget in uncapped {
        help.push_str(&format!(
            "; budget `{budget}` is kept `per failure_class` without a `cap`, so it bounds nothing: add `cap <n>`"
        ));
    }
    for node in resumes_to {
        help.push_str(&format!(
            "; a `result.<key>` may resume at any node not listed after `except`: add `except {node}`"
        ));
    }
    help
}

fn unknown_code(what: &str) -> &'static str {
    match what {
        "stage" => "unknown_stage",
        "plane" => "unknown_plane",
        "result class" => "unknown_result_class",
        "family" => "unknown_family",
        "node" | "target" | "learning entry node" => "unknown_target",
        "budget" => "unknown_budget",
        "param" => "unknown_param",
        "loop" => "unknown_loop",
        "mode" => "unknown_mode",
        "runner" => "unknown_runner",
        "effect" => "unknown_effect",
        "effect port" => "unknown_effect_port",
        "learn action" => "unknown_learn_action",
        "capability" => "unknown_capability",
        "gate scope" => "unknown_gate_scope",
        "builtin" => "unknown_builtin",
        _ => "unknown_name",
    }
}

/// One diagnostic: a kind, a primary span with a label, and secondary labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: Kind,
    pub span: Span,
    pub label: String,
    pub notes: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn new(kind: Kind, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            span,
            label: label.into(),
            notes: Vec::new(),
        }
    }

    pub fn with_note(mut self, span: Span, label: impl Into<String>) -> Self {
        self.notes.push((span, label.into()));
        self
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    pub fn code(&self) -> String {
        format!("millrace::{}", self.kind.code())
    }
}

/// Diagnostics collected over a compilation; errors and warnings kept apart.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if !self.items.contains(&diagnostic) {
            self.items.push(diagnostic);
        }
    }

    pub fn extend(&mut self, other: Diagnostics) {
        for d in other.items {
            self.push(d);
        }
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity() == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All diagnostics, sorted by file and position for stable output.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self.items.iter().collect();
        all.sort_by_key(|d| (d.span.file, d.span.start, d.severity(), d.kind.code()));
        all
    }

    /// True when the diagnostics fail the compilation (`deny_warnings` counts warnings).
    pub fn fails(&self, deny_warnings: bool) -> bool {
        self.has_errors() || (deny_warnings && self.warnings().next().is_some())
    }
}

/// A diagnostic bound to its source file, in the shape miette renders.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.kind.message())
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.kind.message())
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .kind
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let d = self.diagnostic;
        let primary =
            LabeledSpan::new_primary_with_span(Some(d.label.clone()), source_span(d.span));
        let notes = d.notes.iter().filter(|(span, _)| span.file == d.span.file);
        let notes = notes.map(|(span, label)| {
            LabeledSpan::new_with_span(Some(label.clone()), source_span(*span))
        });
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

/// Renders diagnostics as text, with or without colour.
pub fn render(sources: &SourceMap, diagnostics: &[&Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for diagnostic in diagnostics {
        if !fits_snippet(sources, diagnostic) {
            out.push_str(&render_short(sources, diagnostic));
            out.push('\n');
            continue;
        }
        let file = sources.get(diagnostic.span.file);
        let source = NamedSource::new(file.name.clone(), file.text.to_string());
        let report = Report { diagnostic, source };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&diagnostic.kind.message());
        }
        out.push('\n');
    }
    out
}

/// The rightmost column a snippet is drawn to: miette pads to a label with
/// a format width, which panics past `u16::MAX`, and no terminal is that
/// wide anyway.
const MAX_SNIPPET_COLUMN: usize = 4096;

/// Whether every label of `diagnostic` starts and ends within
/// [`MAX_SNIPPET_COLUMN`] of its line; if not, it is printed on one line.
fn fits_snippet(sources: &SourceMap, diagnostic: &Diagnostic) -> bool {
    let notes = diagnostic.notes.iter().map(|(span, _)| *span);
    let spans = std::iter::once(diagnostic.span).chain(notes);
    spans
        .filter(|span| span.file == diagnostic.span.file)
        .all(|span| {
            let end = Span {
                start: span.end,
                ..span
            };
            sources.line_col(span).1 <= MAX_SNIPPET_COLUMN
                && sources.line_col(end).1 <= MAX_SNIPPET_COLUMN
        })
}

/// One line per diagnostic: `file:line:col: error[code]: message`.
pub fn render_short(sources: &SourceMap, diagnostic: &Diagnostic) -> String {
    let (line, col) = sources.line_col(diagnostic.span);
    let file = &sources.get(diagnostic.span.file).name;
    let severity = match diagnostic.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "{file}:{line}:{col}: {severity}[{}]: {}",
        diagnostic.kind.code(),
        diagnostic.kind.message()
    )
}
