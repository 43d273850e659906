//! The RPC server: listeners, the handshake that binds an identity and role to a connection,
//! and one tarpc channel per connection serving a [`session::Session`].

mod admin;
/// Open export snapshots.
pub mod exports;
/// Connection, call-rate and upload-rate limits.
pub mod limits;
pub(crate) mod peer_log;
mod review;
mod session;
/// The TCP listener with TLS.
pub mod tls;
mod upload;
mod views;
mod wire;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use idreview_protocol::transport::{self, Hello, HelloReply, Welcome};
use idreview_protocol::version::SPOKEN;
use idreview_protocol::{IdReview, Role};
use tarpc::server::{BaseChannel, Channel};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::backend::Backend;
use crate::config::Config;
use crate::objects::ObjectStore;
use crate::retry::AcceptPacer;
use crate::token_store::TokenStore;

pub use session::Session;
pub use upload::Uploads;

/// Who a connection acts as, bound in the handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// `local:<user>` on the Unix socket, `token:<name>` with a token.
    pub identity: String,
    /// What the connection may do.
    pub role: Role,
    /// The token the connection authenticated with; re-checked on every call.
    pub token_id: Option<String>,
    /// The only user a submitter token acts for.
    pub user_id: Option<String>,
    /// The person behind the identity: a token's person (its name unless set), a local
    /// user's login name. Four eyes counts persons, so one person's tokens count once.
    pub person: String,
}

impl Caller {
    /// The caller a token makes: its identity, role, person and user.
    pub fn of_token(info: idreview_protocol::TokenInfo) -> Caller {
        Caller {
            identity: info.identity(),
            role: info.role,
            person: info.person().to_string(),
            token_id: Some(info.id),
            user_id: info.user_id,
        }
    }
}

/// What every connection's session shares; cheap to clone.
#[derive(Clone)]
pub struct Shared {
    /// Every change to a card goes through the domain.
    pub cards: crate::card::Cards,
    /// Reads and tokens (and, on sled, exports, views and the dashboard).
    pub store: Backend,
    pub config: Arc<Config>,
    pub provider: &'static str,
    pub started: Instant,
    /// Serves presigned URLs and file bytes to the console.
    pub objects: ObjectStore,
    /// Connection, call and upload limits.
    pub limits: Arc<limits::Limits>,
    /// Open RPC upload sessions.
    pub uploads: Arc<Uploads>,
    /// Open export snapshots.
    pub exports: Arc<exports::Exports>,
    /// Every connection and every call runs here, so that shutdown drains them.
    pub tasks: tokio_util::task::TaskTracker,
    /// Fires when the daemon stops: long polls answer at once.
    pub shutdown: CancellationToken,
}

/// Why the RPC server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcServerError {
    #[error("another idreviewd is already serving {0}; stop it or use another --data-dir")]
    AlreadyRunning(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on TCP {addr}: {source}")]
    BindTcp {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS set-up: {0}")]
    Tls(String),
}

/// Binds the Unix socket (mode 0600), replacing a stale socket file but never a live daemon's.
pub async fn bind_unix(path: &Path) -> Result<UnixListener, RpcServerError> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(RpcServerError::AlreadyRunning(path.to_path_buf()));
        }
        let _ = std::fs::remove_file(path);
    }
    let bind = |source| RpcServerError::Bind {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(bind)?;
    }
    let listener = UnixListener::bind(path).map_err(bind)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(bind)?;
    Ok(listener)
}

/// Serves the Unix socket until `shutdown`. Local users are known by their uid; the socket's
/// mode already limits it to the daemon's own user, who is an admin.
pub async fn serve_unix(listener: UnixListener, shared: Shared, shutdown: CancellationToken) {
    let mut pacer = AcceptPacer::default();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    pacer.accepted();
                    stream
                }
                Err(e) => {
                    let wait = pacer.failed("unix socket", &e);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => continue,
                    }
                }
            },
        };
        let identity = match stream.peer_cred() {
            Ok(cred) => format!("local:{}", user_name(cred.uid())),
            Err(_) => "local:unknown".to_string(),
        };
        let tasks = shared.tasks.clone();
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        // The connection stops reading calls at shutdown; calls already taken finish.
        tasks.spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = serve_connection(stream, shared, Some(identity)) => {}
            }
        });
    }
}

/// Handshakes, then serves tarpc on the stream until the peer leaves or idles out. `local` is
/// the identity of a Unix-socket peer, who is an admin without a token; TCP peers (`None`)
/// must bring a token.
async fn serve_connection<S>(mut stream: S, shared: Shared, local: Option<String>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let hello = tokio::time::timeout(
        transport::HANDSHAKE_TIMEOUT,
        transport::read_hello(&mut stream),
    )
    .await;
    let hello = match hello {
        Ok(Ok(hello)) => hello,
        Ok(Err(e)) if peer_log::left_silently(&e) => {
            return debug!("a peer connected and left without a handshake (a probe?)");
        }
        Ok(Err(e)) => return peer_log::warn_peer("dropping a connection: bad handshake", &e),
        Err(_) => {
            let waited = format!("{:?}", transport::HANDSHAKE_TIMEOUT);
            return peer_log::warn_peer("dropping a connection: no handshake in time", &waited);
        }
    };
    let admitted = admit(&hello, &shared, local).await;
    let (caller, version, _permit) = match admitted {
        Ok(admitted) => admitted,
        Err(why) => {
            let detail = format!("client {}: {why}", hello.client);
            peer_log::warn_peer("refused a connection", &detail);
            let _ = transport::write_message(&mut stream, &HelloReply::Refused(why)).await;
            return;
        }
    };
    let welcome = Welcome {
        identity: caller.identity.clone(),
        role: caller.role,
        daemon_version: env!("CARGO_PKG_VERSION").to_string(),
        protocol_version: version,
        daemon_speaks: SPOKEN,
    };
    if transport::write_message(&mut stream, &HelloReply::Welcome(welcome))
        .await
        .is_err()
    {
        return;
    }
    let _open = crate::metrics::OpenConnection::open();
    let identity = caller.identity.clone();
    info!(%identity, role = %caller.role, client = %hello.client, protocol = version, "connected");
    let idle = shared.limits.idle_timeout;
    let tasks = shared.tasks.clone();
    let session = Session::new(shared, caller);
    let calls = BaseChannel::with_defaults(transport::transport(stream))
        .execute(crate::metrics::rpc::Measured(session.serve()));
    futures::pin_mut!(calls);
    loop {
        match tokio::time::timeout(idle, calls.next()).await {
            Ok(Some(call)) => {
                tasks.spawn(call);
            }
            Ok(None) => break,
            Err(_) => {
                info!(%identity, idle_secs = idle.as_secs(), "closing an idle connection");
                break;
            }
        }
    }
    info!(%identity, "disconnected");
}

/// Checks the hello: a protocol version both sides speak (the connection's), a free connection
/// slot, and who the peer is.
async fn admit(
    hello: &Hello,
    shared: &Shared,
    local: Option<String>,
) -> Result<(Caller, u32, OwnedSemaphorePermit), String> {
    let version = SPOKEN.agree(hello.speaks()).map_err(|e| e.to_string())?;
    let permit = shared.limits.connection()?;
    let caller = match (&hello.token, local) {
        (Some(token), _) => {
            let info = shared
                .store
                .authenticate(token)
                .await
                .map_err(|e| format!("token refused: {e}"))?;
            Caller::of_token(info)
        }
        (None, Some(identity)) => Caller {
            person: identity
                .strip_prefix("local:")
                .unwrap_or(&identity)
                .to_string(),
            identity,
            role: Role::Admin,
            token_id: None,
            user_id: None,
        },
        (None, None) => {
            return Err(
                "a bearer token is required on TCP; pass one with --token-file or IDREVIEW_TOKEN"
                    .into(),
            );
        }
    };
    Ok((caller, version, permit))
}

/// The login name for a uid, from `/etc/passwd`; the number when not found.
fn user_name(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(':');
            let name = parts.next()?;
            let id: u32 = parts.nth(1)?.parse().ok()?;
            (id == uid).then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| uid.to_string())
}
