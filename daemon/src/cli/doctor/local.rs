//! Checks on this machine: the data dir, whether a daemon already uses it, the socket path,
//! inotify on the inbox, and the metrics address.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use notify::Watcher;

use super::Check;
use crate::config::Config;

/// Longest Unix socket path the kernel accepts (`sun_path` minus its terminating NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Creates and removes a hidden probe file in `dir` (the inbox ignores dot-files).
fn probe_write(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".idreview-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"doctor")?;
    std::fs::remove_file(&probe)
}

/// The data dir exists (or can be created) and is writable.
pub fn data_dir(config: &Config) -> Check {
    const NAME: &str = "data dir";
    let dir = config.data_dir();
    let shown = dir.display();
    match std::fs::metadata(&dir) {
        Ok(meta) if !meta.is_dir() => Check::fail(
            NAME,
            format!("{shown} is not a directory"),
            "point --data-dir (or [daemon] data_dir) at a directory, or move the file away",
        ),
        Ok(_) => match probe_write(&dir) {
            Ok(()) if !config.store_dir().exists() => Check::warn(
                NAME,
                format!("{shown} is writable but holds no store: a daemon never ran here"),
                "fine for a first start; if you meant an existing install, pass its --data-dir (or IDREVIEW_DATA_DIR)",
            ),
            Ok(()) => Check::ok(NAME, format!("{shown} is writable")),
            Err(e) => Check::fail(
                NAME,
                format!("cannot write in {shown}: {e}"),
                "give the daemon's user ownership (chown -R) of the data dir",
            ),
        },
        Err(_) => {
            let parent = dir.ancestors().skip(1).find(|p| p.is_dir());
            match parent.map(probe_write) {
                Some(Ok(())) => Check::warn(
                    NAME,
                    format!("{shown} does not exist yet (it is created at the first start)"),
                    "fine for a first start; if you meant an existing install, check --data-dir (or IDREVIEW_DATA_DIR) for a typo",
                ),
                _ => Check::fail(
                    NAME,
                    format!("{shown} does not exist and cannot be created"),
                    "create it for the daemon's user, or choose another --data-dir",
                ),
            }
        }
    }
}

/// Whether a running daemon already holds the data dir: its socket answers, or the store's
/// lock (sled's `flock` on `store/db`) is taken.
pub async fn daemon_lock(config: &Config) -> Check {
    const NAME: &str = "lock";
    let socket = config.socket_path();
    if tokio::net::UnixStream::connect(&socket).await.is_ok() {
        return Check::warn(
            NAME,
            format!("a running idreviewd answers on {}", socket.display()),
            "fine for checking a live service; stop it before `run`, `fill` or `import` on this data dir",
        );
    }
    let db = config.store_dir().join("db");
    let Ok(file) = std::fs::File::open(&db) else {
        return Check::ok(NAME, "no daemon uses the data dir");
    };
    match file.try_lock() {
        Ok(()) => Check::ok(NAME, "no daemon uses the data dir"),
        Err(_) => Check::fail(
            NAME,
            format!("the store {} is locked by another process", db.display()),
            "stop the other idreviewd (or the `fill`/`import` run) using this data dir",
        ),
    }
}

/// The socket path fits the kernel's limit, its folder exists, and a live socket is private.
pub fn socket(config: &Config) -> Check {
    const NAME: &str = "socket";
    let path = config.socket_path();
    let shown = path.display();
    if path.as_os_str().len() > MAX_SOCKET_PATH {
        return Check::fail(
            NAME,
            format!("{shown} is longer than {MAX_SOCKET_PATH} bytes"),
            "set a shorter [rpc] socket (or --socket)",
        );
    }
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                Check::warn(
                    NAME,
                    format!("{shown} has mode {mode:o}: other users can connect as admins"),
                    format!("chmod 600 {shown}, or restart the daemon (it sets 0600)"),
                )
            } else {
                Check::ok(NAME, format!("{shown} (mode {mode:o})"))
            }
        }
        Err(_) => Check::ok(NAME, format!("{shown} is created at start with mode 600")),
    }
}

/// inotify delivers events for the inbox; without it the periodic rescan still finds work.
pub async fn inbox(config: &Config) -> Check {
    const NAME: &str = "inbox";
    let dir = config.inbox_dir();
    let shown = dir.display();
    if !dir.is_dir() {
        return Check::ok(NAME, format!("{shown} is created at start"));
    }
    if let Err(e) = probe_write(&dir) {
        return Check::fail(
            NAME,
            format!("cannot write in {shown}: {e}"),
            "give the daemon's user ownership of the inbox",
        );
    }
    let rescan = config.inbox.rescan_secs.max(1);
    let polling = format!("the inbox is rescanned every {rescan} s instead");
    let hint = "keep [inbox] rescan_secs low on file systems without inotify (NFS, SMB, FUSE)";
    match inotify_works(&dir).await {
        Ok(true) => Check::ok(NAME, format!("{shown}: inotify delivers events")),
        Ok(false) => Check::warn(NAME, format!("{shown}: no inotify event; {polling}"), hint),
        Err(e) => Check::warn(
            NAME,
            format!("{shown}: cannot watch ({e}); {polling}"),
            hint,
        ),
    }
}

/// Watches `dir`, writes a probe file and waits briefly for its event.
async fn inotify_works(dir: &Path) -> Result<bool, notify::Error> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let _ = tx.send(event);
    })?;
    watcher.watch(dir, notify::RecursiveMode::NonRecursive)?;
    probe_write(dir)?;
    let event = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    Ok(matches!(event, Ok(Some(Ok(_)))))
}

/// `[metrics] listen`, when set, is a loopback address.
pub fn metrics(config: &Config) -> Option<Check> {
    const NAME: &str = "metrics";
    let listen = config.metrics.listen.trim();
    if listen.is_empty() {
        return None;
    }
    Some(match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_loopback() => Check::ok(NAME, format!("served on {addr}")),
        _ => Check::fail(
            NAME,
            format!("[metrics] listen = {listen:?} is not a loopback host:port"),
            "use e.g. 127.0.0.1:9464 and a reverse proxy for remote scrapes",
        ),
    })
}
