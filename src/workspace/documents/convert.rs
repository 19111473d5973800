//! Applying a family schema: raw markdown fields or a JSON object become checked, typed fields.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::{Problem, ProblemKind};
use super::fields::{RawDocument, RawValue};
use super::id::{is_valid_id, legacy_source_id};
use super::schema::{Field, Kind};
use crate::workspace::timestamp::Timestamp;

/// Checked fields keyed by snake_case name, ready for serde.
pub(crate) type Fields = Map<String, Value>;

/// JSON keys a family document may carry besides its fields.
const IGNORED_JSON_KEYS: &[&str] = &["schema_version", "kind"];

/// Checks a raw markdown document against `schema`.
pub(crate) fn from_markdown(schema: &[Field], raw: &RawDocument) -> (Fields, Vec<Problem>) {
    let mut out = Fields::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for field in &raw.fields {
        let Some(spec) = schema.iter().find(|spec| spec.label == field.label) else {
            continue;
        };
        if let Some(&first_line) = seen.get(spec.label) {
            let kind = ProblemKind::Repeated {
                field: spec.label.to_string(),
                line: field.line,
                first_line,
            };
            problems.push(Problem::new(Some(field.line), Some(spec.label), kind));
            continue;
        }
        seen.insert(spec.label, field.line);
        match markdown_value(spec, &field.value) {
            Ok(Some(value)) => drop(out.insert(spec.key(), value)),
            Ok(None) => {}
            Err(kind) => problems.push(Problem::new(Some(field.line), Some(spec.label), kind)),
        }
    }
    check_title(raw, &mut out, &mut problems, seen.get("Title").copied());
    if !raw.body.is_empty() {
        out.insert("body".to_string(), Value::String(raw.body.clone()));
    }
    check_required(schema, &out, &mut problems, |spec| {
        (spec.label.to_string(), seen.get(spec.label).copied())
    });
    (out, problems)
}

/// Checks a JSON object (snake_case keys) against `schema`.
pub(crate) fn from_json(schema: &[Field], object: Map<String, Value>) -> (Fields, Vec<Problem>) {
    let mut out = Fields::new();
    let mut problems = Vec::new();
    for (key, value) in object {
        if IGNORED_JSON_KEYS.contains(&key.as_str()) {
            continue;
        }
        if key == "body" {
            match value {
                Value::String(body) => {
                    drop(out.insert(key, Value::String(body.trim().to_string())))
                }
                Value::Null => {}
                _ => problems.push(wrong_type(&key, "a string")),
            }
            continue;
        }
        let Some(spec) = schema.iter().find(|spec| spec.key() == key) else {
            problems.push(unknown_key(schema, &key));
            continue;
        };
        match json_value(spec, value) {
            Ok(Some(value)) => drop(out.insert(key, value)),
            Ok(None) => {}
            Err(kind) => problems.push(Problem::new(None, Some(&key), kind)),
        }
    }
    check_required(schema, &out, &mut problems, |spec| (spec.key(), None));
    (out, problems)
}

fn check_title(
    raw: &RawDocument,
    out: &mut Fields,
    problems: &mut Vec<Problem>,
    line: Option<usize>,
) {
    match out.get("title").and_then(Value::as_str) {
        Some(title) if title != raw.title => {
            let kind = ProblemKind::TitleMismatch {
                title: title.to_string(),
                heading: raw.title.clone(),
            };
            problems.push(Problem::new(line, Some("Title"), kind));
        }
        Some(_) => {}
        None => drop(out.insert("title".to_string(), Value::String(raw.title.clone()))),
    }
}

/// Required scalars must be present; required lists need an item.
fn check_required(
    schema: &[Field],
    out: &Fields,
    problems: &mut Vec<Problem>,
    name: impl Fn(&Field) -> (String, Option<usize>),
) {
    for spec in schema.iter().filter(|spec| spec.required) {
        let (field, line) = name(spec);
        if problems
            .iter()
            .any(|problem| problem.field.as_deref() == Some(field.as_str()))
        {
            continue;
        }
        let kind = match out.get(&spec.key()) {
            None => ProblemKind::Missing {
                field: field.clone(),
            },
            Some(Value::Array(items)) if items.is_empty() => ProblemKind::EmptyList {
                field: field.clone(),
            },
            Some(_) => continue,
        };
        problems.push(Problem::new(line, Some(&field), kind));
    }
}

fn markdown_value(spec: &Field, value: &RawValue) -> Result<Option<Value>, ProblemKind> {
    match (value, spec.kind.is_list()) {
        (RawValue::List(items), true) => list_value(spec, items).map(Some),
        (RawValue::Scalar(text), true) => list_value(spec, std::slice::from_ref(text)).map(Some),
        (RawValue::List(items), false) if items.is_empty() => Ok(None),
        (RawValue::List(_), false) => Err(ProblemKind::ExpectedScalar {
            field: spec.label.to_string(),
        }),
        (RawValue::Scalar(text), false) => scalar_value(spec, spec.label, text).map(Some),
    }
}

fn json_value(spec: &Field, value: Value) -> Result<Option<Value>, ProblemKind> {
    let key = spec.key();
    match (spec.kind, value) {
        (_, Value::Null) => Ok(None),
        (Kind::Json, Value::Object(object)) => Ok(Some(Value::Object(object))),
        (Kind::Json, _) => Err(wrong(&key, "a JSON object")),
        (Kind::Bool(_), Value::Bool(flag)) => Ok(Some(Value::Bool(flag))),
        (Kind::Bool(_) | Kind::Time, Value::Number(number)) => {
            scalar_value(spec, &key, &number.to_string()).map(Some)
        }
        (kind, Value::Array(items)) if kind.is_list() => {
            let texts = json_strings(&key, items)?;
            list_value(spec, &texts).map(Some)
        }
        (kind, _) if kind.is_list() => Err(wrong(&key, "a list of strings")),
        (_, Value::String(text)) => {
            let text = text.trim();
            if text.is_empty() {
                Ok(None)
            } else {
                scalar_value(spec, &key, text).map(Some)
            }
        }
        (_, _) => Err(wrong(&key, "a string")),
    }
}

fn json_strings(key: &str, items: Vec<Value>) -> Result<Vec<String>, ProblemKind> {
    items
        .into_iter()
        .map(|item| match item {
            Value::String(text) => Ok(text.trim().to_string()),
            _ => Err(wrong(key, "a list of strings")),
        })
        .collect()
}

/// Checks one scalar; `name` is the label or key used in messages.
fn scalar_value(spec: &Field, name: &str, text: &str) -> Result<Value, ProblemKind> {
    let field = name.to_string();
    match spec.kind {
        Kind::Id if !is_valid_id(text) => Err(ProblemKind::InvalidId {
            field,
            value: text.to_string(),
        }),
        Kind::SourceId if !is_valid_id(text) => {
            legacy_source_id(text)
                .map(Value::String)
                .ok_or(ProblemKind::InvalidId {
                    field,
                    value: text.to_string(),
                })
        }
        Kind::Time => Timestamp::parse(text)
            .map(|time| Value::String(time.normalized().as_str().to_string()))
            .ok_or(ProblemKind::InvalidDatetime {
                field,
                value: text.to_string(),
            }),
        Kind::Bool(_) => parse_bool(text)
            .map(Value::Bool)
            .ok_or(ProblemKind::InvalidBool {
                field,
                value: text.to_string(),
            }),
        Kind::Choice(allowed, _) => choice(allowed, field, text),
        Kind::Json => match serde_json::from_str(text) {
            Ok(Value::Object(object)) => Ok(Value::Object(object)),
            Ok(_) => Err(ProblemKind::InvalidJson {
                field,
                message: "expected a JSON object".to_string(),
            }),
            Err(error) => Err(ProblemKind::InvalidJson {
                field,
                message: error.to_string(),
            }),
        },
        _ => Ok(Value::String(text.to_string())),
    }
}

fn list_value(spec: &Field, items: &[String]) -> Result<Value, ProblemKind> {
    let mut out = Vec::with_capacity(items.len());
    for item in items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
    {
        if spec.kind == Kind::IdList && is_empty_marker(item) {
            continue;
        }
        if matches!(spec.kind, Kind::IdList | Kind::Ids) && !is_valid_id(item) {
            let field = spec.label.to_string();
            return Err(ProblemKind::InvalidId {
                field,
                value: item.to_string(),
            });
        }
        out.push(Value::String(item.to_string()));
    }
    Ok(Value::Array(out))
}

/// `none`, `n/a` and `-` stand for an empty `Depends-On` / `Blocks`.
fn is_empty_marker(item: &str) -> bool {
    ["none", "n/a", "-"]
        .iter()
        .any(|marker| item.eq_ignore_ascii_case(marker))
}

/// The boolean forms the reference reads, in any case.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "t" | "on" | "1" => Some(true),
        "false" | "no" | "n" | "f" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn choice(allowed: &[&str], field: String, text: &str) -> Result<Value, ProblemKind> {
    let lowered = text.to_ascii_lowercase();
    if allowed.contains(&lowered.as_str()) {
        return Ok(Value::String(lowered));
    }
    Err(ProblemKind::InvalidChoice {
        field,
        value: text.to_string(),
        allowed: allowed.join(", "),
        suggestion: closest(allowed.iter().copied(), &lowered),
    })
}

/// The closest name to `wanted`, if any is close enough to be a likely typo.
pub(crate) fn closest<'a>(names: impl Iterator<Item = &'a str>, wanted: &str) -> Option<String> {
    names
        .map(|name| (strsim::normalized_damerau_levenshtein(name, wanted), name))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name.to_string())
}

fn unknown_key(schema: &[Field], key: &str) -> Problem {
    let keys: Vec<String> = schema
        .iter()
        .map(Field::key)
        .chain(["body".to_string()])
        .collect();
    let suggestion = closest(keys.iter().map(String::as_str), key);
    Problem::new(
        None,
        Some(key),
        ProblemKind::UnknownKey {
            key: key.to_string(),
            suggestion,
        },
    )
}

fn wrong(key: &str, expected: &'static str) -> ProblemKind {
    ProblemKind::WrongType {
        field: key.to_string(),
        expected,
    }
}

fn wrong_type(key: &str, expected: &'static str) -> Problem {
    Problem::new(None, Some(key), wrong(key, expected))
}
