//! A minimal hand-written HTTP/1.1 client over `std::net::TcpStream`: one
//! request per connection (`Connection: close`), read to EOF, so tests can
//! see exactly what went over the wire, including cut bodies and closed
//! connections.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// What came back from the server.
#[derive(Debug)]
pub enum Fetch {
    /// A response (possibly with a cut body).
    Response(HttpResponse),
    /// The connection closed before any byte was sent.
    Closed,
    /// Nothing arrived within the read timeout.
    TimedOut,
}

impl Fetch {
    /// The response, or a panic naming what happened instead.
    pub fn response(self) -> HttpResponse {
        match self {
            Fetch::Response(response) => response,
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

/// A parsed response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body ended properly (terminating chunk or full content-length).
    pub complete: bool,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// SSE frames as (event name, data JSON); `[DONE]` becomes a string.
    pub fn events(&self) -> Vec<(Option<String>, Value)> {
        self.body
            .split("\n\n")
            .filter(|frame| !frame.trim().is_empty())
            .map(parse_frame)
            .collect()
    }
}

fn parse_frame(frame: &str) -> (Option<String>, Value) {
    let mut name = None;
    let mut data = String::new();
    for line in frame.lines() {
        if let Some(rest) = line.strip_prefix("event: ") {
            name = Some(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("data: ") {
            data.push_str(rest);
        }
    }
    let value = serde_json::from_str(&data).unwrap_or(Value::String(data));
    (name, value)
}

/// Sends one request and reads until the server closes the connection.
pub fn send(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Fetch {
    send_with_timeout(addr, method, path, body, Duration::from_secs(10))
}

/// [`send`] with a read timeout.
pub fn send_with_timeout(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Fetch {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    let payload = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nAuthorization: Bearer secret\r\n\
         Content-Length: {}\r\n\r\n",
        payload.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(payload.as_bytes()).expect("write body");
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if raw.is_empty() {
                    return Fetch::TimedOut;
                }
                break;
            }
            Err(err) if err.kind() == ErrorKind::ConnectionReset => break,
            Err(err) => panic!("read failed: {err}"),
        }
    }
    if raw.is_empty() {
        return Fetch::Closed;
    }
    Fetch::Response(parse_response(&raw))
}

/// POSTs a JSON body.
pub fn post(addr: SocketAddr, path: &str, body: &Value) -> HttpResponse {
    send(addr, "POST", path, Some(body)).response()
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .expect("status")
        .parse()
        .expect("code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let (body, complete) = if chunked {
        decode_chunked(rest)
    } else {
        let length: Option<usize> = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok());
        (rest.to_string(), length.is_none_or(|l| l == rest.len()))
    };
    HttpResponse {
        status,
        headers,
        body,
        complete,
    }
}

/// Decodes a chunked body; `complete` only if the zero chunk arrived.
fn decode_chunked(mut rest: &str) -> (String, bool) {
    let mut body = String::new();
    loop {
        let Some((size_line, after)) = rest.split_once("\r\n") else {
            return (body, false);
        };
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            return (body, false);
        };
        if size == 0 {
            return (body, true);
        }
        if after.len() < size {
            body.push_str(after);
            return (body, false);
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
}
