//! The per-request service: routes a request, asks the player for an action,
//! logs the request, and renders the outcome in the endpoint's wire format.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use hyper::body::{Body, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::api::{WireFormat, wire_format};
use crate::body::{MockBody, StreamEnd};
use crate::log::{LoggedRequest, loggable_body, loggable_headers, unix_ms};
use crate::player::Served;
use crate::reply::{self, Outcome};
use crate::request::{ApiKind, RequestView};
use crate::state::Shared;

/// Why a connection is closed without a response.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionClosed {
    /// The script said to drop the connection.
    #[error("mock-model: connection dropped by the script")]
    Scripted,
    /// The request body could not be read (the client went away).
    #[error("mock-model: cannot read the request body: {0}")]
    Body(#[source] hyper::Error),
}

/// What a request looked like on arrival.
struct Arrival {
    method: String,
    path: String,
    api: ApiKind,
    headers: BTreeMap<String, String>,
    raw: Vec<u8>,
}

/// Answers one request.
pub async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<MockBody>, ConnectionClosed> {
    let (parts, body) = request.into_parts();
    let raw = read_body(body).await.map_err(ConnectionClosed::Body)?;
    let arrival = Arrival {
        method: parts.method.to_string(),
        path: parts.uri.path_and_query().map_or_else(
            || parts.uri.path().to_string(),
            |pq| pq.as_str().to_string(),
        ),
        api: ApiKind::route(parts.method.as_str(), parts.uri.path()),
        headers: loggable_headers(
            parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes())),
        ),
        raw,
    };
    match wire_format(arrival.api) {
        Some(wire) => model_call(arrival, wire, &shared).await,
        None => Ok(side_endpoint(arrival, &shared)),
    }
}

async fn read_body(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut raw = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            raw.extend_from_slice(&data);
        }
    }
    Ok(raw)
}

/// Answers a probe, the model list, a token count or an unknown path.
fn side_endpoint(arrival: Arrival, shared: &Shared) -> Response<MockBody> {
    let mut state = shared.lock();
    let (status, body) = match arrival.api {
        ApiKind::Probe => (200, None),
        ApiKind::Models => (200, Some(model_list(&state.player.script().models))),
        ApiKind::CountTokens => {
            let tokens = state.player.script().usage.input_tokens;
            (200, Some(json!({ "input_tokens": tokens })))
        }
        _ => (
            404,
            Some(
                json!({ "error": { "message": "mock-model: unknown endpoint", "type": "not_found" } }),
            ),
        ),
    };
    let seq = state.next_seq();
    state
        .log
        .record(arrival.into_log(seq, Served::NotModel, Some(status)));
    match body {
        Some(body) => json_response(status, &body),
        None => text_response(status, "ok"),
    }
}

/// A model list readable both as OpenAI's and as Anthropic's.
fn model_list(models: &[String]) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|id| {
            json!({
                "id": id,
                "object": "model",
                "type": "model",
                "created": 0,
                "created_at": "2025-01-01T00:00:00Z",
                "display_name": id,
                "owned_by": "mock-model",
            })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "first_id": models.first(),
        "last_id": models.last(),
    })
}

/// Answers a model request from the script.
async fn model_call(
    arrival: Arrival,
    wire: &'static dyn WireFormat,
    shared: &Shared,
) -> Result<Response<MockBody>, ConnectionClosed> {
    let Ok(body) = serde_json::from_slice::<Value>(&arrival.raw) else {
        let mut state = shared.lock();
        let seq = state.next_seq();
        state
            .log
            .record(arrival.into_log(seq, Served::NotModel, Some(400)));
        return Ok(json_response(
            400,
            &wire.error(400, "mock-model: body is not JSON"),
        ));
    };
    let view = RequestView::from_body(&body);
    let outcome = decide(arrival, &view, shared);
    respond(wire, view.stream, outcome).await
}

/// Picks and logs the outcome, under the lock.
fn decide(arrival: Arrival, view: &RequestView, shared: &Shared) -> Outcome {
    let mut state = shared.lock();
    let seq = state.next_seq();
    let raw = String::from_utf8_lossy(&arrival.raw).into_owned();
    let selection = state.player.select(view, &raw);
    let context = reply::Context {
        api: arrival.api,
        view,
        usage: selection.usage,
        seq,
    };
    let outcome = reply::plan(&selection.action, context);
    let mut entry = arrival.into_log(seq, selection.served, status_of(&outcome));
    entry.action = Some(selection.action.kind().to_string());
    entry.stream = view.stream;
    entry.tool = outcome.tool_name().map(str::to_string);
    state.log.record(entry);
    outcome
}

fn status_of(outcome: &Outcome) -> Option<u16> {
    match outcome {
        Outcome::Reply(_) | Outcome::Cut(_) => Some(200),
        Outcome::Error { status, .. } => Some(*status),
        Outcome::Drop | Outcome::Hang => None,
    }
}

impl Arrival {
    /// The log entry for this request; the caller fills in what it decided.
    fn into_log(self, seq: u64, served: Served, status: Option<u16>) -> LoggedRequest {
        LoggedRequest {
            seq,
            unix_ms: unix_ms(),
            method: self.method,
            path: self.path,
            api: self.api,
            headers: self.headers,
            body: loggable_body(&self.raw),
            stream: false,
            served,
            action: None,
            tool: None,
            status,
        }
    }
}

/// Renders an outcome. Dropping returns an error so hyper closes the
/// connection without writing; hanging never returns.
async fn respond(
    wire: &dyn WireFormat,
    stream: bool,
    outcome: Outcome,
) -> Result<Response<MockBody>, ConnectionClosed> {
    Ok(match outcome {
        Outcome::Reply(reply) if stream => {
            sse_response(wire.stream(&reply, true), StreamEnd::Complete)
        }
        Outcome::Reply(reply) => json_response(200, &wire.json(&reply)),
        Outcome::Cut(reply) if stream => sse_response(wire.stream(&reply, false), StreamEnd::Cut),
        Outcome::Cut(reply) => cut_json_response(&wire.json(&reply)),
        Outcome::Error {
            status,
            message,
            retry_after,
        } => error_response(status, &wire.error(status, &message), retry_after),
        Outcome::Drop => return Err(ConnectionClosed::Scripted),
        Outcome::Hang => match std::future::pending::<Infallible>().await {},
    })
}

fn sse_response(frames: Vec<String>, end: StreamEnd) -> Response<MockBody> {
    let mut response = Response::new(MockBody::stream(frames, end));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The first half of a JSON body, then the connection is closed.
fn cut_json_response(body: &Value) -> Response<MockBody> {
    let text = body.to_string();
    let half = text.chars().take(text.chars().count() / 2).collect();
    let mut response = Response::new(MockBody::stream(vec![half], StreamEnd::Cut));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_response(status: u16, body: &Value, retry_after: Option<u64>) -> Response<MockBody> {
    let mut response = json_response(status, body);
    if let Some(secs) = retry_after {
        let headers = response.headers_mut();
        headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        headers.insert(
            HeaderName::from_static("retry-after-ms"),
            HeaderValue::from(secs.saturating_mul(1000)),
        );
    }
    response
}

fn json_response(status: u16, body: &Value) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn text_response(status: u16, text: &'static str) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(text));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}
