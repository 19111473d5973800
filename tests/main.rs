//! The one integration-test binary; each area of behaviour is a module.

mod check;
mod cli;
mod cli_workspace;
mod control;
mod daemon;
mod runners;
mod shipped;
mod support;
mod torture;
mod workspace;
