//! `idreviewd stop`: asks the daemon running on a data dir to stop (SIGTERM to the pid in
//! `DATA/idreviewd.pid`) and waits until it has drained its work and flushed the store.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// What `stop` found and did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The daemon with this pid exited.
    Stopped(i32),
    /// No daemon runs on the data dir (no pid file, or one left by a daemon that is gone,
    /// which is removed).
    NotRunning,
}

/// Why the daemon could not be stopped.
#[derive(Debug, thiserror::Error)]
pub enum StopError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} does not hold a process id ({text:?}); remove it if no idreviewd runs")]
    Garbled { path: PathBuf, text: String },
    #[error("cannot signal idreviewd (pid {pid}): {source}; is it another user's?")]
    Signal { pid: i32, source: std::io::Error },
    #[error(
        "idreviewd (pid {pid}) is still running after {waited:?}; it may be draining a long upload, or run `kill -9 {pid}` (work in flight resumes at the next start)"
    )]
    StillRunning { pid: i32, waited: Duration },
}

/// Sends SIGTERM to the daemon named by `pid_file` and waits up to `wait` for it to exit.
pub fn stop(pid_file: &Path, wait: Duration) -> Result<Stopped, StopError> {
    let text = match std::fs::read_to_string(pid_file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Stopped::NotRunning),
        Err(source) => {
            return Err(StopError::Read {
                path: pid_file.to_path_buf(),
                source,
            });
        }
    };
    let garbled = || StopError::Garbled {
        path: pid_file.to_path_buf(),
        text: text.trim().to_string(),
    };
    let raw: i32 = text.trim().parse().map_err(|_| garbled())?;
    let pid = Pid::from_raw(raw).ok_or_else(garbled)?;
    if !is_idreviewd(raw) {
        // A daemon killed with -9 leaves its pid file; the number may be reused by now.
        let _ = std::fs::remove_file(pid_file);
        return Ok(Stopped::NotRunning);
    }
    kill_process(pid, Signal::TERM).map_err(|e| StopError::Signal {
        pid: raw,
        source: e.into(),
    })?;
    let started = Instant::now();
    while is_idreviewd(raw) {
        if started.elapsed() >= wait {
            return Err(StopError::StillRunning {
                pid: raw,
                waited: wait,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Stopped::Stopped(raw))
}

/// The pid of the idreviewd that `pid_file` names, if it runs.
pub fn running(pid_file: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    is_idreviewd(pid).then_some(pid)
}

/// Whether `pid` is a live idreviewd (not a zombie, not another program with a reused pid).
fn is_idreviewd(pid: i32) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let zombie = std::fs::read_to_string(proc.join("stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(true);
    let named = std::fs::read(proc.join("cmdline")).is_ok_and(|cmd| {
        cmd.split(|b| *b == 0)
            .next()
            .is_some_and(|argv0| argv0.ends_with(b"idreviewd"))
    });
    named && !zombie
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_pid_file_or_a_stale_one_means_not_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("idreviewd.pid");
        assert_eq!(
            stop(&file, Duration::ZERO).expect("stops"),
            Stopped::NotRunning
        );
        // This test process is alive but is not idreviewd: the file is stale.
        std::fs::write(&file, std::process::id().to_string()).expect("write");
        assert_eq!(
            stop(&file, Duration::ZERO).expect("stops"),
            Stopped::NotRunning
        );
        assert!(!file.exists(), "the stale file is removed");
        std::fs::write(&file, "not a pid\n").expect("write");
        let err = stop(&file, Duration::ZERO).expect_err("refused");
        assert!(
            err.to_string().contains("does not hold a process id"),
            "{err}"
        );
    }
}
