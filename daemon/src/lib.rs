//! idreviewd: the daemon's library. Data flows one way:
//! inbox -> validate -> object store -> verify -> card (store) -> review over RPC.
//!
//! [`Daemon`] builds the parts once, owns every task and shuts them down in order; [`run`] is
//! the whole life of a daemon.

pub mod backend;
pub mod card;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod http;
pub mod ingest;
pub mod interned;
pub mod memory;
pub mod metrics;
pub mod objects;
pub mod pg;
pub mod retention;
pub mod retry;
pub mod rpc;
pub mod secret;
pub mod seed;
pub mod slots;
pub mod store;
pub mod token_store;
pub mod validate;
pub mod verify;
pub mod webhooks;

pub use daemon::{Daemon, DaemonError, run};
