//! The one integration-test binary; each area of behaviour is a module.

mod assets;
mod check;
mod cli;
mod cli_workspace;
mod contracts;
mod control;
mod daemon;
mod fuzz;
mod live;
mod runners;
mod shipped;
mod support;
mod torture;
mod workspace;
