//! The console's and the commands' only way to the daemon: [`Endpoint`] connects and [`Rpc`]
//! makes thin typed calls with a deadline each ([`client`]); the console's background
//! [`worker`] answers its requests with actions, so the UI loop never awaits a call.

mod client;
mod worker;

pub use client::{Endpoint, Rpc};
pub use worker::{CHUNK, RpcHandle, spawn_worker};
