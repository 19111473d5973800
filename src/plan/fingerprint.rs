//! Fingerprints over compile inputs, and whether a saved plan is current.

use sha2::{Digest, Sha256};

use super::model::{InputDigest, Plan};

/// The digest of absent inputs.
pub const MISSING: &str = "missing";

pub fn digest(path: &str, content: Option<&[u8]>) -> InputDigest {
    let sha256 = content.map_or_else(|| MISSING.to_string(), |c| hex(&Sha256::digest(c)));
    InputDigest {
        path: path.to_string(),
        sha256,
    }
}

/// Lowercase hex digits of `bytes` (of a digest).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `fp-<16 hex>` over the mode id and every input digest, in path order.
pub fn fingerprint(mode_id: &str, inputs: &[InputDigest]) -> String {
    let mut sorted: Vec<&InputDigest> = inputs.iter().collect();
    sorted.sort();
    let mut hasher = Sha256::new();
    hasher.update(mode_id.as_bytes());
    for input in sorted {
        hasher.update([0]);
        hasher.update(input.path.as_bytes());
        hasher.update([0]);
        hasher.update(input.sha256.as_bytes());
    }
    format!("fp-{}", &hex(&hasher.finalize())[..16])
}

/// Whether the saved plan still matches its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Currentness {
    Current,
    Stale,
    Missing,
}

impl Currentness {
    pub fn as_str(self) -> &'static str {
        match self {
            Currentness::Current => "current",
            Currentness::Stale => "stale",
            Currentness::Missing => "missing",
        }
    }
}

/// Compares a plan with the inputs as they are now (`None`: no plan saved).
pub fn currentness(plan: Option<&Plan>, mode_id: &str, inputs_now: &[InputDigest]) -> Currentness {
    match plan {
        None => Currentness::Missing,
        Some(plan)
            if plan.mode_id == mode_id && plan.fingerprint == fingerprint(mode_id, inputs_now) =>
        {
            Currentness::Current
        }
        Some(_) => Currentness::Stale,
    }
}
