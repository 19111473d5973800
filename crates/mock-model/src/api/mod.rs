//! Wire formats: how each API renders an API-neutral [`Reply`] as an SSE
//! stream or a JSON body, and how it spells an error.

mod anthropic;
mod chat;
mod responses;

use serde_json::Value;

use crate::reply::Reply;
use crate::request::ApiKind;

/// One model API's wire format.
pub trait WireFormat: Sync {
    /// The SSE frames of a streamed answer. With `complete == false` the
    /// closing frames are left out (for a stream cut mid-way).
    fn stream(&self, reply: &Reply, complete: bool) -> Vec<String>;
    /// The body of a non-streamed answer.
    fn json(&self, reply: &Reply) -> Value;
    /// The body of an error answer with this status.
    fn error(&self, status: u16, message: &str) -> Value;
}

/// The wire format of a model endpoint; `None` for other endpoints.
pub fn wire_format(api: ApiKind) -> Option<&'static dyn WireFormat> {
    match api {
        ApiKind::Responses => Some(&responses::Responses),
        ApiKind::ChatCompletions => Some(&chat::ChatCompletions),
        ApiKind::Messages => Some(&anthropic::Messages),
        _ => None,
    }
}

/// Seconds since the Unix epoch, for `created` fields.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
