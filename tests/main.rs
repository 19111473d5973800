//! The one integration-test binary; each area of behaviour is a module.

mod check;
mod cli;
mod daemon;
mod harness;
mod runners;
mod shipped;
mod support;
mod workspace;
