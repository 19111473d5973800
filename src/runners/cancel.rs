//! Cancellation of running stages: a watch channel whose value turns `true`
//! when the daemon stops.

use super::Cancel;

/// A new cancellation channel: send `true` to cancel every receiver.
pub fn cancel_channel() -> (tokio::sync::watch::Sender<bool>, Cancel) {
    tokio::sync::watch::channel(false)
}

/// Resolves once cancellation is requested; never if the sender is gone
/// without having cancelled.
pub async fn cancelled(cancel: &mut Cancel) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Whether cancellation was already requested.
pub fn is_cancelled(cancel: &Cancel) -> bool {
    *cancel.borrow()
}
