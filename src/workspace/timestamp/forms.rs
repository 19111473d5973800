//! The datetime forms the reference's documents may carry, read into an instant.
//!
//! Besides RFC 3339 these are: a space or lower-case `t` between date and time,
//! lower-case `z`, offsets without a colon (`+0000`), a comma before the
//! fraction, minutes without seconds, a date alone (midnight), and unix
//! seconds (milliseconds above 2e10). A time without an offset is taken as UTC.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Numbers above this many seconds are milliseconds, as the reference reads them.
const MILLISECOND_THRESHOLD: f64 = 2e10;

/// Parses any accepted form; `None` when `text` is none of them.
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    if is_number(text) {
        return unix(text);
    }
    let (date, rest) = date(text)?;
    if rest.is_empty() {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, rest) = clock(rest)?;
    let offset = offset(rest)?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty() && all_digits(whole) && !fraction.is_empty() && all_digits(fraction)
}

fn unix(text: &str) -> Option<OffsetDateTime> {
    let mut seconds: f64 = text.parse().ok()?;
    if seconds.abs() > MILLISECOND_THRESHOLD {
        seconds /= 1000.0;
    }
    let whole = seconds.floor();
    let micros = ((seconds - whole) * 1e6).round() as i64;
    let instant = OffsetDateTime::from_unix_timestamp(whole as i64).ok()?;
    Some(instant + time::Duration::microseconds(micros))
}

/// `YYYY-MM-DD` and what follows it.
fn date(text: &str) -> Option<(Date, &str)> {
    let year = number(text.get(0..4)?)?;
    let month = number(text.get(5..7)?)?;
    let day = number(text.get(8..10)?)?;
    if text.get(4..5)? != "-" || text.get(7..8)? != "-" {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?);
    Some((date.ok()?, &text[10..]))
}

/// `HH:MM[:SS[(.|,)fraction]]` and what follows it.
fn clock(text: &str) -> Option<(Time, &str)> {
    let hour = number(text.get(0..2)?)?;
    let minute = number(text.get(3..5)?)?;
    if text.get(2..3)? != ":" {
        return None;
    }
    let (second, micro, rest) = match text.get(5..6) {
        Some(":") => seconds(&text[6..])?,
        _ => (0, 0, &text[5..]),
    };
    let time = Time::from_hms_micro(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        second,
        micro,
    );
    Some((time.ok()?, rest))
}

/// `SS[(.|,)fraction]`: whole seconds, microseconds (truncated) and the rest.
fn seconds(text: &str) -> Option<(u8, u32, &str)> {
    let second = u8::try_from(number(text.get(0..2)?)?).ok()?;
    let rest = &text[2..];
    let Some(fraction) = rest.strip_prefix(['.', ',']) else {
        return Some((second, 0, rest));
    };
    let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let micros: String = fraction[..digits]
        .chars()
        .chain("000000".chars())
        .take(6)
        .collect();
    Some((second, micros.parse().ok()?, &fraction[digits..]))
}

/// `Z`, `z`, `±HH:MM`, `±HHMM`, or nothing (UTC).
fn offset(text: &str) -> Option<UtcOffset> {
    match text {
        "" | "Z" | "z" => return Some(UtcOffset::UTC),
        _ => {}
    }
    let sign: i8 = match text.get(0..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let digits = text[1..].replacen(':', "", usize::from(text.len() == 6));
    if digits.len() != 4 || !all_digits(&digits) {
        return None;
    }
    let hours = i8::try_from(number(&digits[0..2])?).ok()?;
    let minutes = i8::try_from(number(&digits[2..4])?).ok()?;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

fn number(text: &str) -> Option<u32> {
    if !all_digits(text) {
        return None;
    }
    text.parse().ok()
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// The one form documents are written with: UTC, `Z`, microseconds when any.
pub(crate) fn normalized(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(UtcOffset::UTC);
    let (date, time) = (utc.date(), utc.time());
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    if time.microsecond() != 0 {
        text.push_str(&format!(".{:06}", time.microsecond()));
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::{normalized, parse};

    fn norm(text: &str) -> Option<String> {
        parse(text).map(normalized)
    }

    #[test]
    fn every_reference_form_reads() {
        let cases = [
            ("2026-01-01T12:30:00Z", "2026-01-01T12:30:00Z"),
            ("2026-01-01 12:30:00", "2026-01-01T12:30:00Z"),
            ("2026-01-01", "2026-01-01T00:00:00Z"),
            ("1767225600", "2026-01-01T00:00:00Z"),
            ("1767225600.5", "2026-01-01T00:00:00.500000Z"),
            ("1767225600000", "2026-01-01T00:00:00Z"),
            ("2026-01-01T12:30:00+0000", "2026-01-01T12:30:00Z"),
            ("2026-01-01t12:30:00z", "2026-01-01T12:30:00Z"),
            ("2026-01-01T12:30", "2026-01-01T12:30:00Z"),
            (
                "2026-01-01T12:30:00.123456789Z",
                "2026-01-01T12:30:00.123456Z",
            ),
            ("2026-01-01T12:30:00,5Z", "2026-01-01T12:30:00.500000Z"),
            ("2026-01-01T12:30:00+05:30", "2026-01-01T07:00:00Z"),
            ("2026-01-01T12:30:00-0800", "2026-01-01T20:30:00Z"),
            ("-5", "1969-12-31T23:59:55Z"),
        ];
        for (text, want) in cases {
            assert_eq!(norm(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn what_the_reference_refuses_is_refused() {
        for text in [
            "2026-01-01T12:30:00+05",
            "2026-01-01T24:00:00",
            "20260101T123000Z",
            "2026-1-1",
            "",
            "soon",
            "2026-01-01T",
        ] {
            assert_eq!(norm(text), None, "{text}");
        }
    }
}
