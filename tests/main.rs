//! The one integration-test binary; each area of behaviour is a module.

mod check;
mod cli;
mod runners;
mod shipped;
mod support;
