//! A stage's output as it arrives: read line by line with a cap on a line
//! ([`line_reader`]), copied into files with a cap on their size
//! ([`capped_log`]), each whole line also handed to whoever reads the
//! output ([`pump`](fn@pump)). The daemon's memory does not depend on how
//! much an agent prints. Output that could not be kept fails the stage as
//! the runner's I/O failure ([`unless_lost`]), never as the agent's answer.

mod capped_log;
mod line_reader;
mod lost;
mod pump;

pub use capped_log::{CappedLog, OUTPUT_MAX_BYTES, Style};
pub use line_reader::{LINE_MAX_BYTES, Line, LineReader};
pub use lost::unless_lost;
pub use pump::{Captured, LineSink, pump};
