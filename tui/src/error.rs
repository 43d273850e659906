//! The console library's error types: everything that can stop a command or the console
//! ([`Error`]), including why a local daemon could not be started ([`SpawnError`]), each with
//! a message a person can act on.

use std::path::PathBuf;
use std::time::Duration;

use crate::message::CallError;

/// Why a command or the console could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file could not be read or parsed.
    #[error("config file {path}: {message}")]
    Config { path: PathBuf, message: String },
    /// Nothing answers on the socket and we were told not to start a daemon.
    #[error("no daemon at {socket}; start it with `idreviewd --data-dir {data_dir}`")]
    NoDaemon { socket: PathBuf, data_dir: PathBuf },
    /// The daemon answered but refused or broke the handshake.
    #[error("cannot connect to the daemon at {socket}: {message}")]
    Handshake { socket: PathBuf, message: String },
    /// A remote daemon could not be reached, was not trusted, or refused the handshake.
    #[error("cannot connect to the daemon at {addr}: {message}")]
    Remote { addr: String, message: String },
    /// Starting a local daemon failed.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    /// An RPC failed, either on the way or in the daemon.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A command-line argument made no sense.
    #[error("{0}")]
    Usage(String),
    /// Writing output or driving the terminal failed.
    #[error("terminal or output: {0}")]
    Io(#[from] std::io::Error),
    /// Encoding JSON output failed.
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Why a local daemon could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot create the data dir {dir}: {source}")]
    DataDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the daemon log {log}: {source}")]
    Log {
        log: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start {binary} (looked next to this program, then on PATH): {source}")]
    Start {
        binary: PathBuf,
        source: std::io::Error,
    },
    #[error("the daemon exited ({status}) before it answered; see {log}")]
    Exited { status: String, log: PathBuf },
    #[error("the daemon did not answer on {socket} within {waited:?}; see {log}")]
    NoAnswer {
        socket: PathBuf,
        waited: Duration,
        log: PathBuf,
    },
}
