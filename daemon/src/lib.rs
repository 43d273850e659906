//! idreviewd: the daemon's library. Data flows one way:
//! inbox -> validate -> object store -> verify -> card (store) -> review over RPC.

pub mod config;
pub mod demo;
pub mod validate;
