//! `--workspace` alone: the one argument of the commands that need nothing
//! but the workspace, shared so that each of them spells it the same way.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct WorkspaceArg {
    /// The workspace (the directory holding `millrace-agents/`)
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
}
