//! `skill_install`: the librarian names the optional skills the coming
//! work needs under `Install:` in `<run_dir>/librarian_selection_report.md`
//! (`- <skill_id>: <the need it serves>`); the runtime installs each one
//! that is not installed yet from the remote index (`[skills]
//! remote_index_url`), validated like any install. A skill that cannot be
//! installed is a fault: the learning request blocks with the reason, and
//! nothing else does.

use super::context::EffectContext;
use super::result::EffectResult;
use crate::workspace::input::read_text;
use crate::workspace::skills::ops;
use crate::workspace::skills::{InstallOptions, SkillStore};

/// The librarian's report, in the run directory.
pub const SELECTION_FILE: &str = "librarian_selection_report.md";

pub fn skill_install(ctx: &mut EffectContext<'_>) -> EffectResult {
    let path = ctx.run_dir.join(SELECTION_FILE);
    let text = match read_text(&path) {
        Ok(text) => text,
        Err(e) => {
            return EffectResult::fault(format!(
                "skill_install_invalid: cannot read {}: {e}",
                path.display()
            ));
        }
    };
    let wanted = install_list(&text);
    let store = SkillStore::new(ctx.paths);
    let mut notes = Vec::new();
    for id in wanted {
        if store.find(&id).is_ok() {
            notes.push(format!("{id} already installed"));
            continue;
        }
        let bound = ctx.bound_skills;
        let in_use = |p: &str| bound.iter().any(|b| b == p);
        match ops::install(
            ctx.paths,
            &id,
            InstallOptions::default(),
            ctx.skills,
            &in_use,
        ) {
            Ok(mut change) => {
                change.operation = "librarian_install";
                notes.push(change.detail());
                ctx.changes.push(change);
            }
            Err(error) => {
                return EffectResult::fault(format!("skill_install_failed: {id}: {error}"));
            }
        }
    }
    let note = if notes.is_empty() {
        "no skill to install".to_string()
    } else {
        notes.join("; ")
    };
    EffectResult::Proceed { note }
}

/// The ids of the `Install:` list (`- id: why` or `- id`); `none` is no id.
fn install_list(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "Install:" {
            inside = true;
        } else if inside {
            let Some(item) = trimmed.strip_prefix("- ") else {
                break;
            };
            let id = item
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('`');
            if !id.is_empty() && id != "none" {
                ids.push(id.to_string());
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::install_list;

    #[test]
    fn the_install_list_is_read_up_to_its_end() {
        let text = "Learning-Request-ID: l\n\nInstall:\n- csv-formats: the spec needs RFC 4180\n- `x`\n\nRejected:\n- y: no\n";
        assert_eq!(install_list(text), ["csv-formats", "x"]);
        assert!(install_list("Install:\n- none\n").is_empty());
    }
}
