//! Integration tests: real HTTP conversations with a running mock server.

mod anthropic;
mod chat;
mod client;
mod failures;
mod log;
mod responses;
mod script;
