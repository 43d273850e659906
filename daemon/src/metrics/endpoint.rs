//! The Prometheus recorder and the `/metrics` listener on `[metrics] listen`. Gauges that mirror
//! state owned elsewhere (cards by status, queue depths) are read at scrape time, so they are
//! never stale and no write path has to maintain them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{CARDS, QUEUE_DEPTH, STAGE_BUCKETS, STAGE_SECONDS};
use crate::config::Config;
use crate::retry::AcceptPacer;
use crate::store::Store;

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("[metrics] listen = {0:?} is not a loopback address (e.g. 127.0.0.1:9464)")]
    NotLoopback(String),
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot install the metrics recorder: {0}")]
    Recorder(String),
}

/// The process-wide recorder; `metrics` has one global recorder, so it is installed once.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

fn handle() -> Result<PrometheusHandle, MetricsError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(STAGE_SECONDS.into()), STAGE_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| MetricsError::Recorder(e.to_string()))?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// What a scrape reads besides the recorder.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Store,
    config: Arc<Config>,
}

impl Scrape {
    /// Sets the gauges mirrored from the store and the work area, then renders everything.
    fn render(&self) -> String {
        for (status, count) in self.store.counts_by_status() {
            ::metrics::gauge!(CARDS, "status" => status.to_string()).set(count as f64);
        }
        let pending = std::fs::read_dir(self.config.work_dir()).map_or(0, |d| d.count());
        let retries = self.store.jobs().map_or(0, |jobs| jobs.len());
        let queues = [
            ("pending_uploads", pending),
            ("verification_retries", retries),
            ("cleanups", self.store.cleanup_len()),
            ("webhooks", self.store.outbox_len()),
        ];
        for (queue, depth) in queues {
            ::metrics::gauge!(QUEUE_DEPTH, "queue" => queue).set(depth as f64);
        }
        self.handle.run_upkeep();
        self.handle.render()
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (status, body) = if request.method() != Method::GET {
            (StatusCode::METHOD_NOT_ALLOWED, String::new())
        } else if request.uri().path() != "/metrics" {
            (StatusCode::NOT_FOUND, "try /metrics\n".to_string())
        } else {
            (StatusCode::OK, self.render())
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        response
    }
}

/// Installs the recorder and binds `[metrics] listen`; answers the server to run (it serves
/// `/metrics` until `shutdown`), or `None` when metrics are off. Port 0 picks a free port,
/// written to `DATA/idreviewd.metrics-addr`.
pub async fn start(
    config: &Arc<Config>,
    store: Store,
    shutdown: CancellationToken,
) -> Result<Option<impl Future<Output = ()> + Send + use<>>, MetricsError> {
    let listen = config.metrics.listen.trim();
    if listen.is_empty() {
        return Ok(None);
    }
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| MetricsError::NotLoopback(listen.to_string()))?;
    if !addr.ip().is_loopback() {
        return Err(MetricsError::NotLoopback(listen.to_string()));
    }
    let bind = |source| MetricsError::Bind {
        addr: listen.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(bind)?;
    let bound = listener.local_addr().map_err(bind)?;
    std::fs::write(config.metrics_addr_file(), bound.to_string()).map_err(bind)?;
    let scrape = Scrape {
        handle: handle()?,
        store,
        config: config.clone(),
    };
    info!(%bound, "serving metrics at /metrics");
    Ok(Some(serve(listener, scrape, shutdown)))
}

async fn serve(listener: TcpListener, scrape: Scrape, shutdown: CancellationToken) {
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
                    let wait = pacer.failed("metrics", &e);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => continue,
                    }
                }
            },
        };
        let scrape = scrape.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let scrape = scrape.clone();
                async move { Ok::<_, Infallible>(scrape.answer(request).await) }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                warn!(error = %e, "metrics connection failed");
            }
        });
    }
}
