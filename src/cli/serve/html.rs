//! The page frame and the little HTML the views share. Everything a
//! workspace says is escaped on its way into a page.

use std::fmt::Write as _;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One rendered view.
pub struct Page {
    pub title: String,
    /// The nav entry to mark (`overview`, `flow`, `queue`, `runs`).
    pub section: &'static str,
    pub body: String,
    pub status: StatusCode,
}

impl Page {
    pub fn new(title: impl Into<String>, section: &'static str, body: String) -> Page {
        Page {
            title: title.into(),
            section,
            body,
            status: StatusCode::OK,
        }
    }

    /// A page that only says something (`message` is HTML).
    pub fn notice(title: &str, message: &str) -> Page {
        let body = format!("<h1>{}</h1><p class=\"notice\">{message}</p>", esc(title));
        Page::new(title, "", body)
    }

    pub fn not_found(what: &str) -> Page {
        Page::notice("Not found", &esc(what)).with_status(StatusCode::NOT_FOUND)
    }

    pub fn with_status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    /// The whole document.
    pub fn html(&self) -> String {
        let mut nav = String::new();
        for (section, href, label) in NAV {
            let current = if *section == self.section {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(nav, "<a href=\"{href}\"{current}>{label}</a>");
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · millrace</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/app.css\"></head>\
<body data-section=\"{}\"><header><span class=\"brand\">millrace</span><nav>{nav}</nav>\
<span id=\"live\" class=\"live\" title=\"live updates\">static</span></header>\
<main id=\"main\">{}</main><script src=\"/assets/app.js\"></script></body></html>\n",
            esc(&self.title),
            self.section,
            self.body
        )
    }
}

const NAV: &[(&str, &str, &str)] = &[
    ("overview", "/", "Overview"),
    ("flow", "/flow", "Flow"),
    ("queue", "/queue", "Queue"),
    ("runs", "/runs", "Runs"),
];

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let headers = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
        (self.status, headers, self.html()).into_response()
    }
}

/// Text made safe for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query-string value made safe for a URL (and then for HTML).
pub fn url_part(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A link to a work item's detail page.
pub fn item_link(id: &str) -> String {
    format!("<a href=\"/items/{}\">{}</a>", url_part(id), esc(id))
}

/// A link to a run's page.
pub fn run_link(id: &str) -> String {
    format!("<a href=\"/runs/{}\">{}</a>", url_part(id), esc(id))
}

/// A table: a header row, then rows of cells that are HTML already.
pub fn table(class: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A warning box (`message` is HTML).
pub fn warning(message: &str) -> String {
    format!("<p class=\"warning\" role=\"alert\">{message}</p>")
}

/// `<pre>` of text, with a note when its start or end was cut.
pub fn pre(text: &str, cut: Option<&str>) -> String {
    let note = cut.map_or_else(String::new, |n| {
        format!("<p class=\"muted\">{}</p>", esc(n))
    });
    format!("{note}<pre>{}</pre>", esc(text))
}

/// Links to the previous and next pages of a list (`base` ends in `?...&` or `?`).
pub fn pager(base: &str, page: usize, pages: usize, total: usize) -> String {
    let mut out =
        format!("<nav class=\"pager\"><span>page {page} of {pages} ({total} in all)</span>");
    if page > 1 {
        let _ = write!(
            out,
            " <a rel=\"prev\" href=\"{base}page={}\">previous</a>",
            page - 1
        );
    }
    if page < pages {
        let _ = write!(
            out,
            " <a rel=\"next\" href=\"{base}page={}\">next</a>",
            page + 1
        );
    }
    out.push_str("</nav>");
    out
}

/// Rows per list page.
pub const PAGE_SIZE: usize = 50;

/// The 1-based page `asked` clamped into range, and the page count.
pub fn page_of(asked: Option<usize>, total: usize) -> (usize, usize) {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    (asked.unwrap_or(1).clamp(1, pages), pages)
}
