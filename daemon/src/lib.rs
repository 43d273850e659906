//! idreviewd: the daemon's library. Data flows one way:
//! inbox -> validate -> object store -> verify -> card (store) -> review over RPC.
//!
//! [`run`] wires the parts together and runs them until the shutdown token fires.

pub mod card;
pub mod certs;
pub mod cleanup;
pub mod cli_tokens;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod export;
pub mod fill;
pub mod inbox;
pub mod memory;
pub mod metrics;
pub mod objects;
pub mod pipeline;
pub mod progress;
pub mod retention;
pub mod rpc;
pub mod secret;
pub mod store;
pub mod validate;
pub mod verify;
pub mod webhooks;
pub mod workarea;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::info;

use config::Config;
use objects::ObjectStore;
use pipeline::Pipeline;
use store::Store;
use verify::Verifier;

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
    Provider(#[from] verify::ProviderError),
    #[error(transparent)]
    Rpc(#[from] rpc::RpcServerError),
    #[error(transparent)]
    Inbox(#[from] inbox::InboxError),
    #[error(transparent)]
    Objects(#[from] objects::ObjectError),
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
}

/// Runs the daemon until `shutdown` is cancelled: the RPC server, the inbox, the verification
/// retry worker and the object cleanup worker, over one store. In-flight submissions finish
/// before it returns.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), DaemonError> {
    let config = Arc::new(config);
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir).map_err(|source| DaemonError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    restrict(&data_dir);
    let verifier = Verifier::from_config(&config)?;
    let objects = ObjectStore::from_config(&config.storage, config.objects_dir()).await?;
    let listener = rpc::bind_unix(&config.socket_path()).await?;
    let tcp = rpc::tls::bind_tcp(&config).await?;
    let store = Store::open_with_cache(
        &config.store_dir(),
        config.verification.confidence_threshold,
        config.daemon.store_cache_mb * 1024 * 1024,
    )?;
    // The rebuild's garbage (every card decoded once) goes back before serving.
    memory::release();
    // Before anything serves: a decision made in the first instant must still be queued.
    if !config.webhooks.urls.is_empty() {
        store.enable_webhooks();
    }
    let metrics_server = metrics::start(&config, store.clone(), shutdown.clone()).await?;
    info!(
        data_dir = %data_dir.display(),
        socket = %config.socket_path().display(),
        cards = store.card_count(),
        provider = verifier.name(),
        storage = objects.backend(),
        cleanup_pending = store.cleanup_len(),
        "idreviewd ready"
    );
    let cards = card::Cards::new(store.clone(), config.clone());
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
    };
    let worker = verify::retry::Worker {
        cards: cards.clone(),
        store: store.clone(),
        objects: objects.clone(),
        verifier: verifier.clone(),
        config: config.clone(),
    };
    let cleaner = tokio::spawn(cleanup::run(
        store.clone(),
        objects.clone(),
        Duration::from_secs(config.storage.outage_retry_max_secs),
        shutdown.clone(),
    ));
    let pipeline = Pipeline {
        cards: cards.clone(),
        store: store.clone(),
        objects,
        verifier,
        config: config.clone(),
        shutdown: shutdown.clone(),
    };
    let tcp_server =
        tcp.map(|tcp| tokio::spawn(rpc::tls::serve_tcp(tcp, shared.clone(), shutdown.clone())));
    let server = tokio::spawn(rpc::serve_unix(listener, shared, shutdown.clone()));
    // Runs even without receivers, so events queued under an earlier config are cleared.
    let hooks = tokio::spawn(webhooks::run(
        store.clone(),
        config.webhooks.clone(),
        shutdown.clone(),
    ));
    let retries = tokio::spawn(verify::retry::run(worker, shutdown.clone()));
    notify_ready();
    let expiry = tokio::spawn(retention::run(
        cards.clone(),
        config.retention.clone(),
        shutdown.clone(),
    ));
    let janitor = tokio::spawn(memory::run(shutdown.clone()));
    let inbox_result = inbox::run(pipeline, shutdown.clone()).await;
    shutdown.cancel();
    let _ = server.await;
    let _ = retries.await;
    let _ = cleaner.await;
    let _ = hooks.await;
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    let _ = expiry.await;
    let _ = janitor.await;
    if let Some(tcp_server) = tcp_server {
        let _ = tcp_server.await;
        let _ = std::fs::remove_file(config.addr_file());
    }
    let _ = std::fs::remove_file(config.socket_path());
    store.flush().await?;
    info!("idreviewd stopped");
    Ok(inbox_result?)
}

/// Tells systemd (`Type=notify`) the daemon is serving; a no-op without `NOTIFY_SOCKET`.
fn notify_ready() {
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %e, "cannot report readiness to systemd");
    }
}

/// Identity documents are private: the data dir is for the daemon's user only.
fn restrict(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot restrict the data dir to its owner");
    }
}
