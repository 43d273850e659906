//! idreviewd: the daemon's library. Data flows one way:
//! inbox -> validate -> object store -> verify -> card (store) -> review over RPC.
//!
//! [`run`] wires the parts together and runs them until the shutdown token fires.

pub mod config;
pub mod demo;
pub mod inbox;
pub mod lifecycle;
pub mod objects;
pub mod pipeline;
pub mod rpc;
pub mod store;
pub mod validate;
pub mod verify;

use std::sync::Arc;
use std::time::Instant;

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
    #[error("storage backend {0:?} is not available; use \"local\"")]
    Backend(String),
}

/// Runs the daemon until `shutdown` is cancelled: the RPC server and the inbox, over one
/// store. In-flight submissions finish before it returns.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), DaemonError> {
    let config = Arc::new(config);
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir).map_err(|source| DaemonError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    restrict(&data_dir);
    let verifier = Verifier::from_config(&config.verification)?;
    let objects = match config.storage.backend.as_str() {
        "local" => ObjectStore::local(config.objects_dir()),
        other => return Err(DaemonError::Backend(other.to_string())),
    };
    let listener = rpc::bind_unix(&config.socket_path()).await?;
    let store = Store::open(
        &config.store_dir(),
        config.verification.confidence_threshold,
    )?;
    info!(
        data_dir = %data_dir.display(),
        socket = %config.socket_path().display(),
        cards = store.card_count(),
        provider = verifier.name(),
        "idreviewd ready"
    );
    let shared = rpc::Shared {
        store: store.clone(),
        config: config.clone(),
        provider: verifier.name(),
        started: Instant::now(),
    };
    let pipeline = Pipeline {
        store: store.clone(),
        objects,
        verifier,
        config: config.clone(),
    };
    let server = tokio::spawn(rpc::serve_unix(listener, shared, shutdown.clone()));
    let inbox_result = inbox::run(pipeline, shutdown.clone()).await;
    shutdown.cancel();
    let _ = server.await;
    let _ = std::fs::remove_file(config.socket_path());
    store.flush().await?;
    info!("idreviewd stopped");
    Ok(inbox_result?)
}

/// Identity documents are private: the data dir is for the daemon's user only.
fn restrict(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot restrict the data dir to its owner");
    }
}
