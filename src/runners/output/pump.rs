//! A child's output pipe, copied line by line into its capped log as it
//! arrives, each whole line also handed to whoever reads the output (the
//! event readers of the agent CLIs fold their events this way, so nothing
//! is read back whole after the stage).

use tokio::io::AsyncRead;

use super::capped_log::CappedLog;
use super::line_reader::{Line, LineReader};
use crate::fs_error::{FileError, at};

/// Receives each whole line of an output, without its newline.
pub type LineSink = Box<dyn FnMut(&[u8]) + Send>;

/// Whether a stage's output was kept whole: `Err` is the first output that
/// could not be read or written.
pub type Captured = Result<(), FileError>;

/// Copies `from` into `log` until end of file, handing whole lines to
/// `sink`. The pipe is read to its end even when the disk refuses a write
/// (a child blocked on a full pipe would never finish); the failure is
/// returned once the output has ended.
pub async fn pump(
    from: impl AsyncRead + Unpin,
    mut log: CappedLog,
    mut sink: Option<LineSink>,
) -> Captured {
    let mut lines = LineReader::new(from);
    let read = loop {
        match lines.next_line().await {
            Ok(Some(Line::Whole(bytes))) => {
                if let Some(sink) = sink.as_mut() {
                    sink(bytes);
                }
                log.write_line(bytes);
            }
            Ok(Some(Line::TooLong { bytes, head })) => log.write_too_long(bytes, head),
            Ok(None) => break Ok(()),
            Err(error) => break Err(at("read the stage output kept in", log.path())(error)),
        }
    };
    let written = log.finish();
    read.and(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runners::output::Style;
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn every_line_is_read_and_handed_on_though_the_disk_is_full() {
        let log = CappedLog::create(Path::new("/dev/full"), Style::Json).expect("open");
        let seen = Arc::new(Mutex::new(0usize));
        let counter = seen.clone();
        let sink: LineSink = Box::new(move |_| *counter.lock().expect("lock") += 1);
        let output = "{\"type\":\"event\"}\n".repeat(5_000);
        let captured = pump(output.as_bytes(), log, Some(sink)).await;
        let error = captured.expect_err("the output was not kept");
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
        assert_eq!(*seen.lock().expect("lock"), 5_000);
    }
}
