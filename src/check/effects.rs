//! The runtime effects a loop may attach to a node, and their ports.
//!
//! An effect is a handler the runtime runs after a stage's answer is
//! normalized; it reads the stage's artifacts and may create or move work
//! items. Its ports are the routes it may take instead of the node's own.

/// One known effect id.
#[derive(Debug, Clone, Copy)]
pub struct EffectSpec {
    pub id: &'static str,
    /// Named exits; `fault` is taken when the artifacts are missing or invalid.
    pub ports: &'static [&'static str],
    pub summary: &'static str,
    /// Folders under `millrace-agents/` the handler writes into, so a
    /// prompt may send an agent there to read (the prompt-path lint).
    pub writes: &'static [&'static str],
}

pub const EFFECTS: &[EffectSpec] = &[
    EffectSpec {
        id: "planner_disposition",
        ports: &["fault", "done"],
        summary: "reads planner_disposition.json; `done` when child specs replace the source",
        writes: &[],
    },
    EffectSpec {
        id: "recon_handoff",
        ports: &["fault"],
        summary: "promotes generated_task or generated_spec into its queue",
        writes: &["recon/packets/", "tasks/queue/", "specs/queue/"],
    },
    EffectSpec {
        id: "blueprint_manifest",
        ports: &["fault"],
        summary: "keeps blueprint_manifest.json under blueprints/manifests/ and queues blueprint_drafts.json as drafts at revision 0",
        writes: &["blueprints/manifests/", "blueprints/drafts/queue/"],
    },
    EffectSpec {
        id: "blueprint_candidate",
        ports: &["fault"],
        summary: "keeps blueprint_packet.json and blueprint.md under blueprints/packets/candidates/ and names it the draft's latest blueprint",
        writes: &[
            "blueprints/packets/candidates/",
            "blueprints/drafts/active/",
        ],
    },
    EffectSpec {
        id: "blueprint_evaluation",
        ports: &["fault"],
        summary: "keeps the evaluation; approval moves the packet to approved/, promotes generated_task.json and writes the promotion; rejection moves it to rejected/ and opens the critique",
        writes: &[
            "blueprints/evaluations/",
            "blueprints/packets/approved/",
            "blueprints/packets/rejected/",
            "blueprints/critiques/open/",
            "blueprints/promotions/",
            "blueprints/drafts/active/",
            "tasks/queue/",
        ],
    },
    EffectSpec {
        id: "skill_update",
        ports: &["fault"],
        summary: "reads curator_decision.md (an `accept`) and professor_skill_candidate.md; the candidate becomes the skill's next version (the previous one kept in its history), deferred while a running stage reads the skill",
        writes: &[
            "skills/",
            "learning/skill-candidates/",
            "learning/update-candidates/applied/",
            "learning/update-candidates/deferred/",
        ],
    },
    EffectSpec {
        id: "skill_rejection",
        ports: &[],
        summary: "records a curator_decision.md that declines its candidate under update-candidates/rejected/; never faults",
        writes: &[
            "learning/skill-candidates/",
            "learning/update-candidates/rejected/",
        ],
    },
    EffectSpec {
        id: "skill_install",
        ports: &["fault"],
        summary: "installs each skill the `Install:` list of librarian_selection_report.md names from the remote index, validated; one that cannot be installed is a fault",
        writes: &["skills/"],
    },
];

pub fn effect(id: &str) -> Option<&'static EffectSpec> {
    EFFECTS.iter().find(|e| e.id == id)
}
