//! Response bodies: a whole body, or frames fed through a channel by a task
//! so a stream can be flushed and then cut off mid-way.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::sync::mpsc;

/// How long a cut stream waits after its last frame before aborting, so the
/// frames sent so far are flushed to the client first.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(30);

/// The error that aborts a cut stream; hyper then closes the connection
/// without finishing the chunked body.
#[derive(Debug, thiserror::Error)]
#[error("mock-model: stream cut by the script")]
pub struct StreamCut;

/// How a streamed body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Normally (terminating chunk sent).
    Complete,
    /// Aborted: the connection is closed mid-body.
    Cut,
}

/// One message from the feeding task to the body.
pub enum Chunk {
    /// A frame of data.
    Data(Bytes),
    /// Abort the body (and so the connection).
    Abort,
}

/// A response body.
pub enum MockBody {
    /// A body known in full (`None` once sent).
    Full(Option<Bytes>),
    /// A body fed frame by frame.
    Stream(mpsc::Receiver<Chunk>),
}

impl MockBody {
    /// A body known in full.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        MockBody::Full(Some(bytes.into()))
    }

    /// A body that sends `frames` one by one from a spawned task, then ends
    /// as `end` says. Must be called inside a tokio runtime.
    pub fn stream(frames: Vec<String>, end: StreamEnd) -> Self {
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(feed(tx, frames, end));
        MockBody::Stream(rx)
    }
}

async fn feed(tx: mpsc::Sender<Chunk>, frames: Vec<String>, end: StreamEnd) {
    for frame in frames {
        if tx.send(Chunk::Data(Bytes::from(frame))).await.is_err() {
            return;
        }
    }
    if end == StreamEnd::Cut {
        tokio::time::sleep(FLUSH_BEFORE_CUT).await;
        // The client may already be gone; nothing is left to do either way.
        let _ = tx.send(Chunk::Abort).await;
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = StreamCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamCut>>> {
        match self.get_mut() {
            MockBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Stream(rx) => rx.poll_recv(cx).map(|chunk| match chunk? {
                Chunk::Data(bytes) => Some(Ok(Frame::data(bytes))),
                Chunk::Abort => Some(Err(StreamCut)),
            }),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Stream(_) => SizeHint::default(),
        }
    }
}
