//! Every command and option of the reference's CLI (`cli-surface.md`, kept in
//! `tests/reference/cli-surface.md`) exists here: each command's `--help`
//! succeeds and names each of its options; a command with a required
//! argument takes one.

use crate::support::millrace;

/// One line of the surface: the command words, its options, whether it takes an argument.
struct Surface {
    command: Vec<String>,
    options: Vec<Vec<String>>,
    positional: bool,
}

fn surface() -> Vec<Surface> {
    let text = include_str!("reference/cli-surface.md");
    let block = text.split("```").nth(1).expect("a fenced block");
    block.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Surface> {
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let command: Vec<String> = words
        .iter()
        .take_while(|word| {
            word.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !word.starts_with("--")
        })
        .map(|word| word.to_string())
        .collect();
    let rest = &words[command.len()..];
    let positional = rest.first().is_some_and(|word| !word.starts_with("--"));
    let options: Vec<Vec<String>> = rest
        .iter()
        .filter(|word| word.starts_with("--"))
        .map(|word| word.split('/').map(str::to_string).collect())
        .collect();
    Some(Surface {
        command,
        options,
        positional,
    })
}

#[test]
fn every_reference_command_and_option_is_here() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut missing = Vec::new();
    let lines = surface();
    assert!(lines.len() > 50, "{} lines read", lines.len());
    for line in &lines {
        let mut args: Vec<&str> = line.command.iter().map(String::as_str).collect();
        args.push("--help");
        let run = millrace(&args, dir.path());
        let name = line.command.join(" ");
        if run.code != 0 {
            missing.push(format!("`millrace {name}`: --help exits {}", run.code));
            continue;
        }
        for names in &line.options {
            if !names.iter().all(|option| mentions(&run.stdout, option)) {
                missing.push(format!("`millrace {name}` {}", names.join("/")));
            }
        }
        if line.positional && !run.stdout.contains("Arguments:") {
            missing.push(format!("`millrace {name}`: its argument"));
        }
    }
    assert!(
        missing.is_empty(),
        "missing from ours:\n{}",
        missing.join("\n")
    );
}

/// True when `help` lists `option` as an option (not a longer one it prefixes).
fn mentions(help: &str, option: &str) -> bool {
    help.match_indices(option).any(|(at, _)| {
        let next = help[at + option.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}
