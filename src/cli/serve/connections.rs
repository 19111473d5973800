//! The accept loop. `axum::serve` sets no timer on hyper, so a client that
//! sends half a request line and then nothing held its connection (a task
//! and a file descriptor) forever; here each connection must send its
//! headers within [`HEADER_TIMEOUT`] or it is closed.

use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// How long a client may take to send a request's headers (including the
/// wait for the next request on a kept-alive connection).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `socket` until the task is dropped.
pub async fn accept(socket: TcpListener, app: Router) {
    loop {
        let Ok((stream, _)) = socket.accept().await else {
            // Out of file descriptors, most likely: let some close.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
