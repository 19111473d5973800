//! `mock-model --script FILE [--port N] [--log FILE]`: serves a JSON script
//! on 127.0.0.1 until killed, printing `listening: http://127.0.0.1:PORT`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_model::{MockError, MockServer, Script, ServerConfig};

/// Offline mock model server for agent-CLI tests.
#[derive(Debug, Parser)]
#[command(name = "mock-model", version)]
struct Args {
    /// The JSON script to play.
    #[arg(long)]
    script: PathBuf,
    /// The loopback port to bind (default: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Append every request to this file as JSON lines.
    #[arg(long)]
    log: Option<PathBuf>,
}

fn main() -> ExitCode {
    match serve(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mock-model: {err}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: Args) -> Result<(), MockError> {
    let config = ServerConfig {
        script: Script::from_file(&args.script)?,
        port: args.port,
        log_file: args.log,
    };
    let server = MockServer::start_with(config)?;
    let mut stdout = std::io::stdout();
    // If stdout is closed nobody can read the address; serving on is harmless.
    let _ = writeln!(stdout, "listening: {}", server.url());
    let _ = stdout.flush();
    server.wait()
}
