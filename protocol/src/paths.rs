//! Where a daemon keeps its data and socket by default, so that the console finds the daemon
//! that the same user started without being told.

use std::path::{Path, PathBuf};

/// File name of the daemon's Unix socket inside its data dir.
pub const SOCKET_NAME: &str = "idreviewd.sock";

/// `$XDG_DATA_HOME/idreview`, else `~/.local/share/idreview`, else `./idreview-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("idreview");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".local/share/idreview");
    }
    PathBuf::from("idreview-data")
}

/// The socket of the daemon whose data dir is `data_dir`.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}
