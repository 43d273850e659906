//! Starting a local daemon when none answers, the way tmux starts its server: find `idreviewd`
//! next to this executable or on `PATH`, start it detached with its output in
//! `DATA/idreviewd.log`, and wait for its socket to answer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idreview_protocol::transport::Welcome;

use crate::error::{Error, SpawnError};
use crate::rpc::{Endpoint, Rpc};

/// The daemon's binary name.
const DAEMON: &str = "idreviewd";

/// `idreviewd` beside the running executable if it is there, else the bare name for `PATH`.
pub fn daemon_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(DAEMON)))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from(DAEMON))
}

/// The daemon's arguments: its data dir and, when given, the shared config file.
pub fn daemon_args(data_dir: &Path, config: Option<&Path>) -> Vec<std::ffi::OsString> {
    let mut args = vec!["--data-dir".into(), data_dir.as_os_str().to_owned()];
    if let Some(config) = config {
        args.push("--config".into());
        args.push(config.as_os_str().to_owned());
    }
    args
}

/// The daemon log file in `data_dir`.
pub fn daemon_log(data_dir: &Path) -> PathBuf {
    data_dir.join("idreviewd.log")
}

/// Connects, starting a daemon first if nothing answers and `spawn` allows it.
pub async fn connect_or_spawn(
    endpoint: &Endpoint,
    config: Option<&Path>,
    spawn: bool,
    wait: Duration,
) -> Result<(Rpc, Welcome), Error> {
    match endpoint.connect().await {
        Err(Error::NoDaemon { .. }) if spawn => {}
        other => return other,
    }
    let log = daemon_log(&endpoint.data_dir);
    let mut child = start(&endpoint.data_dir, config, &log)?;
    tracing::info!(pid = child.id(), log = %log.display(), "started a local daemon");
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match endpoint.connect().await {
            Err(Error::NoDaemon { .. }) => {}
            other => {
                reap(child);
                return other;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(SpawnError::Exited {
                status: status.to_string(),
                log,
            }
            .into());
        }
        if started.elapsed() >= wait {
            let socket = endpoint.socket.clone();
            return Err(SpawnError::NoAnswer {
                socket,
                waited: wait,
                log,
            }
            .into());
        }
    }
}

/// Waits for the started daemon on a thread of its own, so that a daemon dying while the
/// console runs is reaped (not left a zombie) and its end is logged. The daemon outlives the
/// console; it is then re-parented as any orphan is.
fn reap(mut child: std::process::Child) {
    let pid = child.id();
    let spawned = std::thread::Builder::new()
        .name("reap-idreviewd".into())
        .spawn(move || match child.wait() {
            Ok(status) => {
                tracing::warn!(pid, %status, "the daemon this console started has exited")
            }
            Err(e) => {
                tracing::warn!(pid, error = %e, "cannot wait for the daemon this console started")
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot watch the daemon this console started");
    }
}

/// Starts the daemon detached: no stdin, output to `log`, its own process group so that the
/// console's Ctrl-C never reaches it.
fn start(
    data_dir: &Path,
    config: Option<&Path>,
    log: &Path,
) -> Result<std::process::Child, SpawnError> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(data_dir).map_err(|source| SpawnError::DataDir {
        dir: data_dir.to_path_buf(),
        source,
    })?;
    let open_log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| SpawnError::Log {
                log: log.to_path_buf(),
                source,
            })
    };
    let binary = daemon_binary();
    Command::new(&binary)
        .args(daemon_args(data_dir, config))
        .stdin(Stdio::null())
        .stdout(open_log()?)
        .stderr(open_log()?)
        .process_group(0)
        .spawn()
        .map_err(|source| SpawnError::Start { binary, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_data_dir_and_config() {
        let args = daemon_args(Path::new("/d"), Some(Path::new("/c.toml")));
        assert_eq!(args, ["--data-dir", "/d", "--config", "/c.toml"]);
        assert_eq!(daemon_args(Path::new("/d"), None), ["--data-dir", "/d"]);
        assert_eq!(daemon_log(Path::new("/d")), Path::new("/d/idreviewd.log"));
    }

    #[tokio::test]
    async fn a_missing_daemon_binary_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("idreview-spawn-{}", std::process::id()));
        let endpoint = Endpoint {
            socket: dir.join("none.sock"),
            data_dir: dir.clone(),
            token: None,
            timeout: Duration::from_secs(1),
            remote: None,
        };
        let refused = connect_or_spawn(&endpoint, None, false, Duration::from_millis(300)).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("no daemon at"), "{message}");
        assert!(message.contains("idreviewd --data-dir"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
