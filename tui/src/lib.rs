//! The idreview console and scriptable commands: a library so that tests drive the same code
//! as the `idreview` binary, whose `main.rs` only parses flags, sets up logging and calls
//! [`cli::run`].

pub mod app;
pub mod cli;
pub mod console;
pub mod display;
pub mod error;
pub mod image;
pub mod keys;
pub mod message;
pub mod remotes;
pub mod rpc;
pub mod saved;
pub mod settings;
pub mod spawn;
pub mod terminal;
pub mod ui;
pub mod viewer;

pub use error::Error;
