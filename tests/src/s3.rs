//! A real S3 server inside the test process: s3s + s3s-fs on `127.0.0.1`, checking SigV4
//! signatures, storing objects in a temp folder. It can be stopped (every connection cut) and
//! started again on the same port, to play an outage.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use idreview_daemon::config::StorageConfig;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub const ACCESS_KEY: &str = "idreview-test";
pub const SECRET_KEY: &str = "idreview-test-secret";
pub const BUCKET: &str = "idreview";

/// A running S3 server; stopped when dropped.
pub struct S3Server {
    pub addr: SocketAddr,
    /// s3s-fs root: the bucket is the folder `root/BUCKET`; parts of unfinished multipart
    /// uploads are `root/.upload_id-*` files.
    pub root: PathBuf,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl S3Server {
    /// Starts on a free port with the bucket [`BUCKET`] under `root`.
    pub async fn start(root: &Path) -> S3Server {
        Self::start_on(root, 0).await
    }

    /// Starts on `port` (0: any free port); retries a little while the port is still held by a
    /// server stopped a moment ago.
    pub async fn start_on(root: &Path, port: u16) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).expect("bucket dir");
        let fs = s3s_fs::FileSystem::new(root)
            .map_err(|e| format!("{e:?}"))
            .expect("s3s-fs root");
        let service = {
            let mut b = S3ServiceBuilder::new(fs);
            b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        };
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("port {port} not free yet: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot bind 127.0.0.1:{port}: {e}"),
            }
        };
        let addr = listener.local_addr().expect("local addr");
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            // Open connections; aborted on stop so that clients see the outage at once.
            let mut conns = JoinSet::new();
            loop {
                let socket = tokio::select! {
                    _ = stopped.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(_) => continue,
                    },
                    Some(_) = conns.join_next(), if !conns.is_empty() => continue,
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                conns.spawn(async move {
                    let _ = conn.await;
                });
            }
            conns.abort_all();
            while conns.join_next().await.is_some() {}
        });
        S3Server {
            addr,
            root: root.to_path_buf(),
            stop,
            task: Some(task),
        }
    }

    /// Stops accepting and cuts every open connection; returns once the port is released.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The storage settings that point the daemon's S3 backend at this server.
    pub fn storage_config(&self) -> StorageConfig {
        StorageConfig {
            backend: "s3".into(),
            bucket: BUCKET.into(),
            endpoint_url: Some(self.endpoint()),
            force_path_style: true,
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
            ..StorageConfig::default()
        }
    }

    /// The same settings as `IDREVIEW__STORAGE__*` overrides for the daemon binary.
    pub fn daemon_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("IDREVIEW__STORAGE__BACKEND", "s3".into()),
            ("IDREVIEW__STORAGE__BUCKET", BUCKET.into()),
            ("IDREVIEW__STORAGE__ENDPOINT_URL", self.endpoint()),
            ("IDREVIEW__STORAGE__FORCE_PATH_STYLE", "true".into()),
            ("IDREVIEW__STORAGE__ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("IDREVIEW__STORAGE__SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("IDREVIEW__STORAGE__RETRY_MAX_MS", "500".into()),
            ("IDREVIEW__STORAGE__OUTAGE_RETRY_MAX_SECS", "1".into()),
        ]
    }

    /// Where s3s-fs keeps the object `key`.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }

    /// Every object key in the bucket, sorted.
    pub fn keys(&self) -> Vec<String> {
        let bucket = self.root.join(BUCKET);
        let mut keys = Vec::new();
        let mut dirs = vec![bucket.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if path.is_dir() {
                    dirs.push(path);
                } else if !hidden && let Ok(rel) = path.strip_prefix(&bucket) {
                    keys.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        keys.sort();
        keys
    }

    /// Parts of multipart uploads that were neither completed nor aborted.
    pub fn unfinished_parts(&self) -> usize {
        std::fs::read_dir(&self.root)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(".upload_id-"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
