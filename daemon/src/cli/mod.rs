//! The daemon's one-shot commands, apart from its runtime: the demo writer, the store filler
//! for benchmarks, tokens, remote invites, certificates, backup and restore, `doctor`, `stop`, and the MRZ reader's
//! command-line view. `main.rs` parses the flags and calls one of these; none of them runs
//! inside the daemon.

pub mod backup;
pub mod certs;
pub mod demo;
pub mod demo_run;
pub mod doctor;
pub mod fill;
pub mod progress;
pub mod read_mrz;
pub mod remote;
pub mod stop;
pub mod tokens;
