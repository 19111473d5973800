//! No stage container on this platform: macOS and the BSDs have no cgroups
//! (and jails need root), so a stage is contained by its process group,
//! its tag and its descendants alone. [`StageContainer`] cannot be made;
//! its methods exist so the callers read the same on every platform.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

/// Why there is no stage container: always, here.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("no cgroups on this platform")]
    NotHere,
}

/// Where stage containers would be made; never exists here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerParent {}

/// A stage's container; never exists here.
#[derive(Debug)]
pub enum StageContainer {}

impl ContainerParent {
    /// Always [`Unavailable::NotHere`].
    pub fn probe() -> Result<ContainerParent, Unavailable> {
        Err(Unavailable::NotHere)
    }

    pub fn describe(&self) -> String {
        match *self {}
    }

    pub fn stage(&self, _agents_dir: &Path, _request_id: &str) -> std::io::Result<StageContainer> {
        match *self {}
    }
}

impl StageContainer {
    pub fn command(&self, _program: &str, _args: &[String]) -> tokio::process::Command {
        match *self {}
    }

    pub fn signal(&self, _signal: Signal) {
        match *self {}
    }

    pub fn discard(self) {
        match self {}
    }

    pub async fn close(self, _limit: Duration) {
        match self {}
    }
}

/// Nothing is ever recorded here: 0.
pub fn sweep_recorded(_agents_dir: &Path, _grace: Duration) -> usize {
    0
}
