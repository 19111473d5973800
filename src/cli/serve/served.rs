//! What every request shares: the workspace, the access rule, the caches
//! and the journal's broadcast.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::access::Access;
use super::drawings::GraphCache;
use super::run_index::RunIndex;
use crate::cli::context::Workspace;
use crate::workspace::WorkspacePaths;

/// What every request shares.
pub struct Served {
    pub workspace: Workspace,
    pub paths: WorkspacePaths,
    pub access: Access,
    pub runs: Mutex<RunIndex>,
    pub graphs: Mutex<GraphCache>,
    /// Journal lines as they are appended.
    pub journal: broadcast::Sender<Pushed>,
}

impl Served {
    pub fn new(workspace: Workspace, access: Access) -> Served {
        let paths = workspace.paths();
        Served {
            workspace,
            paths,
            access,
            runs: Mutex::new(RunIndex::default()),
            graphs: Mutex::new(GraphCache::default()),
            journal: broadcast::channel(256).0,
        }
    }
}

/// What the dashboard's clients are pushed.
#[derive(Debug, Clone)]
pub enum Pushed {
    /// A line appended to the journal.
    Line(Arc<str>),
    /// The journal's folder went away: what the pages show may have changed
    /// without a journal line saying so.
    Refresh,
}
