//! ISO-8601 timestamps that keep the text they were written with.

mod forms;

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A point in time as written in a document or state file (`2026-01-01T00:00:00Z`).
///
/// The text is kept verbatim so a document re-renders byte for byte; ordering
/// uses the instant (a time without an offset is taken as UTC), then the text.
#[derive(Debug, Clone)]
pub struct Timestamp {
    text: String,
    instant: OffsetDateTime,
}

impl Timestamp {
    /// Parses RFC 3339 (`2026-01-01T00:00:00Z`, `...+02:00`, fractions), a
    /// local date-time without offset (`2026-01-01T00:00:00`, taken as UTC), or
    /// any other form the reference reads (`2026-01-01 12:30`, a date, unix seconds).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let instant = OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .or_else(|| parse_naive(text))
            .or_else(|| forms::parse(text))?;
        Some(Timestamp {
            text: text.to_string(),
            instant,
        })
    }

    /// The current time in UTC, whole seconds, rendered `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn now() -> Timestamp {
        Timestamp::from_instant(OffsetDateTime::now_utc())
    }

    /// A timestamp for `instant`, whole seconds, in UTC.
    pub fn from_instant(instant: OffsetDateTime) -> Timestamp {
        let utc = instant.to_offset(time::UtcOffset::UTC);
        let utc = utc.replace_nanosecond(0).unwrap_or(utc);
        let text = utc
            .format(&Rfc3339)
            .unwrap_or_else(|_| utc.unix_timestamp().to_string());
        Timestamp { text, instant: utc }
    }

    /// The same instant in the one form documents are written with:
    /// UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, which the reference reads.
    pub fn normalized(&self) -> Timestamp {
        Timestamp {
            text: forms::normalized(self.instant),
            instant: self.instant,
        }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant.
    pub fn instant(&self) -> OffsetDateTime {
        self.instant
    }
}

fn parse_naive(text: &str) -> Option<OffsetDateTime> {
    let whole = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let fraction = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    PrimitiveDateTime::parse(text, &whole)
        .or_else(|_| PrimitiveDateTime::parse(text, &fraction))
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

impl Default for Timestamp {
    fn default() -> Timestamp {
        Timestamp::from_instant(OffsetDateTime::UNIX_EPOCH)
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Timestamp) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Timestamp) -> Ordering {
        self.instant
            .cmp(&other.instant)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not an ISO-8601 datetime"))
        })
    }
}
