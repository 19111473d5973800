//! Who may read the dashboard. Pages show prompts and code, so an address
//! other than loopback needs a token; on loopback, requests must name a
//! loopback host, so a web page elsewhere cannot reach the dashboard
//! through DNS rebinding.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::html::{Page, esc};

const COOKIE: &str = "millrace_token";

/// The access rule of one server.
#[derive(Debug, Clone)]
pub struct Access {
    token: Option<String>,
    loopback: bool,
}

impl Access {
    /// The rule for `bind`; true when a token had to be generated.
    pub fn for_bind(bind: SocketAddr, token: Option<&str>) -> (Access, bool) {
        let loopback = bind.ip().is_loopback();
        let given = token.filter(|t| !t.is_empty()).map(str::to_string);
        let generated = given.is_none() && !loopback;
        let token = given.or_else(|| generated.then(new_token));
        (Access { token, loopback }, generated)
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The address to open (with the token, the first time).
    pub fn url(&self, host: &str) -> String {
        match &self.token {
            Some(token) => format!("http://{host}/?token={token}"),
            None => format!("http://{host}/"),
        }
    }

    /// Why `headers` and `query` may not read, or `None`.
    fn refusal(&self, headers: &HeaderMap, query: Option<&str>) -> Option<(StatusCode, String)> {
        if self.loopback && !host_is_loopback(headers) {
            let why =
                "this dashboard answers only to a loopback host name (127.0.0.1, localhost, [::1])";
            return Some((StatusCode::FORBIDDEN, why.to_string()));
        }
        let token = self.token.as_deref()?;
        let presented = [bearer(headers), cookie(headers), query_token(query)];
        if presented.into_iter().flatten().any(|t| same(&t, token)) {
            return None;
        }
        let why = "this dashboard needs its token: open the URL `millrace serve` printed (…/?token=…), or send `Authorization: Bearer <token>`";
        Some((StatusCode::UNAUTHORIZED, why.to_string()))
    }
}

/// Refuses a request the rule does not allow; remembers a token given in
/// the query in a cookie, so links need not carry it.
pub async fn guard(State(access): State<Access>, request: Request, next: Next) -> Response {
    let query = request.uri().query().map(str::to_string);
    if let Some((status, why)) = access.refusal(request.headers(), query.as_deref()) {
        let page = Page::notice("Not allowed", &esc(&why)).with_status(status);
        return page.into_response();
    }
    // Only the right token is remembered: a stale one in an old link must
    // not replace the good cookie that let this request in.
    let from_query = query_token(query.as_deref())
        .filter(|t| access.token.as_deref().is_some_and(|token| same(t, token)));
    let mut response = next.run(request).await;
    if let Some(token) = from_query {
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    is_loopback_name(name)
}

/// `localhost`, or a loopback address written as one (`127.0.0.5`,
/// `[::1]`): a name like `127.0.0.1.attacker.example` is a DNS name its
/// owner can point anywhere, so it does not count.
fn is_loopback_name(name: &str) -> bool {
    let bracketed = name.strip_prefix('[').and_then(|n| n.strip_suffix(']'));
    let address = match bracketed {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().map(std::net::IpAddr::V6),
        None => name.parse::<std::net::Ipv4Addr>().map(std::net::IpAddr::V4),
    };
    name.eq_ignore_ascii_case("localhost") || address.is_ok_and(|a| a.is_loopback())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    let values = headers.get_all(header::COOKIE).iter();
    let pairs = values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'));
    let mut found = pairs.filter_map(|pair| pair.trim().strip_prefix("millrace_token="));
    found.next().map(str::to_string)
}

fn query_token(query: Option<&str>) -> Option<String> {
    let pairs = query?.split('&');
    let mut found = pairs.filter_map(|pair| pair.strip_prefix("token="));
    found.next().map(str::to_string)
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    let differ = a
        .bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && differ == 0
}

/// 256 random bits (two v4 UUIDs), hex.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
