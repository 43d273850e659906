//! The TCP listener for remote clients: TLS (rustls) with the configured certificate, or plain
//! TCP when explicitly allowed on a loopback address. Each accepted connection goes through the
//! same handshake as the Unix socket, but must bring a token.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use idreview_protocol::transport::HANDSHAKE_TIMEOUT;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::{RpcServerError, Shared, serve_connection};
use crate::config::Config;
use crate::retry::AcceptPacer;

/// A bound TCP listener and how it secures its connections.
pub struct TcpServer {
    listener: TcpListener,
    /// `None`: plain TCP on loopback, as `allow_plaintext_loopback` permits.
    acceptor: Option<TlsAcceptor>,
    /// The address actually bound (port 0 resolved).
    pub local_addr: SocketAddr,
}

/// Loads the certificate chain and key into a rustls server configuration.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, RpcServerError> {
    let tls = |what: &Path, e: &dyn std::fmt::Display| {
        RpcServerError::Tls(format!("{}: {e}", what.display()))
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| tls(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls(cert, &e))?;
    if certs.is_empty() {
        return Err(tls(cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| tls(key, &e))?;
    let config = ServerConfig::builder_with_provider(idreview_protocol::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| RpcServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| RpcServerError::Tls(format!("certificate and key do not fit: {e}")))?;
    Ok(Arc::new(config))
}

/// Binds `[rpc] tcp_listen` if set, refusing plain TCP unless allowed and on loopback, and
/// writes the bound address to `DATA/idreviewd.addr`.
pub async fn bind_tcp(config: &Config) -> Result<Option<TcpServer>, RpcServerError> {
    let Some(addr) = &config.rpc.tcp_listen else {
        return Ok(None);
    };
    let acceptor = match (&config.rpc.tls_cert, &config.rpc.tls_key) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(server_config(cert, key)?)),
        (None, None) => None,
        _ => {
            return Err(RpcServerError::Tls(
                "[rpc] tls_cert and tls_key go together".into(),
            ));
        }
    };
    let bind = |source| RpcServerError::BindTcp {
        addr: addr.clone(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(bind)?;
    let local_addr = listener.local_addr().map_err(bind)?;
    if acceptor.is_none() && !(config.rpc.allow_plaintext_loopback && local_addr.ip().is_loopback())
    {
        return Err(RpcServerError::Tls(format!(
            "tcp_listen = {addr:?} needs tls_cert and tls_key (`idreviewd gen-cert` makes them); \
             plain TCP is only allowed on a loopback address with allow_plaintext_loopback = true"
        )));
    }
    let file = config.addr_file();
    std::fs::write(&file, format!("{local_addr}\n")).map_err(|source| RpcServerError::Bind {
        path: file.clone(),
        source,
    })?;
    info!(addr = %local_addr, tls = acceptor.is_some(), "listening on TCP");
    Ok(Some(TcpServer {
        listener,
        acceptor,
        local_addr,
    }))
}

/// Serves the TCP listener until `shutdown`.
pub async fn serve_tcp(server: TcpServer, shared: Shared, shutdown: CancellationToken) {
    let mut pacer = AcceptPacer::default();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = server.listener.accept() => match accepted {
                Ok(accepted) => {
                    pacer.accepted();
                    accepted
                }
                Err(e) => {
                    let wait = pacer.failed("tcp", &e);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => continue,
                    }
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (shared, shutdown, acceptor) =
            (shared.clone(), shutdown.clone(), server.acceptor.clone());
        let tasks = shared.tasks.clone();
        tasks.spawn(async move {
            let serve = async {
                match acceptor {
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            Ok(Ok(tls)) => serve_connection(tls, shared, None).await,
                            Ok(Err(e)) => {
                                let detail = format!("{peer}: {e}");
                                super::peer_log::warn_peer("TLS handshake failed", &detail);
                            }
                            Err(_) => super::peer_log::warn_peer("TLS handshake timed out", &peer),
                        }
                    }
                    None => serve_connection(stream, shared, None).await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = serve => {}
            }
        });
    }
}
