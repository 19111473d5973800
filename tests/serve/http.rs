//! A minimal HTTP/1.1 client over `std::net::TcpStream` for the dashboard
//! and chromedriver: one request per connection, read to EOF.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let found = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }
}

/// `method` `target` on `host` (`127.0.0.1:port`) with extra header lines.
pub fn request(
    host: &str,
    method: &str,
    target: &str,
    headers: &[&str],
    body: Option<&str>,
) -> Response {
    let head = Head {
        method,
        target,
        headers,
    };
    request_within(host, &head, body, Duration::from_secs(120))
}

/// A request line and its extra headers.
pub struct Head<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub headers: &'a [&'a str],
}

/// `GET target`, failing when the answer takes longer than `limit`.
pub fn get_within(host: &str, target: &str, limit: Duration) -> Response {
    let head = Head {
        method: "GET",
        target,
        headers: &[],
    };
    request_within(host, &head, None, limit)
}

/// A request answered within `limit`; a `Host:` among the headers replaces
/// the usual one.
pub fn request_within(host: &str, head: &Head, body: Option<&str>, limit: Duration) -> Response {
    let Head {
        method,
        target,
        headers,
    } = *head;
    let mut stream = TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(limit)).expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"))
    {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    for line in headers {
        head.push_str(line);
        head.push_str("\r\n");
    }
    let body = body.unwrap_or("");
    if method == "POST" || !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).expect("send");
    parse(&read_response(stream))
}

/// The response's bytes: to its `Content-Length` when it gives one (a
/// server may keep the connection open despite `Connection: close`), else
/// to EOF.
fn read_response(stream: TcpStream) -> Vec<u8> {
    let mut reader = BufReader::new(stream);
    let mut raw = Vec::new();
    let mut length = None;
    let mut line = String::new();
    while reader.read_line(&mut line).expect("read") > 0 {
        raw.extend_from_slice(line.as_bytes());
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse::<usize>().ok();
        }
        if line == "\r\n" {
            break;
        }
        line.clear();
    }
    match length {
        Some(n) => {
            let mut body = vec![0; n];
            reader.read_exact(&mut body).expect("read body");
            raw.extend_from_slice(&body);
        }
        None => {
            reader.read_to_end(&mut raw).expect("read");
        }
    }
    raw
}

pub fn get(host: &str, target: &str, headers: &[&str]) -> Response {
    request(host, "GET", target, headers, None)
}

fn parse(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// Opens `/events` and returns the reader positioned after the headers.
pub fn open_events(host: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!("GET /events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n");
    stream.write_all(head.as_bytes()).expect("send");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while reader.read_line(&mut line).expect("headers") > 0 && line != "\r\n" {
        line.clear();
    }
    reader
}

/// The data of the next `event: journal` frame (chunk framing skipped).
pub fn next_journal_event(reader: &mut BufReader<TcpStream>) -> String {
    next_event(reader, "journal")
}

/// The data of the next frame of event `kind`, failing after 30 seconds
/// (the stream's keep-alive comments would otherwise wait forever).
pub fn next_event(reader: &mut BufReader<TcpStream>, kind: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let wanted = format!("event: {kind}");
    let mut in_kind = false;
    let mut line = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no `{kind}` event within 30 s");
        reader
            .get_ref()
            .set_read_timeout(Some(left))
            .expect("timeout");
        line.clear();
        let read = reader.read_line(&mut line);
        let read = read.unwrap_or_else(|e| panic!("no `{kind}` event: {e}"));
        assert!(read > 0, "the event stream ended");
        let trimmed = line.trim_end();
        if trimmed.starts_with("event: ") {
            in_kind = trimmed == wanted;
        } else if let Some(data) = trimmed.strip_prefix("data: ").filter(|_| in_kind) {
            return data.to_string();
        }
    }
}
