//! The engine changing skills: `skills install` and `skills promote` from
//! the mailbox, applied when no running stage reads the skill (otherwise
//! they wait in `incoming/`), journaled; and a recompile after any change
//! to a skill the plan reads, so the plan stays current (it takes over
//! when the running work ends, like a reload).

use super::Engine;
use super::mailbox::Applied;
use crate::workspace::mailbox::MailboxCommand;
use crate::workspace::skills::ops::{self, Change};
use crate::workspace::skills::{SkillError, curation};

impl Engine {
    /// Applies a skills command; `None` for any other command.
    pub(super) fn skill_command(&mut self, command: &MailboxCommand) -> Option<Applied> {
        let bound = self.bound_skill_paths();
        let in_use = |path: &str| bound.iter().any(|b| b == path);
        let paths = self.store.paths().clone();
        let result = match command {
            MailboxCommand::InstallSkill {
                reference,
                force,
                update,
            } => {
                let options = crate::workspace::skills::InstallOptions {
                    force: *force,
                    update: *update,
                };
                ops::install(&paths, reference, options, &self.settings.skills, &in_use)
            }
            MailboxCommand::PromoteSkill { skill_id } => ops::promote(&paths, skill_id, &in_use),
            _ => return None,
        };
        Some(match result {
            Ok(change) => {
                self.skill_changed(&change, None, None);
                Applied::Done(change.detail())
            }
            Err(SkillError::Busy(why)) => Applied::Deferred(why),
            Err(error) => Applied::Failed(error.to_string()),
        })
    }

    /// Applies the curator's deferred updates whose skill no running stage
    /// reads any more. A record that cannot be applied stays and is said.
    pub fn apply_deferred_skill_updates(&mut self) {
        let paths = self.store.paths().clone();
        for (file, record) in curation::deferred(&paths) {
            let target = record
                .target_skill_path
                .trim_start_matches("millrace-agents/");
            if self.bound_skill_paths().iter().any(|b| b == target) {
                continue;
            }
            match curation::apply_deferred(&paths, &file, &record) {
                Ok(change) => {
                    let request = Some(record.work_item_id.as_str());
                    self.skill_changed(&change, request, Some(&record.run_id));
                }
                Err(error) => self.deferred_update_failed(&file, &error),
            }
        }
    }

    /// A deferred update that cannot be applied (its kept candidate went
    /// missing, the skill was edited into something else) is set aside as
    /// `<record>.failed`, said on the monitor and in the journal, and not
    /// tried again.
    fn deferred_update_failed(&mut self, file: &std::path::Path, error: &SkillError) {
        let failed = file.with_extension("json.failed");
        let _ = std::fs::rename(file, &failed);
        let message = format!("deferred update {} not applied: {error}", file.display());
        self.monitor.line(&format!("skills {message}"));
        self.event(crate::workspace::journal::RuntimeEvent::RuntimeError {
            origin: "skill_update".into(),
            message,
        });
    }

    /// The `SKILL.md` paths (relative to `millrace-agents/`) running stages read.
    pub fn bound_skill_paths(&self) -> Vec<String> {
        let agents = self.store.paths().agents_dir().to_path_buf();
        self.flights
            .bound_skills()
            .iter()
            .filter_map(|p| p.strip_prefix(&agents).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    /// Journals a change, and recompiles when the plan reads that skill.
    pub fn skill_changed(&mut self, change: &Change, request: Option<&str>, run: Option<&str>) {
        if change.written.unchanged {
            return;
        }
        self.monitor.line(&format!("skills {}", change.detail()));
        self.event(change.event(request, run));
        let path = &change.written.entry.path;
        if self.plan.inputs.iter().any(|input| &input.path == path) {
            match self.reload() {
                Ok(note) => self.monitor.line(&format!("skills recompiled: {note}")),
                Err(why) => self.monitor.line(&format!("skills not recompiled: {why}")),
            }
        }
    }
}
