//! What the demo shows of the learning plane: the skill its curator
//! improves is installed first, and after the run every skill change the
//! journal records is printed, with the diff of an updated `SKILL.md` and
//! the files of an installed package.

use std::collections::BTreeMap;

use super::output::{CliError, CliResult, Out};
use crate::workspace::WorkspacePaths;
use crate::workspace::journal::{Journal, RuntimeEvent};
use crate::workspace::skills::{InstallOptions, Origin, Package, SKILL_FILE, SkillStore};

/// Installs the demo's own skill (`greeting-style`) unless it is there.
pub fn install_demo_skill(paths: &WorkspacePaths, text: &str) -> CliResult {
    let files = BTreeMap::from([(SKILL_FILE.to_string(), text.as_bytes().to_vec())]);
    let package = Package::from_files(files).map_err(CliError::caused)?;
    let store = SkillStore::new(paths);
    if store.find(package.id()).is_err() {
        store
            .install(&package, Origin::Installed, InstallOptions::default())
            .map_err(CliError::caused)?;
    }
    Ok(())
}

/// Prints each `skill_changed` event of the run, with what changed.
pub fn print_changes(paths: &WorkspacePaths, out: &mut Out) -> CliResult {
    let lines = Journal::new(paths).tail(10_000).map_err(CliError::caused)?;
    let store = SkillStore::new(paths);
    for event in lines.iter().filter_map(|line| line.event()) {
        let RuntimeEvent::SkillChanged {
            skill_id,
            operation,
            version,
            previous_version,
            path,
            learning_request_id,
            run_id,
            ..
        } = event
        else {
            continue;
        };
        out.line("")?;
        out.kv(
            "skill changed",
            format!(
                "{skill_id} version {version} by {operation} (request {}, run {})",
                learning_request_id.as_deref().unwrap_or("none"),
                run_id.as_deref().unwrap_or("none")
            ),
        )?;
        let now = paths.agents_dir().join(&path);
        match previous_version {
            Some(previous) => {
                let old = store
                    .history_dir(&skill_id)
                    .join(format!("v{previous}"))
                    .join(SKILL_FILE);
                diff(out, &read(&old), &read(&now))?;
            }
            None => {
                out.kv("installed", now.display())?;
                for line in read(&now).lines() {
                    out.line(format!("  {line}"))?;
                }
            }
        }
    }
    Ok(())
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The lines between the common head and tail of `old` and `new`, as `-`/`+`.
fn diff(out: &mut Out, old: &str, new: &str) -> CliResult {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    for line in &a[head..a.len() - tail] {
        out.line(format!("  - {line}"))?;
    }
    for line in &b[head..b.len() - tail] {
        out.line(format!("  + {line}"))?;
    }
    Ok(())
}
