//! The agent-facing skills in `docs/skills/` name commands and options;
//! every `millrace ...` invocation they write must be a real command
//! whose `--help` lists every option used, so the skills cannot drift
//! from the command line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::millrace;

const SKILLS: &[&str] = &[
    "docs/skills/millrace-ops-agent-manual/SKILL.md",
    "docs/skills/millrace-autonomous-delegation/SKILL.md",
    "docs/skills/millrace-loop-authoring/SKILL.md",
];

/// Every `millrace ...` invocation of a markdown text: lines of code
/// blocks and inline code spans that start with `millrace `.
fn invocations(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if in_block {
            found.extend(line.trim().strip_prefix("millrace ").map(str::to_string));
        } else {
            let spans = line.split('`').skip(1).step_by(2);
            found.extend(spans.filter_map(|s| s.strip_prefix("millrace ").map(str::to_string)));
        }
    }
    found
}

/// The subcommand names a `--help` text lists under `Commands:`.
fn subcommands(help: &str) -> Vec<String> {
    let listed = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty());
    let names = listed.filter(|l| l.starts_with("  ") && !l.starts_with("   "));
    names
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// `--help` of a command path, run once per path.
fn help<'a>(cache: &'a mut BTreeMap<Vec<String>, String>, path: &[String]) -> &'a str {
    cache.entry(path.to_vec()).or_insert_with(|| {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = millrace(&args, Path::new(env!("CARGO_MANIFEST_DIR"))).ok();
        run.stdout
    })
}

/// The problems of one invocation: an unknown command, an option its
/// command's `--help` does not list.
fn problems(cache: &mut BTreeMap<Vec<String>, String>, invocation: &str) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut words = invocation.split_whitespace().peekable();
    while let Some(word) = words.peek() {
        if !subcommands(help(cache, &path)).iter().any(|c| c == word) {
            break;
        }
        path.push(word.to_string());
        words.next();
    }
    if path.is_empty() {
        return vec![format!("`millrace {invocation}`: no such command")];
    }
    let text = help(cache, &path).to_string();
    let options = words.filter(|w| w.starts_with("--"));
    options
        .map(|o| o.split('=').next().unwrap_or(o))
        .filter(|o| !text.contains(&format!("{o} ")) && !text.contains(&format!("{o}\n")))
        .map(|o| {
            format!(
                "`millrace {invocation}`: `{}` has no option `{o}`",
                path.join(" ")
            )
        })
        .collect()
}

#[test]
fn every_command_and_option_the_skills_name_has_help() {
    let mut cache = BTreeMap::new();
    let mut found = Vec::new();
    for skill in SKILLS {
        let text = std::fs::read_to_string(skill).expect("the skill exists");
        assert!(text.starts_with("---\nname: "), "{skill}: front matter");
        let named = invocations(&text);
        assert!(named.len() >= 5, "{skill} names commands");
        for invocation in named {
            found.extend(
                problems(&mut cache, &invocation)
                    .into_iter()
                    .map(|p| format!("{skill}: {p}")),
            );
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_wrong_command_or_option_is_caught() {
    let mut cache = BTreeMap::new();
    assert!(problems(&mut cache, "run daemon --until-idle").is_empty());
    assert_eq!(problems(&mut cache, "rn daemon").len(), 1);
    assert_eq!(problems(&mut cache, "run daemon --until-idel").len(), 1);
}

/// Every markdown file under `dir`, in path order.
fn markdown_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a shipped folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// The shipped prompts (entrypoints and skills) tell agents to run
/// `millrace ...` commands: each must exist with the options it is given.
#[test]
fn every_command_the_shipped_prompts_name_has_help() {
    let mut files = Vec::new();
    markdown_files(Path::new("assets/entrypoints"), &mut files);
    markdown_files(Path::new("assets/skills"), &mut files);
    let mut cache = BTreeMap::new();
    let mut found = Vec::new();
    let mut named = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        for invocation in invocations(&text) {
            named += 1;
            found.extend(
                problems(&mut cache, &invocation)
                    .into_iter()
                    .map(|p| format!("{}: {p}", file.display())),
            );
        }
    }
    assert!(named >= 5, "the shipped prompts name {named} commands");
    assert!(found.is_empty(), "{}", found.join("\n"));
}
