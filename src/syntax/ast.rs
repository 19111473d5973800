//! The spanned AST of `.loop` files. Every node carries the span it came from.

use super::source::{FileId, Span};

/// A name or token as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

impl Name {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// One parsed file.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Stage(StageDef),
    Loop(LoopDef),
    Mode(ModeDef),
    Alias(AliasDef),
}

/// `stage checker in execution { ... }`
#[derive(Debug, Clone)]
pub struct StageDef {
    pub name: Name,
    pub plane: Name,
    pub outcomes: Vec<OutcomeDecl>,
    pub writes: Vec<Name>,
    pub families: Vec<Name>,
    /// `requests workspace.write, shell.run`: capabilities the stage asks for.
    pub requests: Vec<Name>,
    /// `builtin merge_gate`: the runtime runs the stage itself (each one
    /// written, so a second is reported).
    pub builtins: Vec<Name>,
    pub span: Span,
}

/// `allow a.b, c.d`, `deny a.b` or `gate a.b [per run]`: a capability policy.
#[derive(Debug, Clone)]
pub struct GrantDecl {
    /// The verb as written: `allow`, `deny` or `gate`.
    pub verb: Name,
    pub capabilities: Vec<Name>,
    /// `per stage|run|work_item` after `gate`.
    pub scope: Option<Name>,
    pub span: Span,
}

/// `CHECKER_PASS: success` or `BLOCKED: blocked | recoverable_failure`
#[derive(Debug, Clone)]
pub struct OutcomeDecl {
    pub outcome: Name,
    pub classes: Vec<Name>,
}

/// `loop execution.standard [extends base] { ... }`
#[derive(Debug, Clone)]
pub struct LoopDef {
    pub name: Name,
    pub extends: Option<Name>,
    pub stmts: Vec<LoopStmt>,
    /// True when a statement of the loop (or of one of its nodes) did not
    /// parse: rules over the whole loop cannot be trusted then.
    pub recovered: bool,
    /// Names that a statement which did not parse was declaring (a node head,
    /// `final x`, `budget x`, `param x`): known, so not reported as unknown.
    pub broken: Vec<Name>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum LoopStmt {
    Param(ParamDecl),
    Budget(BudgetDecl),
    Entry(EntryDecl),
    Drained(DrainedDecl),
    Catch(CatchDecl),
    Final(FinalDecl),
    Drop(DropDecl),
    Grant(GrantDecl),
    Node(NodeDef),
}

/// `param max_fix_cycles = 2`
#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub name: Name,
    pub value: Spanned<u64>,
}

/// A number or a `$param` reference.
#[derive(Debug, Clone)]
pub enum Value {
    Int(Spanned<u64>),
    Param(Name),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Int(v) => v.span,
            Value::Param(n) => n.span,
        }
    }
}

/// `budget fix_cycles = $max_fix_cycles [per failure_class [cap 6]]`
#[derive(Debug, Clone)]
pub struct BudgetDecl {
    pub name: Name,
    pub limit: Value,
    pub per: Option<PerClause>,
}

#[derive(Debug, Clone)]
pub struct PerClause {
    pub key: Name,
    pub cap: Option<Value>,
}

/// `entry task -> builder` (more nodes after a comma may be chosen by the item)
#[derive(Debug, Clone)]
pub struct EntryDecl {
    pub family: Name,
    pub nodes: Vec<Name>,
    pub span: Span,
}

/// `on drained -> arbiter`
#[derive(Debug, Clone)]
pub struct DrainedDecl {
    pub node: Name,
    pub span: Span,
}

/// `catch BLOCKED -> troubleshooter within attempts else consultant`
#[derive(Debug, Clone)]
pub struct CatchDecl {
    pub outcomes: Vec<Name>,
    pub route: Route,
    pub span: Span,
}

/// `drop fixer, doublechecker` in an overlay
#[derive(Debug, Clone)]
pub struct DropDecl {
    pub names: Vec<Name>,
}

/// `final needs_planning: escalate_planning [status X] [emits a, b] [handoff incident]`
#[derive(Debug, Clone)]
pub struct FinalDecl {
    pub name: Name,
    pub class: Name,
    pub status: Option<Name>,
    pub emits: Vec<Name>,
    pub handoff: Option<Name>,
    pub span: Span,
}

/// `checker [: kind] { ... }`
#[derive(Debug, Clone)]
pub struct NodeDef {
    pub name: Name,
    pub kind: Option<Name>,
    pub routes: Vec<RouteDecl>,
    pub effects: Vec<EffectDecl>,
    pub bindings: Vec<Binding>,
    pub grants: Vec<GrantDecl>,
    pub span: Span,
}

/// `FIX_NEEDED -> fixer within fix_cycles else troubleshooter`
#[derive(Debug, Clone)]
pub struct RouteDecl {
    pub outcomes: Vec<Name>,
    pub route: Route,
    pub span: Span,
}

/// Where an outcome goes, and the budget it spends.
#[derive(Debug, Clone)]
pub struct Route {
    pub target: Target,
    pub budget: Option<Box<BudgetClause>>,
    pub span: Span,
}

/// `within fix_cycles else <route>`
#[derive(Debug, Clone)]
pub struct BudgetClause {
    pub budget: Name,
    pub exhausted: Route,
}

/// `result.resume_stage or builder except consultant`
#[derive(Debug, Clone)]
pub struct Target {
    pub result_keys: Vec<Name>,
    pub to: Name,
    pub except: Vec<Name>,
}

/// `effect planner_disposition [on A, B] [fault -> blocked]`
#[derive(Debug, Clone)]
pub struct EffectDecl {
    pub id: Name,
    pub on: Vec<Name>,
    pub ports: Vec<(Name, Name)>,
    pub span: Span,
}

/// A runner/model/thinking/timeout/entrypoint/skill binding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub kind: BindingKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum BindingKind {
    Runner(Name),
    Model(Spanned<String>),
    Thinking(Spanned<String>),
    Timeout(Spanned<u64>),
    Entrypoint(Spanned<String>),
    Skill(Spanned<String>),
}

impl BindingKind {
    /// The keyword that introduces the binding.
    pub fn keyword(&self) -> &'static str {
        match self {
            BindingKind::Runner(_) => "runner",
            BindingKind::Model(_) => "model",
            BindingKind::Thinking(_) => "thinking",
            BindingKind::Timeout(_) => "timeout",
            BindingKind::Entrypoint(_) => "entrypoint",
            BindingKind::Skill(_) => "skill",
        }
    }
}

/// `mode learning_codex [extends default_codex] { ... }`
#[derive(Debug, Clone)]
pub struct ModeDef {
    pub name: Name,
    pub extends: Option<Name>,
    pub loops: Vec<Name>,
    pub sets: Vec<SetDecl>,
    pub learn: Vec<LearnRule>,
    pub concurrent: Vec<ConcurrentDecl>,
    pub lanes: Vec<LanesDecl>,
    pub bindings: Vec<Binding>,
    pub stage_bindings: Vec<StageBindings>,
    /// Capability policies for every stage of the mode.
    pub grants: Vec<GrantDecl>,
    /// True when a statement of the mode did not parse.
    pub recovered: bool,
    pub span: Span,
}

/// `set max_fix_cycles = 3`
#[derive(Debug, Clone)]
pub struct SetDecl {
    pub name: Name,
    pub value: Spanned<u64>,
}

/// `planner PLANNER_COMPLETE -> librarian (install)`
#[derive(Debug, Clone)]
pub struct LearnRule {
    pub source: Name,
    pub outcomes: Vec<Name>,
    pub target: Name,
    pub action: Name,
    pub span: Span,
}

/// `concurrent learning with execution, planning`
#[derive(Debug, Clone)]
pub struct ConcurrentDecl {
    pub plane: Name,
    pub with: Vec<Name>,
    pub span: Span,
}

/// `lanes execution 4`: how many items of the plane run at once.
#[derive(Debug, Clone)]
pub struct LanesDecl {
    pub plane: Name,
    pub count: Spanned<u64>,
    pub span: Span,
}

/// `builder { model "gpt-5" thinking high }`
#[derive(Debug, Clone)]
pub struct StageBindings {
    pub stage: Name,
    pub bindings: Vec<Binding>,
    pub grants: Vec<GrantDecl>,
}

/// `alias standard_plain = default_codex`
#[derive(Debug, Clone)]
pub struct AliasDef {
    pub name: Name,
    pub target: Name,
    pub span: Span,
}
