//! The console's messages, shared by its state, key table, settings and RPC worker: every
//! [`Action`] that changes the state, every [`Command`] the state asks for, the worker's
//! [`Request`]s (with their [`BulkOp`]s) and [`CallError`], why a call gave no answer. A leaf:
//! it imports nothing of the console but the saved view a command carries.

mod action;
mod call_error;
mod request;

pub use action::{Action, Command};
pub use call_error::CallError;
pub use request::{BulkOp, Request};
