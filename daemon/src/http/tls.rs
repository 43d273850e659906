//! TLS on the HTTP listener, with the certificates the RPC listener uses (`idreviewd gen-cert`):
//! `[http] tls_cert`/`tls_key`, else `[rpc]`'s. A listener beyond loopback always speaks TLS and
//! refuses to start without a certificate; one on loopback stays plain unless `[http]` names a
//! certificate of its own. Handshakes run in tasks of their own (with the RPC's deadline), so a
//! client that stalls in one never holds up the next connection.

use std::net::SocketAddr;
use std::path::PathBuf;

use idreview_protocol::transport::HANDSHAKE_TIMEOUT;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use super::HttpServerError;
use crate::config::Config;
use crate::rpc::peer_log::warn_peer;

/// The certificate and key the HTTP listener bound to `local` serves, if it speaks TLS.
pub fn acceptor(
    config: &Config,
    local: SocketAddr,
) -> Result<Option<TlsAcceptor>, HttpServerError> {
    let Some((cert, key)) = served_pair(config, local)? else {
        return Ok(None);
    };
    let tls = crate::rpc::tls::server_config(&cert, &key)
        .map_err(|e| HttpServerError::Tls(e.to_string()))?;
    Ok(Some(TlsAcceptor::from(tls)))
}

/// The certificate and key files a listener bound to `local` serves, if it speaks TLS; an
/// error when it must and has none.
pub fn served_pair(
    config: &Config,
    local: SocketAddr,
) -> Result<Option<(PathBuf, PathBuf)>, HttpServerError> {
    let http = &config.http;
    let own = http.tls_cert.is_some() || http.tls_key.is_some();
    let pair = if own {
        pair(&http.tls_cert, &http.tls_key, "[http]")?
    } else {
        pair(&config.rpc.tls_cert, &config.rpc.tls_key, "[rpc]")?
    };
    let beyond = !local.ip().is_loopback();
    match pair {
        Some(pair) if own || beyond => Ok(Some(pair)),
        None if beyond => Err(HttpServerError::Tls(format!(
            "[http] listen = {:?} reaches beyond loopback, so the API must speak TLS, and no \
             certificate is set: run `idreviewd gen-cert --out DIR` and set [http] (or [rpc]) \
             tls_cert = \"DIR/server.pem\" and tls_key = \"DIR/server.key\", or listen on \
             127.0.0.1 behind a TLS-terminating proxy (and set [http] public_url)",
            http.listen
        ))),
        _ => Ok(None),
    }
}

/// Both paths of a section, or neither.
fn pair(
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
    section: &str,
) -> Result<Option<(PathBuf, PathBuf)>, HttpServerError> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some((cert.clone(), key.clone()))),
        (None, None) => Ok(None),
        _ => Err(HttpServerError::Tls(format!(
            "{section} tls_cert and tls_key go together"
        ))),
    }
}

/// A listener whose connections arrive with their TLS handshake done, for `axum::serve`.
pub struct TlsListener {
    /// Connections that finished their handshake.
    done: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener` until `shutdown`, each handshake in a task of its own.
    pub fn new(
        listener: TcpListener,
        acceptor: TlsAcceptor,
        shutdown: CancellationToken,
    ) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (sender, done) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut pacer = crate::retry::AcceptPacer::default();
            loop {
                let (stream, peer) = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => {
                            pacer.accepted();
                            accepted
                        }
                        Err(e) => {
                            tokio::time::sleep(pacer.failed("https", &e)).await;
                            continue;
                        }
                    },
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => warn_peer("HTTPS handshake failed", &format!("{peer}: {e}")),
                        Err(_) => warn_peer("HTTPS handshake timed out", &peer),
                    }
                });
            }
        });
        Ok(TlsListener { done, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.done.recv().await {
            Some(connection) => connection,
            // The accept loop stopped (shutdown): nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
