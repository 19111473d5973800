//! The operator's command line.
pub fn run() -> i32 {
    0
}
