//! [`Daemon`]: builds every part once and owns every task. The long-running tasks (the
//! listeners, the inbox, the workers) and every RPC call run under one `TaskTracker`; the
//! `CancellationToken` is the shutdown signal every loop selects on.
//!
//! A task that panics or fails is logged and stops the daemon, which then exits non-zero (a
//! daemon missing its inbox or its listener must not look healthy). Shutdown, whether asked
//! for or caused by a failure, goes in order: every loop stops taking work (listeners stop
//! accepting, the inbox stops claiming), the work in flight drains (submissions being
//! ingested, RPC calls being answered) up to [`DRAIN`], then the store is flushed.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::backend::{Backend, BackendError};
use crate::card::{CardStore, Cards};
use crate::config::{Config, StoreBackend};
use crate::ingest::Pipeline;
use crate::objects::ObjectStore;
use crate::store::Store;
use crate::store::webhook_outbox::WebhookEvent;
use crate::verify::Verifier;
use crate::{cleanup, http, ingest, memory, metrics, retention, rpc, store, verify, webhooks};

/// How long shutdown waits for work in flight before it flushes the store anyway; what did not
/// finish resumes at the next start (submissions stay in the work area, a client retries).
pub const DRAIN: Duration = Duration::from_secs(15);

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot create the data dir {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store (is another idreviewd using this data dir?): {0}")]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Postgres(#[from] BackendError),
    #[error(transparent)]
    Provider(#[from] verify::ProviderError),
    #[error(transparent)]
    Rpc(#[from] rpc::RpcServerError),
    #[error(transparent)]
    Objects(#[from] crate::objects::ObjectError),
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
    #[error(transparent)]
    Http(#[from] http::HttpServerError),
    #[error(
        "unknown webhook event {0:?} in [webhooks] events; known: card.approved, card.rejected, card.extracted"
    )]
    WebhookEvent(String),
    /// A task stopped the daemon: it failed or panicked.
    #[error("the {task} task failed: {why}")]
    Task { task: &'static str, why: String },
}

/// The running daemon: its parts and its tasks.
pub struct Daemon {
    config: Arc<Config>,
    store: Backend,
    tasks: TaskTracker,
    shutdown: CancellationToken,
    /// The first task that failed, if one did.
    failed: Arc<Mutex<Option<(&'static str, String)>>>,
}

/// Runs the daemon until `shutdown` is cancelled (or a task fails): [`Daemon::start`], then
/// [`Daemon::wait`].
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), DaemonError> {
    Daemon::start(config, shutdown).await?.wait().await
}

/// The events of `[webhooks] events`; an unknown name stops the start.
fn webhook_events(config: &Config) -> Result<Vec<WebhookEvent>, DaemonError> {
    config
        .webhooks
        .events
        .iter()
        .map(|name| {
            WebhookEvent::parse(name).ok_or_else(|| DaemonError::WebhookEvent(name.clone()))
        })
        .collect()
}

impl Daemon {
    /// Builds every part (provider, object store, listeners, store, card domain) and starts
    /// every task; answers once the socket listens.
    pub async fn start(config: Config, shutdown: CancellationToken) -> Result<Daemon, DaemonError> {
        let config = Arc::new(config);
        config.store.check(&config.storage)?;
        let data_dir = config.data_dir();
        std::fs::create_dir_all(&data_dir).map_err(|source| DaemonError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        restrict(&data_dir);
        let hooks = webhook_events(&config)?;
        let verifier = Verifier::from_config(&config)?;
        let objects = ObjectStore::from_config(&config.storage, config.objects_dir()).await?;
        let listener = rpc::bind_unix(&config.socket_path()).await?;
        let tcp = rpc::tls::bind_tcp(&config).await?;
        let web = http::bind(&config).await?;
        let store = match config.store.backend {
            StoreBackend::Sled => Backend::Sled(Store::open_with(
                &config.store_dir(),
                &store::Options {
                    threshold: config.verification.confidence_threshold,
                    cache_bytes: config.daemon.store_cache_mb * 1024 * 1024,
                    // The seed view's index serves only the HTTP API.
                    seed_view: !config.http.listen.trim().is_empty(),
                },
            )?),
            StoreBackend::Postgres => Backend::postgres(&config, &data_dir).await?,
        };
        // The store's lock is ours: so is the pid file (`idreviewd stop`).
        let pid_file = config.pid_file();
        if let Err(e) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
            warn!(error = %e, path = %pid_file.display(), "cannot write the pid file; `idreviewd stop` will not find this daemon");
        }
        // The rebuild's garbage (every card decoded once) goes back before serving.
        memory::release();
        // Before anything serves: a decision made in the first instant must still be queued.
        if let Backend::Sled(sled) = &store
            && !config.webhooks.urls.is_empty()
        {
            sled.enable_webhooks(hooks);
        }
        let metrics = match &store {
            Backend::Sled(sled) => metrics::start(&config, sled.clone(), shutdown.clone()).await?,
            // Refused at start with `[metrics] listen` set (`backend::unsupported`).
            Backend::Pg(_) => None,
        };
        let cards = Cards::new(store.clone(), config.clone());
        let daemon = Daemon {
            config: config.clone(),
            store: store.clone(),
            tasks: TaskTracker::new(),
            shutdown: shutdown.clone(),
            failed: Arc::default(),
        };
        info!(
            data_dir = %data_dir.display(),
            socket = %config.socket_path().display(),
            store = store.name(),
            cards = store.card_count(),
            provider = verifier.name(),
            storage = objects.backend(),
            "idreviewd ready"
        );
        let shared = rpc::Shared {
            cards: cards.clone(),
            store: store.clone(),
            config: config.clone(),
            provider: verifier.name(),
            started: Instant::now(),
            objects: objects.clone(),
            limits: Arc::new(rpc::limits::Limits::new(&config.rpc)),
            uploads: Arc::new(rpc::Uploads::new(&config)),
            exports: Arc::default(),
            tasks: daemon.tasks.clone(),
            shutdown: shutdown.clone(),
        };
        let pipeline = Pipeline {
            cards: cards.clone(),
            store: store.clone(),
            objects: objects.clone(),
            verifier: verifier.clone(),
            config: config.clone(),
            shutdown: shutdown.clone(),
        };
        let retries = verify::retry::Worker {
            cards: cards.clone(),
            store: store.clone(),
            objects: objects.clone(),
            verifier,
            config: config.clone(),
        };
        daemon.spawn_queue_workers(retries);
        if let Backend::Sled(sled) = &store {
            // Runs even without receivers, so events queued under an earlier config are cleared.
            daemon.spawn(
                "webhooks",
                webhooks::run(sled.clone(), config.webhooks.clone(), shutdown.clone()),
            );
            if let Some(web) = web {
                let mut state = http::HttpState::new(
                    sled.clone(),
                    cards.clone(),
                    pipeline.clone(),
                    objects.clone(),
                    daemon.tasks.clone(),
                    shutdown.clone(),
                );
                state.scheme = web.scheme();
                daemon.spawn("http api", http::serve(web, state, shutdown.clone()));
            }
        }
        if let Some(tcp) = tcp {
            daemon.spawn(
                "tcp listener",
                rpc::tls::serve_tcp(tcp, shared.clone(), shutdown.clone()),
            );
        }
        daemon.spawn(
            "socket listener",
            rpc::serve_unix(listener, shared, shutdown.clone()),
        );
        daemon.spawn(
            "retention",
            retention::run(cards, config.retention.clone(), shutdown.clone()),
        );
        daemon.spawn("memory janitor", memory::run(shutdown.clone()));
        if let Some(metrics) = metrics {
            daemon.spawn("metrics", metrics);
        }
        daemon.spawn_fallible("inbox", ingest::run(pipeline, shutdown));
        notify_ready();
        Ok(daemon)
    }

    /// Waits for the shutdown signal (or a failed task), then stops in order: no new work,
    /// the work in flight drained (up to [`DRAIN`]), the store flushed. Answers the failure
    /// that stopped the daemon, if one did.
    pub async fn wait(self) -> Result<(), DaemonError> {
        self.shutdown.cancelled().await;
        info!("stopping: no new work; finishing what is in flight");
        self.tasks.close();
        if tokio::time::timeout(DRAIN, self.tasks.wait())
            .await
            .is_err()
        {
            warn!(
                still_running = self.tasks.len(),
                drain_secs = DRAIN.as_secs(),
                "work still in flight after the drain time; it resumes at the next start"
            );
        }
        if self.config.rpc.tcp_listen.is_some() {
            let _ = std::fs::remove_file(self.config.addr_file());
        }
        if !self.config.http.listen.is_empty() {
            let _ = std::fs::remove_file(self.config.http_addr_file());
        }
        let _ = std::fs::remove_file(self.config.socket_path());
        self.store.flush().await?;
        let _ = std::fs::remove_file(self.config.pid_file());
        info!("idreviewd stopped");
        let failed = self.failed.lock().map(|mut f| f.take()).unwrap_or_default();
        match failed {
            Some((task, why)) => Err(DaemonError::Task { task, why }),
            None => Ok(()),
        }
    }

    /// The workers of the queues every backend has: object cleanup and verification retries
    /// (on PostgreSQL, taken under this daemon's leases from queues all daemons share).
    fn spawn_queue_workers(&self, retries: verify::retry::Worker) {
        let outage_wait = Duration::from_secs(self.config.storage.outage_retry_max_secs);
        let (objects, shutdown) = (retries.objects.clone(), self.shutdown.clone());
        self.spawn(
            "cleanup",
            cleanup::run(
                retries.store.clone(),
                objects,
                outage_wait,
                shutdown.clone(),
            ),
        );
        self.spawn(
            "verification retries",
            verify::retry::run(retries, shutdown),
        );
    }

    /// Runs a task that ends with the daemon; a panic stops the daemon.
    fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.spawn_fallible(name, task.map(Ok::<(), std::convert::Infallible>));
    }

    /// Runs a task that ends with the daemon; an error or a panic stops the daemon.
    fn spawn_fallible<E: std::fmt::Display>(
        &self,
        name: &'static str,
        task: impl Future<Output = Result<(), E>> + Send + 'static,
    ) {
        let (shutdown, failed) = (self.shutdown.clone(), self.failed.clone());
        self.tasks.spawn(async move {
            let why = match AssertUnwindSafe(task).catch_unwind().await {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(panic) => panic_message(panic.as_ref()),
            };
            error!(task = name, error = %why, "a task failed; stopping the daemon");
            if let Ok(mut first) = failed.lock() {
                first.get_or_insert((name, why));
            }
            shutdown.cancel();
        });
    }
}

/// What a panic said.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("panicked: {text}")
}

/// Tells systemd (`Type=notify`) the daemon is serving; a no-op without `NOTIFY_SOCKET`.
fn notify_ready() {
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        warn!(error = %e, "cannot report readiness to systemd");
    }
}

/// Identity documents are private: the data dir is for the daemon's user only.
fn restrict(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        warn!(error = %e, dir = %dir.display(), "cannot restrict the data dir to its owner");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon() -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 0.8).expect("store");
        std::mem::forget(dir);
        Daemon {
            config: Arc::new(Config::default()),
            store: store.into(),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            failed: Arc::default(),
        }
    }

    #[tokio::test]
    async fn postgres_with_a_local_object_folder_is_refused_at_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.daemon.data_dir = Some(dir.path().to_path_buf());
        config.store.backend = StoreBackend::Postgres;
        config.store.url = crate::secret::Secret::new("postgres://ann:hunter2@127.0.0.1:1/db");
        match Daemon::start(config, CancellationToken::new()).await {
            Err(e @ DaemonError::Config(_)) => {
                let text = e.to_string();
                assert!(text.contains("shared object store"), "{text}");
                assert!(!text.contains("hunter2"), "{text}");
            }
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("started"),
        }
        assert!(!dir.path().join("store").exists(), "nothing was opened");
    }

    #[tokio::test]
    async fn a_panicking_task_stops_the_daemon_with_its_name() {
        let d = daemon();
        d.spawn("sleeper", {
            let shutdown = d.shutdown.clone();
            async move { shutdown.cancelled().await }
        });
        d.spawn("faulty", async { panic!("boom") });
        let result = tokio::time::timeout(Duration::from_secs(5), d.wait()).await;
        let err = result.expect("stops by itself").expect_err("fails");
        assert!(
            matches!(&err, DaemonError::Task { task: "faulty", why } if why.contains("boom")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_failing_task_stops_the_daemon_and_others_drain_first() {
        let d = daemon();
        let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
        d.spawn("worker", {
            let (shutdown, drained) = (d.shutdown.clone(), drained.clone());
            async move {
                shutdown.cancelled().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                drained.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        d.spawn_fallible("inbox", async { Err::<(), _>("cannot watch the inbox") });
        let err = d.wait().await.expect_err("fails");
        assert!(err.to_string().contains("the inbox task failed"), "{err}");
        assert!(
            drained.load(std::sync::atomic::Ordering::SeqCst),
            "work in flight finished before the daemon stopped"
        );
    }

    #[tokio::test]
    async fn a_clean_stop_is_ok() {
        let d = daemon();
        d.spawn("loop", {
            let shutdown = d.shutdown.clone();
            async move { shutdown.cancelled().await }
        });
        d.shutdown.cancel();
        assert!(d.wait().await.is_ok());
    }
}
