//! Where a daemon keeps its data and socket by default, so that the console finds the daemon
//! that the same user started without being told; and where both binaries look for their
//! configuration (and the console for its remotes).

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

/// `$XDG_CONFIG_HOME/idreview`, else `~/.config/idreview`, else `./idreview-config`.
pub fn default_config_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("idreview");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".config/idreview");
    }
    PathBuf::from("idreview-config")
}

/// `config.toml` in [`default_config_dir`]: read when it exists and no file is named.
pub fn default_config_file() -> PathBuf {
    default_config_dir().join("config.toml")
}

/// The remote daemons `idreview remote add` stored, one invite file each (`NAME.invite`).
pub fn remotes_dir() -> PathBuf {
    default_config_dir().join("remotes")
}
