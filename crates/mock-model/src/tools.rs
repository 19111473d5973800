//! Translation of the generic "run a shell command" and "write a file" turns
//! into a call of a tool the client actually offered.
//!
//! The client's `tools` list decides: Codex offers `exec_command {cmd}` (older
//! builds `shell {command: [argv]}` or `shell_command {command}`), pi offers
//! `bash {command}` and `write {path, content}`, Claude Code offers
//! `Bash {command}` and `Write {file_path, content}`. Names are matched
//! exactly first, then ignoring case. When nothing fits, the API's customary
//! shell tool is named anyway so the failure shows up on the client side.

use serde_json::{Value, json};

use crate::request::ApiKind;

/// A tool call to send to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The tool name, as the client spelled it.
    pub name: String,
    /// The arguments object.
    pub arguments: Value,
}

/// How a shell-like tool takes its command.
#[derive(Debug, Clone, Copy)]
enum ShellArgs {
    /// `{"cmd": "..."}`
    Cmd,
    /// `{"command": "..."}`
    CommandString,
    /// `{"command": ["bash", "-lc", "..."]}`
    CommandArgv,
}

/// Shell-like tools in order of preference.
const SHELL_TOOLS: &[(&str, ShellArgs)] = &[
    ("exec_command", ShellArgs::Cmd),
    ("shell_command", ShellArgs::CommandString),
    ("shell", ShellArgs::CommandArgv),
    ("bash", ShellArgs::CommandString),
    ("run_shell_command", ShellArgs::CommandString),
];

/// Write tools: name and the key holding the path.
const WRITE_TOOLS: &[(&str, &str)] = &[
    ("write", "path"),
    ("Write", "file_path"),
    ("write_file", "path"),
];

/// A call of the client's shell tool running `command`.
pub fn shell_call(api: ApiKind, offered: &[String], command: &str) -> ToolCall {
    let (name, style) = find_tool(offered, SHELL_TOOLS).unwrap_or_else(|| fallback_shell(api));
    let arguments = match style {
        ShellArgs::Cmd => json!({ "cmd": command }),
        ShellArgs::CommandString => json!({ "command": command }),
        ShellArgs::CommandArgv => json!({ "command": ["bash", "-lc", command] }),
    };
    ToolCall { name, arguments }
}

/// A call of the client's write tool, or of its shell tool running a command
/// that writes exactly `content` to `path`.
pub fn write_call(api: ApiKind, offered: &[String], path: &str, content: &str) -> ToolCall {
    match find_tool(offered, WRITE_TOOLS) {
        Some((name, path_key)) => {
            let mut arguments = json!({ "content": content });
            arguments[path_key] = Value::String(path.to_string());
            ToolCall { name, arguments }
        }
        None => shell_call(api, offered, &write_command(path, content)),
    }
}

/// A POSIX shell command writing exactly `content` (no added newline) to
/// `path`, creating parent directories.
pub fn write_command(path: &str, content: &str) -> String {
    let path = quote(path);
    format!(
        "mkdir -p -- \"$(dirname -- {path})\" && printf '%s' {} > {path}",
        quote(content)
    )
}

/// Single-quotes a string for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The first candidate the client offered: exact spelling first, then any
/// case. Returns the client's spelling.
fn find_tool<T: Copy>(offered: &[String], candidates: &[(&str, T)]) -> Option<(String, T)> {
    let exact = candidates
        .iter()
        .find(|(name, _)| offered.iter().any(|o| o == name))
        .map(|(name, style)| ((*name).to_string(), *style));
    exact.or_else(|| {
        candidates.iter().find_map(|(name, style)| {
            offered
                .iter()
                .find(|o| o.eq_ignore_ascii_case(name))
                .map(|o| (o.clone(), *style))
        })
    })
}

fn fallback_shell(api: ApiKind) -> (String, ShellArgs) {
    match api {
        ApiKind::Responses => ("exec_command".to_string(), ShellArgs::Cmd),
        ApiKind::Messages => ("Bash".to_string(), ShellArgs::CommandString),
        _ => ("bash".to_string(), ShellArgs::CommandString),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn codex_exec_command_takes_cmd() {
        let call = shell_call(ApiKind::Responses, &names(&["shell", "exec_command"]), "ls");
        assert_eq!(call.name, "exec_command");
        assert_eq!(call.arguments, json!({"cmd": "ls"}));
    }

    #[test]
    fn codex_shell_takes_argv() {
        let call = shell_call(ApiKind::Responses, &names(&["shell", "apply_patch"]), "ls");
        assert_eq!(call.arguments, json!({"command": ["bash", "-lc", "ls"]}));
    }

    #[test]
    fn claude_bash_matches_case_insensitively() {
        let call = shell_call(ApiKind::Messages, &names(&["Read", "Bash"]), "ls");
        assert_eq!(call.name, "Bash");
        assert_eq!(call.arguments, json!({"command": "ls"}));
    }

    #[test]
    fn write_tools_use_their_path_key() {
        let pi = write_call(
            ApiKind::ChatCompletions,
            &names(&["bash", "write"]),
            "a",
            "b",
        );
        assert_eq!(pi.arguments, json!({"path": "a", "content": "b"}));
        let claude = write_call(ApiKind::Messages, &names(&["Bash", "Write"]), "a", "b");
        assert_eq!(claude.arguments, json!({"file_path": "a", "content": "b"}));
    }

    #[test]
    fn write_falls_back_to_shell() {
        let call = write_call(
            ApiKind::Responses,
            &names(&["exec_command"]),
            "d/it's",
            "x\n",
        );
        assert_eq!(call.name, "exec_command");
        let expected =
            "mkdir -p -- \"$(dirname -- 'd/it'\\''s')\" && printf '%s' 'x\n' > 'd/it'\\''s'";
        assert_eq!(call.arguments, json!({ "cmd": expected }));
    }

    #[test]
    fn nothing_offered_uses_api_default() {
        assert_eq!(shell_call(ApiKind::Messages, &[], "ls").name, "Bash");
        assert_eq!(shell_call(ApiKind::ChatCompletions, &[], "ls").name, "bash");
    }
}
