//! The server handle: binds a loopback port, serves on a thread of its own
//! (so sync and async tests alike can use it), exposes the request log, and
//! stops on [`MockServer::shutdown`] or drop without waiting for hung
//! requests.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::MockError;
use crate::handler;
use crate::log::{LoggedRequest, RequestLog};
use crate::player::Player;
use crate::script::{Script, Turn};
use crate::state::Shared;

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The script to play.
    pub script: Script,
    /// The loopback port; 0 picks a free one.
    pub port: u16,
    /// A file to append the request log to, one JSON object a line.
    pub log_file: Option<PathBuf>,
}

impl ServerConfig {
    /// A config playing `script` on a free port without a log file.
    pub fn new(script: Script) -> Self {
        ServerConfig {
            script,
            ..ServerConfig::default()
        }
    }
}

/// A running mock model server on `127.0.0.1`.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server playing `script` on a free loopback port.
    pub fn start(script: Script) -> Result<MockServer, MockError> {
        MockServer::start_with(ServerConfig::new(script))
    }

    /// Starts a server as configured. Returns once it accepts connections.
    pub fn start_with(config: ServerConfig) -> Result<MockServer, MockError> {
        let log = match &config.log_file {
            Some(path) => RequestLog::with_file(path)?,
            None => RequestLog::default(),
        };
        let port = config.port;
        let bind_error = |source| MockError::Bind { port, source };
        let listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(Shared::new(Player::new(config.script), log));
        let (stop, stopped) = watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("mock-model".to_string())
            .spawn(move || run(listener, thread_shared, stopped, ready_tx))
            .map_err(MockError::Runtime)?;
        ready_rx.recv().map_err(|_| MockError::ThreadLost)??;
        Ok(MockServer {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for clients that add `/v1` themselves
    /// (Claude Code's `ANTHROPIC_BASE_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`, for OpenAI-style base URLs (Codex, pi).
    pub fn v1_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.entries().to_vec()
    }

    /// The requests to model endpoints (responses, chat, messages) only.
    pub fn model_requests(&self) -> Vec<LoggedRequest> {
        let state = self.shared.lock();
        let entries = state.log.entries().iter();
        entries.filter(|e| e.api.is_model_call()).cloned().collect()
    }

    /// How many scripted turns have been fully consumed.
    pub fn turns_consumed(&self) -> usize {
        self.shared.lock().player.turns_consumed()
    }

    /// Appends a turn to the running script.
    pub fn push_turn(&self, turn: impl Into<Turn>) {
        self.shared.lock().player.push(turn.into());
    }

    /// Waits until at least `count` requests were received; false on timeout.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.shared.lock().log.entries().len() >= count {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server, closing every open connection (hung ones too).
    pub fn shutdown(mut self) -> Result<(), MockError> {
        self.stop_and_join()
    }

    /// Blocks until the server stops (it only does when it fails), for the
    /// binary.
    pub fn wait(mut self) -> Result<(), MockError> {
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| MockError::ThreadLost),
            None => Ok(()),
        }
    }

    fn stop_and_join(&mut self) -> Result<(), MockError> {
        if let Some(stop) = self.stop.take() {
            // The thread may be gone already; then there is nothing to stop.
            let _ = stop.send(true);
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| MockError::ThreadLost),
            None => Ok(()),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Err(err) = self.stop_and_join() {
            eprintln!("mock-model: {err}");
        }
    }
}

type Ready = std::sync::mpsc::Sender<Result<(), MockError>>;

/// The server thread: a single-threaded runtime running the accept loop.
fn run(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stopped: watch::Receiver<bool>,
    ready: Ready,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            // The caller is waiting on `ready`; if it is gone, so is the use.
            let _ = ready.send(Err(MockError::Runtime(err)));
            return;
        }
    };
    runtime.block_on(async move {
        match TcpListener::from_std(listener) {
            Ok(listener) => {
                let _ = ready.send(Ok(()));
                accept_loop(listener, shared, stopped).await;
            }
            Err(err) => {
                let _ = ready.send(Err(MockError::Runtime(err)));
            }
        }
    });
}

/// Accepts connections until told to stop, then aborts the open ones.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(err) => {
                    eprintln!("mock-model: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Serves one keep-alive connection. Its errors (scripted drops and cuts,
/// clients going away) end only this connection.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let service = service_fn(move |request| handler::handle(request, Arc::clone(&shared)));
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
