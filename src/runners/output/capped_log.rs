//! An output file with a size cap, written line by line as the output
//! arrives. The first quarter of the cap keeps the beginning of the output
//! (how the run started); the rest keeps its newest lines, in two segment
//! files that take turns, so the middle of an endless output is dropped as
//! it goes and the disk holds at most the cap. When the output ends, the
//! kept tail is appended to the file after a notice line saying how many
//! lines and bytes were cut, so an operator reading it knows.
//!
//! A write that fails (a full disk) is not returned to the writer, which
//! must go on reading its pipe to the end (a child blocked on a full pipe
//! never finishes): the log remembers the first failure, writes nothing
//! more, and [`CappedLog::finish`] reports it, so that a stage whose output
//! was lost never passes for one that printed nothing.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::fs_error::{FileError, at};

/// The most bytes kept of one output of one stage (its events, its stdout
/// or its stderr).
pub const OUTPUT_MAX_BYTES: u64 = 32 * 1024 * 1024;

/// What a failed write of the output is reported as doing.
const WRITE_ACTION: &str = "write the stage output to";

/// How notices are written: a JSON object for JSONL event logs (readers
/// parse every line), a bracketed sentence for plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Json,
    Text,
}

/// Lines and bytes dropped from the middle.
#[derive(Debug, Clone, Copy, Default)]
struct Cut {
    lines: u64,
    bytes: u64,
}

/// A part of the kept tail, in its own file next to the log.
struct Segment {
    path: PathBuf,
    file: BufWriter<File>,
    lines: u64,
    bytes: u64,
}

/// The capped log of one output.
pub struct CappedLog {
    path: PathBuf,
    head: BufWriter<File>,
    head_room: u64,
    segment_max: u64,
    current: Option<Segment>,
    previous: Option<Segment>,
    rotations: u64,
    cut: Cut,
    style: Style,
    max: u64,
    finished: bool,
    /// The first write that failed; nothing is written after it.
    failure: Option<std::io::Error>,
}

impl CappedLog {
    /// Creates (truncates) `path`, capped at [`OUTPUT_MAX_BYTES`].
    pub fn create(path: &Path, style: Style) -> std::io::Result<CappedLog> {
        CappedLog::with_cap(path, style, OUTPUT_MAX_BYTES)
    }

    /// Creates `path`, capped at `max` bytes (plus the notice).
    pub fn with_cap(path: &Path, style: Style, max: u64) -> std::io::Result<CappedLog> {
        let head_room = max / 4;
        Ok(CappedLog {
            path: path.to_path_buf(),
            head: BufWriter::new(File::create(path)?),
            head_room,
            segment_max: (max - head_room) / 2,
            current: None,
            previous: None,
            rotations: 0,
            cut: Cut::default(),
            style,
            max,
            finished: false,
            failure: None,
        })
    }

    /// The file the output goes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line (a newline is added). After a failed write this
    /// does nothing: the failure is reported by [`CappedLog::finish`].
    pub fn write_line(&mut self, line: &[u8]) {
        if self.failure.is_none() {
            if let Err(error) = self.append(line) {
                self.failure = Some(error);
            }
        }
    }

    /// Notes a line that was too long to keep: its length and first bytes.
    pub fn write_too_long(&mut self, bytes: u64, head: &[u8]) {
        let head = String::from_utf8_lossy(head);
        let notice = match self.style {
            Style::Json => serde_json::json!({
                "type": "millrace.line_cut", "bytes": bytes, "head": head,
            })
            .to_string(),
            Style::Text => format!("{head} [millrace: a line of {bytes} bytes, cut here]"),
        };
        self.write_line(notice.as_bytes());
    }

    fn append(&mut self, line: &[u8]) -> std::io::Result<()> {
        let size = line.len() as u64 + 1;
        if self.current.is_none() && size <= self.head_room {
            self.head_room -= size;
            return write_with_newline(&mut self.head, line);
        }
        let full = |s: &Segment| s.bytes > 0 && s.bytes + size > self.segment_max;
        if self.current.as_ref().is_none_or(full) {
            self.rotate()?;
        }
        match self.current.as_mut() {
            Some(segment) => segment.write(line, size),
            None => Ok(()),
        }
    }

    /// Drops the older tail segment (its lines are cut) and starts a new one.
    fn rotate(&mut self) -> std::io::Result<()> {
        if let Some(dropped) = self.previous.take() {
            self.cut.lines += dropped.lines;
            self.cut.bytes += dropped.bytes;
            drop(dropped);
        }
        let path = segment_path(&self.path, self.rotations % 2);
        self.rotations += 1;
        self.previous = self.current.take();
        self.current = Some(Segment::create(path)?);
        Ok(())
    }

    /// Writes the notice and the kept tail into the file, and removes the
    /// segment files. Fails with the first write that failed, while the
    /// output was written or now.
    pub fn finish(mut self) -> Result<(), FileError> {
        let assembled = self.assemble();
        match self.failure.take() {
            Some(first) => Err(at(WRITE_ACTION, &self.path)(first)),
            None => assembled.map_err(at(WRITE_ACTION, &self.path)),
        }
    }

    fn assemble(&mut self) -> std::io::Result<()> {
        if std::mem::replace(&mut self.finished, true) {
            return Ok(());
        }
        let mut tail: Vec<Segment> = [self.previous.take(), self.current.take()]
            .into_iter()
            .flatten()
            .collect();
        let written = match &self.failure {
            // Best effort: the disk may still refuse; the failure is known.
            Some(failure) => {
                let notice = self.lost_notice(failure);
                let _ = write_with_newline(&mut self.head, notice.as_bytes());
                Ok(())
            }
            None => self.append_tail(&mut tail),
        };
        for segment in tail {
            segment.remove();
        }
        written.and_then(|()| self.head.flush())
    }

    /// The cut notice, if lines were cut, then the kept tail.
    fn append_tail(&mut self, tail: &mut [Segment]) -> std::io::Result<()> {
        if self.cut.lines > 0 {
            let kept = tail.iter().map(|s| s.bytes).sum();
            let notice = self.notice(kept);
            write_with_newline(&mut self.head, notice.as_bytes())?;
        }
        for segment in tail.iter_mut() {
            segment.append_to(&mut self.head)?;
        }
        Ok(())
    }

    /// The line that stands where the middle was cut.
    fn notice(&self, kept_tail: u64) -> String {
        let (Cut { lines, bytes }, max) = (self.cut, self.max);
        let sentence = format!(
            "millrace cut {lines} lines ({bytes} bytes) here: this output passed its cap of \
             {max} bytes; its beginning before this line and its last {kept_tail} bytes after \
             it are kept"
        );
        match self.style {
            Style::Json => serde_json::json!({
                "type": "millrace.output_cut", "cut_lines": lines, "cut_bytes": bytes,
                "kept_tail_bytes": kept_tail, "message": sentence,
            })
            .to_string(),
            Style::Text => format!("[{sentence}]"),
        }
    }

    /// The line that says the rest of the output was lost, and why.
    fn lost_notice(&self, failure: &std::io::Error) -> String {
        let sentence = format!("millrace could not keep this output from here on: {failure}");
        match self.style {
            Style::Json => serde_json::json!({
                "type": "millrace.output_lost", "message": sentence,
            })
            .to_string(),
            Style::Text => format!("[{sentence}]"),
        }
    }
}

impl Drop for CappedLog {
    /// A log dropped unfinished (a task aborted at teardown) still ends up
    /// as one file.
    fn drop(&mut self) {
        let _ = self.assemble();
    }
}

impl Segment {
    fn create(path: PathBuf) -> std::io::Result<Segment> {
        let file = BufWriter::new(File::create(&path)?);
        Ok(Segment {
            path,
            file,
            lines: 0,
            bytes: 0,
        })
    }

    fn write(&mut self, line: &[u8], size: u64) -> std::io::Result<()> {
        self.lines += 1;
        self.bytes += size;
        write_with_newline(&mut self.file, line)
    }

    /// Copies the segment to the end of `to`: its file, once the buffer is
    /// written out.
    fn append_to(&mut self, to: &mut BufWriter<File>) -> std::io::Result<()> {
        self.file.flush()?;
        let mut kept = File::open(&self.path)?;
        std::io::copy(&mut kept, to)?;
        Ok(())
    }

    /// Removes the segment's file (it is in the log, or lost with it).
    fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `<log>.tail<n>`: one of the two tail segments.
fn segment_path(log: &Path, n: u64) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(format!(".tail{n}"));
    PathBuf::from(name)
}

fn write_with_newline(to: &mut BufWriter<File>, line: &[u8]) -> std::io::Result<()> {
    to.write_all(line)?;
    to.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_lines(log: &mut CappedLog, count: usize) {
        for n in 0..count {
            log.write_line(format!("line {n:04}").as_bytes());
        }
    }

    #[test]
    fn an_output_under_the_cap_is_kept_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.txt");
        let mut log = CappedLog::with_cap(&path, Style::Text, 400).expect("log");
        write_lines(&mut log, 30);
        log.finish().expect("finish");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 30);
        assert!(text.starts_with("line 0000\n") && text.ends_with("line 0029\n"));
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn a_long_output_keeps_its_head_and_tail_and_says_what_was_cut() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("events.jsonl");
        let mut log = CappedLog::with_cap(&path, Style::Json, 400).expect("log");
        write_lines(&mut log, 1000);
        log.finish().expect("finish");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.len() <= 400 + 400, "{} bytes", text.len());
        assert!(text.starts_with("line 0000\n") && text.ends_with("line 0999\n"));
        let notice = text
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("a notice line");
        let notice: serde_json::Value = serde_json::from_str(notice).expect("JSON");
        assert_eq!(notice["type"], "millrace.output_cut");
        let kept = text.lines().count() as u64 - 1;
        assert_eq!(notice["cut_lines"].as_u64(), Some(1000 - kept));
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn a_line_too_long_to_keep_becomes_a_notice() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("stderr.txt");
        let mut log = CappedLog::create(&path, Style::Text).expect("log");
        log.write_too_long(9_000_000, b"abc");
        drop(log);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "abc [millrace: a line of 9000000 bytes, cut here]\n");
    }

    /// `/dev/full` fails every write with ENOSPC, as a full disk does.
    const FULL: &str = "/dev/full";

    #[test]
    fn a_full_disk_is_reported_by_finish_not_dropped() {
        let mut log = CappedLog::create(Path::new(FULL), Style::Text).expect("open /dev/full");
        write_lines(&mut log, 10_000);
        let error = log.finish().expect_err("the writes failed");
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
        assert!(error.to_string().contains(FULL), "{error}");
    }

    #[test]
    fn a_failure_at_the_last_flush_is_reported_too() {
        let mut log = CappedLog::create(Path::new(FULL), Style::Json).expect("open /dev/full");
        log.write_line(b"{}");
        let error = log.finish().expect_err("the flush failed");
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
    }

    #[test]
    fn a_tail_segment_that_fails_is_reported_and_no_segment_is_left() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("stdout.txt");
        // The first tail segment is the full device: the head is written,
        // the tail is not.
        std::os::unix::fs::symlink(FULL, segment_path(&path, 0)).expect("symlink");
        let mut log = CappedLog::with_cap(&path, Style::Text, 400_000).expect("log");
        write_lines(&mut log, 40_000);
        let error = log.finish().expect_err("the tail was lost");
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("line 0000\n"), "the head is kept");
        let last = text.lines().last().expect("a last line");
        assert!(last.contains("could not keep this output"), "{last}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
