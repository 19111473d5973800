//! The query strings of the pages: read into their typed form, and a value
//! that does not read is answered with the dashboard's own 400 page naming
//! the parameter and what it accepts.

use std::fmt;

use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use super::html::{Page, esc};

/// A `page=` value: a whole number (0 and numbers past the last page show
/// the nearest page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber(pub usize);

impl<'de> Deserialize<'de> for PageNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PageNumber, D::Error> {
        deserializer.deserialize_str(PageNumberVisitor)
    }
}

struct PageNumberVisitor;

impl Visitor<'_> for PageNumberVisitor {
    type Value = PageNumber;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a page number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<PageNumber, E> {
        text.parse().map(PageNumber).map_err(|_| {
            E::custom(format!(
                "`page` is {text:?}; it takes a page number (a whole number: 1, 2, ...)"
            ))
        })
    }
}

/// Reads the query string `raw` (none reads as empty) as `T`; parameters
/// `T` does not name (the `token`) are left alone.
pub fn parse<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, Page> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| bad_request(&e.to_string()))
}

/// The 400 page: `why` says which parameter and what it takes.
pub fn bad_request(why: &str) -> Page {
    Page::notice("Bad request", &esc(why)).with_status(StatusCode::BAD_REQUEST)
}

/// The 400 page of parameter `name`, whose value `value` is none of `takes`.
pub fn not_one_of(name: &str, value: &str, takes: &[&str]) -> Page {
    bad_request(&format!(
        "`{name}` is {value:?}; it takes one of: {}",
        takes.join(", ")
    ))
}
