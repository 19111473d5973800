//! A child's output pipe, copied line by line into its capped log as it
//! arrives, each whole line also handed to whoever reads the output (the
//! event readers of the agent CLIs fold their events this way, so nothing
//! is read back whole after the stage).

use tokio::io::AsyncRead;

use super::capped_log::CappedLog;
use super::line_reader::{Line, LineReader};

/// Receives each whole line of an output, without its newline.
pub type LineSink = Box<dyn FnMut(&[u8]) + Send>;

/// Copies `from` into `log` until end of file, handing whole lines to
/// `sink`. The pipe is read to its end even when the disk refuses a write:
/// a child blocked on a full pipe would never finish.
pub async fn pump(from: impl AsyncRead + Unpin, mut log: CappedLog, mut sink: Option<LineSink>) {
    let mut lines = LineReader::new(from);
    while let Ok(Some(line)) = lines.next_line().await {
        let _ = match line {
            Line::Whole(bytes) => {
                if let Some(sink) = sink.as_mut() {
                    sink(bytes);
                }
                log.write_line(bytes)
            }
            Line::TooLong { bytes, head } => log.write_too_long(bytes, head),
        };
    }
    let _ = log.finish();
}
