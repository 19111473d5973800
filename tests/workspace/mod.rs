//! Tests of the workspace module: layout, documents, queues, state, journal, lock, config.

mod atomic;
mod config;
mod doctor;
mod document_props;
mod documents;
mod intake;
mod interventions;
mod journal;
mod lock;
mod paths;
mod queue;
mod state;
mod support;
