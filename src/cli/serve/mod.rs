//! `millrace serve`: a live, read-only dashboard of one workspace over HTTP.
//!
//! It takes no lock and writes nothing in the workspace: pages are rendered
//! on tokio's blocking pool from the read-models `status` and `runs` use
//! (with the queue-depth cache read, never refreshed), and pushed live by
//! server-sent events fed from the journal through the platform's folder
//! watch. axum was chosen
//! for the HTTP side: it runs on the tokio runtime the daemon already uses
//! and brings only hyper and tower, which are in the tree beside it; the
//! connections are accepted by hyper directly (`connections.rs`) for its
//! header-read timeout.

mod access;
mod assets;
mod connections;
mod drawings;
mod flow;
mod html;
mod items;
mod live;
mod overview;
mod query;
mod routes;
mod run_index;
mod runs;
mod safe_path;
mod served;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::context::Workspace;
use super::output::{CliError, CliResult, Out};
use crate::fs_error::at;
use access::Access;
pub use served::Served;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    #[command(flatten)]
    pub listen: ListenArgs,
}

/// Where the dashboard listens and who may read it.
#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// The address to listen on; any address but loopback needs a token
    /// (port 0 picks a free port; the `url:` line names it)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The token a browser must present (`?token=` once, then a cookie);
    /// generated and printed when the address is not loopback and none is given
    #[arg(long, env = "MILLRACE_SERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

pub fn run(args: &ServeArgs) -> CliResult {
    let listener = Listener::open(&args.workspace, &args.listen)?;
    listener.print(&mut Out::new())?;
    listener.serve()
}

/// A dashboard bound to its address, not serving yet.
pub struct Listener {
    socket: std::net::TcpListener,
    served: Arc<Served>,
    generated_token: bool,
}

impl Listener {
    /// Opens the workspace and binds the address (so a busy port fails here).
    pub fn open(workspace: &Path, listen: &ListenArgs) -> Result<Listener, CliError> {
        let workspace = Workspace::open(workspace)?;
        let (access, generated_token) = Access::for_bind(listen.bind, listen.token.as_deref());
        let socket = std::net::TcpListener::bind(listen.bind)
            .map_err(|e| CliError::caused(BindError(listen.bind, e)))?;
        socket
            .set_nonblocking(true)
            .map_err(at("listen on", workspace.root.clone()))?;
        Ok(Listener {
            socket,
            served: Arc::new(Served::new(workspace, access)),
            generated_token,
        })
    }

    /// The address it listens on (the real port when 0 was asked).
    pub fn url(&self) -> String {
        let addr = self.socket.local_addr().ok();
        let host = addr.map_or_else(|| "127.0.0.1:0".to_string(), |a| a.to_string());
        self.served.access.url(&host)
    }

    /// The `url:` line (and the `token:` line when one was generated).
    pub fn print(&self, out: &mut Out) -> CliResult {
        out.kv("dashboard", self.url())?;
        if self.generated_token
            && let Some(token) = self.served.access.token()
        {
            out.kv("token", token)?;
        }
        Ok(())
    }

    /// Serves until Ctrl-C (or SIGTERM), on a runtime of its own.
    pub fn serve(self) -> CliResult {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CliError::caused)?;
        runtime.block_on(self.serve_async())
    }

    async fn serve_async(self) -> CliResult {
        let socket = tokio::net::TcpListener::from_std(self.socket).map_err(CliError::caused)?;
        live::start(&self.served);
        let app = routes::router(self.served);
        tokio::select! {
            () = connections::accept(socket, app) => {}
            () = shutdown() => {}
        }
        Ok(())
    }
}

/// The port is taken, or the address is not this machine's.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {0}")]
struct BindError(SocketAddr, #[source] std::io::Error);

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
