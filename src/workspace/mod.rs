//! The on-disk workspace: paths, work documents, queues, state, lock and journal.
