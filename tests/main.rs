//! The one integration-test binary; each area of behaviour is a module.

mod check;
mod fuzz;
