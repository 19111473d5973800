//! A child's output read line by line, each line kept in memory only up to
//! a cap: an agent that prints without end, or one line without end, costs
//! the daemon one bounded buffer.

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The longest line kept in memory and interpreted (an event, an RPC
/// response). A longer one is only counted: its first bytes go to the log
/// in a notice, the rest is dropped as it arrives. Far above any event the
/// agent CLIs print, and small enough that a flood of such lines keeps the
/// daemon's memory flat.
pub const LINE_MAX_BYTES: usize = 8 * 1024 * 1024;

/// How much of a line that is too long the notice about it shows.
pub const CUT_HEAD_BYTES: usize = 256;

/// The read side's buffer: large reads keep a flood cheap.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// One line of output, without its newline.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Whole(&'a [u8]),
    /// Longer than the cap: its length and its first bytes.
    TooLong {
        bytes: u64,
        head: &'a [u8],
    },
}

/// Reads lines of at most `max` bytes from a pipe.
pub struct LineReader<R> {
    reader: BufReader<R>,
    line: Vec<u8>,
    max: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// A reader with the [`LINE_MAX_BYTES`] cap.
    pub fn new(reader: R) -> LineReader<R> {
        LineReader::with_max(reader, LINE_MAX_BYTES)
    }

    pub fn with_max(reader: R, max: usize) -> LineReader<R> {
        LineReader {
            reader: BufReader::with_capacity(READ_BUFFER_BYTES, reader),
            line: Vec::new(),
            max,
        }
    }

    /// The next line; `None` at the end of the output. A last line without
    /// a newline is a line.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.line.clear();
        let mut bytes = 0u64;
        loop {
            let buffer = self.reader.fill_buf().await?;
            if buffer.is_empty() {
                if bytes == 0 {
                    return Ok(None);
                }
                break;
            }
            let end = buffer.iter().position(|b| *b == b'\n');
            let chunk = &buffer[..end.unwrap_or(buffer.len())];
            let room = self.max.saturating_sub(self.line.len());
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            bytes += chunk.len() as u64;
            let used = chunk.len() + usize::from(end.is_some());
            self.reader.consume(used);
            if end.is_some() {
                break;
            }
        }
        Ok(Some(self.finished(bytes)))
    }

    fn finished(&self, bytes: u64) -> Line<'_> {
        if bytes > self.max as u64 {
            let head = &self.line[..self.line.len().min(CUT_HEAD_BYTES)];
            Line::TooLong { bytes, head }
        } else {
            Line::Whole(&self.line)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<String> {
        let mut reader = LineReader::with_max(input, max);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().await.expect("read") {
            out.push(match line {
                Line::Whole(b) => String::from_utf8_lossy(b).into_owned(),
                Line::TooLong { bytes, head } => {
                    format!("cut {bytes} {}", String::from_utf8_lossy(head))
                }
            });
        }
        out
    }

    #[tokio::test]
    async fn lines_are_split_and_the_last_may_lack_a_newline() {
        assert_eq!(lines(b"a\n\nbc\nd", 10).await, ["a", "", "bc", "d"]);
        assert!(lines(b"", 10).await.is_empty());
    }

    #[tokio::test]
    async fn a_line_over_the_cap_is_counted_not_kept() {
        let long = format!("{}\nnext\n", "x".repeat(1000));
        let got = lines(long.as_bytes(), 100).await;
        assert_eq!(got[1], "next");
        assert!(got[0].starts_with("cut 1000 xxx"), "{}", got[0]);
        assert_eq!(got[0].len(), "cut 1000 ".len() + CUT_HEAD_BYTES.min(100));
    }
}
