//! How an effect handler ended: the node's own route applies, or the run
//! leaves through a port.

/// How an effect ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectResult {
    /// The node's own route applies; `note` says what the effect did.
    Proceed { note: String },
    /// Leave through a port instead (`fault`, `done`).
    Port { port: &'static str, reason: String },
}

impl EffectResult {
    pub fn fault(reason: impl Into<String>) -> EffectResult {
        EffectResult::Port {
            port: "fault",
            reason: reason.into(),
        }
    }
}
