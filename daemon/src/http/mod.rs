//! The seed's HTTP/JSON API under `/api/ocr/`: the endpoints the Django app's web and phone
//! clients and its admin dashboard call (DRF token auth, page-number pagination, field-keyed 400
//! errors, the seed's enums). **A front end**, beside `rpc/`: handlers authenticate, translate
//! JSON and multipart to the card domain's calls and back (through the seed view,
//! `crate::seed`), and map `CardError` onto DRF's error shapes; no rule of a card lives here.
//!
//! - `auth.rs`: `Authorization: Token`, checked before any byte of a body is read;
//! - `error.rs`: the one error type and its DRF shapes (400 keyed by field, `{"detail"}`);
//! - `card_json.rs`: a card as the seed's clients read it;
//! - `user.rs`: onboarding stage, own card, confirmation; `upload.rs`: the multipart upload,
//!   streamed to disk under each part's limit and validated by the intake rules;
//! - `admin.rs` and `params.rs`: the admin list, one card, the low-confidence queue and the bulk
//!   decision; `files.rs`: the card's files, for its user and reviewers;
//! - `resumable.rs`: resumable video uploads (tus 1.0), attached to an upload by their id;
//! - `cors.rs`: CORS for `[http] cors_origins`, beside tus's own `OPTIONS`;
//! - `tls.rs`: TLS on the listener (always beyond loopback), with the RPC's certificates;
//! - `openapi.rs`: the OpenAPI 3 document at `schema/`, generated from the handlers' types.
//!
//! The server is a task of the daemon's handle: it stops accepting on shutdown and drains the
//! requests in flight.

mod admin;
mod auth;
mod card_json;
mod cors;
mod error;
mod files;
mod idempotency;
mod openapi;
mod params;
mod resumable;
mod tls;
mod upload;
mod user;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, head, post, put};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::card::Cards;
use crate::config::Config;
use crate::ingest::Pipeline;
use crate::objects::ObjectStore;
use crate::store::Store;

pub use error::ApiError;

/// Why the HTTP API could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpServerError {
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("HTTP API: {0}")]
    Tls(String),
}

/// The bound HTTP listener and how it secures its connections.
pub struct HttpListener {
    listener: TcpListener,
    /// `None`: plain HTTP (loopback only).
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl HttpListener {
    /// The scheme clients reach it with.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }
}

/// What every request shares; cheap to clone.
#[derive(Clone)]
pub struct HttpState {
    /// Every change to a card goes through the domain.
    pub cards: Cards,
    /// Reads, tokens and people's numbers.
    pub store: Store,
    /// Takes an upload from its validation to a verified card.
    pub pipeline: Pipeline,
    pub objects: ObjectStore,
    pub config: Arc<Config>,
    /// Uploads that must go on after their request answered (the object store was down) run
    /// here, so that shutdown drains them.
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
    /// The answers of requests sent with an `Idempotency-Key`.
    pub replays: Arc<idempotency::Replays>,
    /// Requests per identity (429 past them).
    pub limits: Arc<crate::rpc::limits::Limits>,
    /// Locks of the resumable uploads being written.
    pub resumables: Arc<resumable::Resumables>,
    /// `https` when the listener speaks TLS: the scheme of URLs built from the Host header.
    pub scheme: &'static str,
}

impl HttpState {
    /// The state every request shares.
    pub fn new(
        store: Store,
        cards: Cards,
        pipeline: Pipeline,
        objects: ObjectStore,
        tasks: TaskTracker,
        shutdown: CancellationToken,
    ) -> HttpState {
        let config = pipeline.config.clone();
        let rate = crate::config::RpcConfig {
            calls_per_sec: config.http.requests_per_sec.max(1),
            calls_burst: config.http.requests_burst.max(1),
            ..crate::config::RpcConfig::default()
        };
        HttpState {
            cards,
            store,
            pipeline,
            objects,
            config,
            tasks,
            shutdown,
            replays: Arc::default(),
            limits: Arc::new(crate::rpc::limits::Limits::new(&rate)),
            resumables: Arc::default(),
            scheme: "http",
        }
    }
}

impl HttpState {
    /// A connection that sends nothing for this long is given up.
    fn idle(&self) -> Duration {
        Duration::from_secs(self.config.http.idle_timeout_secs.max(1))
    }
}

/// Binds `[http] listen`, writing the bound address to `DATA/idreviewd.http-addr`; `None`
/// when the API is off. Beyond loopback it speaks TLS, or refuses to start without a
/// certificate.
pub async fn bind(config: &Config) -> Result<Option<HttpListener>, HttpServerError> {
    let addr = config.http.listen.trim();
    if addr.is_empty() {
        return Ok(None);
    }
    let bind = |source| HttpServerError::Bind {
        addr: addr.to_string(),
        source,
    };
    // Staging folders of uploads a stopped daemon left half-read.
    let _ = std::fs::remove_dir_all(upload::staging_root(config));
    let listener = TcpListener::bind(addr).await.map_err(bind)?;
    let local = listener.local_addr().map_err(bind)?;
    let tls = tls::acceptor(config, local)?;
    std::fs::write(config.http_addr_file(), format!("{local}\n")).map_err(bind)?;
    info!(%local, tls = tls.is_some(), "HTTP API listening under /api/ocr/");
    Ok(Some(HttpListener { listener, tls }))
}

/// The certificate file a listener of `config` bound to `local` serves, if it speaks TLS; an
/// error when it must and cannot (beyond loopback without a certificate, or one that does not
/// load).
pub fn served_certificate(
    config: &Config,
    local: std::net::SocketAddr,
) -> Result<Option<std::path::PathBuf>, HttpServerError> {
    // Loading the pair names what is wrong with either file.
    tls::acceptor(config, local)?;
    Ok(tls::served_pair(config, local)?.map(|(cert, _)| cert))
}

/// Every route of the API.
pub fn router(state: HttpState) -> Router {
    let origins = state.config.http.cors_origins.clone();
    let v = &state.config.validation;
    // The sum of every part's limit, plus room for the form fields: past it the body is cut
    // off with a 413 before it reaches the disk.
    let upload_cap = 2 * v.max_image_bytes + v.max_video_bytes + 1024 * 1024;
    let upload_cap = usize::try_from(upload_cap).unwrap_or(usize::MAX);
    let routes = Router::new()
        .route("/api/ocr/onboarding/stage/", get(user::stage))
        .route("/api/ocr/id-cards/detail/", get(user::detail))
        .route("/api/ocr/id-cards/{id}/confirm/", put(user::confirm))
        .route(
            "/api/ocr/documents/upload/",
            post(upload::upload).layer(DefaultBodyLimit::max(upload_cap)),
        )
        .route("/api/ocr/admin/id-cards/", get(admin::list))
        .route(
            "/api/ocr/admin/id-cards/low-confidence/",
            get(admin::low_confidence),
        )
        .route(
            "/api/ocr/admin/id-cards/bulk-decision/",
            post(admin::bulk_decision),
        )
        .route("/api/ocr/admin/id-cards/{id}/", get(admin::retrieve))
        .route("/api/ocr/files/{id}/{role}/", get(files::file))
        .route("/api/ocr/schema/", get(openapi::schema))
        .route(
            "/api/ocr/uploads/",
            post(resumable::create).options(resumable::options),
        )
        .route(
            "/api/ocr/uploads/{id}/",
            head(resumable::head).patch(resumable::patch),
        )
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .with_state(state);
    cors::around(routes, &origins)
}

/// Serves the API until `shutdown`, then lets the requests in flight finish.
pub async fn serve(listener: HttpListener, state: HttpState, shutdown: CancellationToken) {
    let app = router(state);
    let stopped = shutdown.clone();
    let stop = async move { stopped.cancelled().await };
    let served = match listener.tls {
        None => {
            axum::serve(listener.listener, app)
                .with_graceful_shutdown(stop)
                .await
        }
        Some(acceptor) => match tls::TlsListener::new(listener.listener, acceptor, shutdown) {
            Ok(tls) => axum::serve(tls, app).with_graceful_shutdown(stop).await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = served {
        warn!(error = %e, "the HTTP API stopped with an error");
    }
}
