//! `skill_update` and `skill_rejection`: a curator decided on a skill
//! candidate (`<run_dir>/curator_decision.md`, the candidate
//! `<run_dir>/professor_skill_candidate.md`). On an accepting outcome
//! (`skill_update`) the candidate is validated and kept, and becomes the
//! skill's next version now, or waits in `update-candidates/deferred/`
//! while a running stage reads the skill (the engine applies it when that
//! stage ends), or in `update-candidates/held/` when the operator edited the
//! skill by hand (an edit is never overwritten); a decision that cannot be used (missing, malformed, not an
//! `accept`, a wrong target, a bad package) is a fault. On a declining
//! outcome (`skill_rejection`) the decision is recorded in
//! `update-candidates/rejected/` when there is one; it never faults:
//! nothing changes either way.

use super::context::EffectContext;
use super::result::EffectResult;
use crate::workspace::Timestamp;
use crate::workspace::skills::curation::{
    self, CANDIDATE_FILE, CurationRecord, DECISION_FILE, Decision,
};

pub fn skill_update(ctx: &mut EffectContext<'_>) -> EffectResult {
    match decide(ctx) {
        Ok(note) => EffectResult::Proceed { note },
        Err(reason) => EffectResult::fault(format!("skill_update_invalid: {reason}")),
    }
}

/// Records the curator's rejection, when it wrote a decision.
pub fn skill_rejection(ctx: &mut EffectContext<'_>) -> EffectResult {
    let note = match curation::read_decision(ctx.run_dir) {
        Ok(decision) => reject(ctx, &decision).unwrap_or_else(|e| format!("not recorded: {e}")),
        Err(e) => format!("no rejection recorded: {e}"),
    };
    EffectResult::Proceed { note }
}

fn decide(ctx: &mut EffectContext<'_>) -> Result<String, String> {
    let decision = curation::read_decision(ctx.run_dir).map_err(|e| e.to_string())?;
    if !decision.accept {
        return Err("`Decision: reject` with an accepting outcome".into());
    }
    let package =
        curation::candidate(ctx.paths, ctx.run_dir, &decision).map_err(|e| e.to_string())?;
    let kept = curation::keep_candidate(ctx.paths, &package).map_err(|e| e.to_string())?;
    let kept = kept.strip_prefix(ctx.paths.agents_dir()).unwrap_or(&kept);
    let mut record = record(ctx, &decision, &kept.to_string_lossy());
    let target = decision
        .target_skill_path
        .trim_start_matches("millrace-agents/");
    if ctx.bound_skills.iter().any(|b| b == target) {
        record.state = "deferred".into();
        curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
        return Ok(format!(
            "update of {} deferred: a running stage reads it",
            decision.skill_id
        ));
    }
    if curation::edited_by_operator(ctx.paths, package.id()) {
        record.state = "held".into();
        curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
        return Ok(format!(
            "update of {id} held: the skill was edited by hand, and an edit is never \
             overwritten; the candidate is at {kept}; `millrace skills install {kept} --force` \
             takes it (the edited files go to the skill's history)",
            id = decision.skill_id,
            kept = kept.display(),
        ));
    }
    let change = curation::apply(ctx.paths, &package).map_err(|e| e.to_string())?;
    record.state = "applied".into();
    record.version = Some(change.written.entry.version);
    record.previous_version = change.written.previous_version;
    curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
    let note = change.detail();
    ctx.changes.push(change);
    Ok(note)
}

/// Records a rejection; the candidate is kept when it is a valid package
/// (a rejected candidate may well not be one).
fn reject(ctx: &EffectContext<'_>, decision: &Decision) -> Result<String, String> {
    let kept = curation::candidate(ctx.paths, ctx.run_dir, decision)
        .and_then(|package| curation::keep_candidate(ctx.paths, &package));
    let kept = kept.ok().map(|k| {
        let k = k.strip_prefix(ctx.paths.agents_dir()).unwrap_or(&k);
        k.to_string_lossy().into_owned()
    });
    let mut record = record(ctx, decision, kept.as_deref().unwrap_or(""));
    record.state = "rejected".into();
    curation::write_record(ctx.paths, &record).map_err(|e| e.to_string())?;
    Ok(format!(
        "candidate for {} rejected and recorded",
        decision.skill_id
    ))
}

fn record(ctx: &EffectContext<'_>, decision: &Decision, candidate: &str) -> CurationRecord {
    let run_dir = ctx.run_dir.display();
    CurationRecord {
        schema_version: "1.0".into(),
        kind: "learning_curator_promotion".into(),
        state: String::new(),
        run_id: ctx.run_id.to_string(),
        work_item_id: ctx.item_id().unwrap_or("none").to_string(),
        skill_id: decision.skill_id.clone(),
        change_kind: decision.change_kind.clone(),
        target_skill_path: decision.target_skill_path.clone(),
        candidate_path: candidate.to_string(),
        artifact_paths: vec![
            format!("{run_dir}/{DECISION_FILE}"),
            format!("{run_dir}/{CANDIDATE_FILE}"),
        ],
        recorded_at: Timestamp::now(),
        version: None,
        previous_version: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::WorkspacePaths;
    use crate::workspace::queue::QueueStore;
    use crate::workspace::skills::{RemoteSettings, SkillStore};

    const OLD: &str = "---\nname: tidy\ndescription: Keep it tidy.\n---\n\n# Tidy\n";
    const NEW: &str = "---\nname: tidy\ndescription: Keep it tidy.\n---\n\n# Tidy\n\nAnd short.\n";

    fn decision(run_dir: &std::path::Path) {
        let text = "Learning-Request-ID: l1\nDecision: accept\nChange-Kind: improve\n\
Target-Skill-ID: tidy\nTarget-Skill-Path: millrace-agents/skills/tidy/SKILL.md\n";
        std::fs::write(run_dir.join(DECISION_FILE), text).expect("write");
        std::fs::write(run_dir.join(CANDIDATE_FILE), NEW).expect("write");
    }

    /// Runs `skill_update` on `run_dir` with `bound` skills read by running
    /// stages; returns its note and the changes it made.
    fn update(
        paths: &WorkspacePaths,
        run_dir: &std::path::Path,
        bound: &[String],
    ) -> (String, Vec<crate::workspace::skills::ops::Change>) {
        let mut queue = QueueStore::open(paths).expect("queue");
        let settings = RemoteSettings::default();
        let mut ctx = EffectContext {
            queue: &mut queue,
            paths,
            run_dir,
            outcome: "ACCEPTED",
            document: None,
            run_id: "run-1",
            bound_skills: bound,
            skills: &settings,
            changes: Vec::new(),
        };
        match skill_update(&mut ctx) {
            EffectResult::Proceed { note } => (note, ctx.changes),
            other => panic!("{other:?}"),
        }
    }

    /// An accepted update of a skill a running stage reads waits in
    /// `deferred/`, and becomes version 2 when applied later.
    #[test]
    fn an_update_of_a_skill_in_use_is_deferred_then_applied() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = WorkspacePaths::new(dir.path());
        paths.create_layout().expect("layout");
        std::fs::create_dir_all(paths.skills_dir().join("tidy")).expect("mkdir");
        std::fs::write(paths.skills_dir().join("tidy/SKILL.md"), OLD).expect("write");
        let run_dir = dir.path().join("run");
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        decision(&run_dir);
        let (note, changes) = update(&paths, &run_dir, &["skills/tidy/SKILL.md".to_string()]);
        assert!(note.contains("deferred"), "{note}");
        assert!(changes.is_empty());
        assert_eq!(
            std::fs::read_to_string(paths.skills_dir().join("tidy/SKILL.md"))
                .ok()
                .as_deref(),
            Some(OLD)
        );
        let deferred = curation::deferred(&paths);
        assert_eq!(deferred.len(), 1);
        let (file, record) = &deferred[0];
        let change = curation::apply_deferred(&paths, file, record).expect("applied");
        assert_eq!(change.written.entry.version, 2);
        assert_eq!(
            std::fs::read_to_string(paths.skills_dir().join("tidy/SKILL.md"))
                .ok()
                .as_deref(),
            Some(NEW)
        );
        let kept = SkillStore::new(&paths)
            .history_dir("tidy")
            .join("v1/SKILL.md");
        assert_eq!(std::fs::read_to_string(kept).ok().as_deref(), Some(OLD));
        assert!(
            paths
                .update_candidates_dir("applied")
                .join("run-1-none.json")
                .is_file()
        );
    }

    /// An accepted update of a skill the operator edited by hand is held
    /// for the operator: the edit stays, the candidate is kept.
    #[test]
    fn an_update_of_a_skill_edited_by_hand_is_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = WorkspacePaths::new(dir.path());
        paths.create_layout().expect("layout");
        let source = dir.path().join("tidy");
        std::fs::create_dir_all(&source).expect("mkdir");
        std::fs::write(source.join("SKILL.md"), OLD).expect("write");
        let package = crate::workspace::skills::Package::from_dir(&source).expect("package");
        let store = SkillStore::new(&paths);
        let options = crate::workspace::skills::InstallOptions::default();
        store
            .install(
                &package,
                crate::workspace::skills::Origin::Installed,
                options,
            )
            .expect("installed");
        let edited = format!("{OLD}\nThe operator's rule.\n");
        std::fs::write(paths.skills_dir().join("tidy/SKILL.md"), &edited).expect("edit");
        let run_dir = dir.path().join("run");
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        decision(&run_dir);
        let (note, changes) = update(&paths, &run_dir, &[]);
        assert!(note.contains("held"), "{note}");
        assert!(changes.is_empty());
        let now = std::fs::read_to_string(paths.skills_dir().join("tidy/SKILL.md"));
        assert_eq!(now.ok(), Some(edited));
        let held = paths.update_candidates_dir("held").join("run-1-none.json");
        assert!(held.is_file());
        assert!(paths.skill_candidates_dir().join("tidy/SKILL.md").is_file());
    }
}
