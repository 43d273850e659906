//! The client's side of TLS over TCP: how a remote console trusts the daemon (a CA file or a
//! pinned SHA-256 fingerprint of the daemon's certificate) and the connect helpers that end in
//! the same handshake as the Unix socket.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::IdReviewClient;
use crate::transport::{TransportError, Welcome, client_handshake, client_on};

/// How the client decides that it talks to the right daemon.
#[derive(Debug, Clone, PartialEq)]
pub enum Trust {
    /// The daemon's certificate must chain to this CA (PEM file) and name the host.
    Ca(PathBuf),
    /// The same, with the CA's PEM text itself (as an invite carries it).
    CaPem(String),
    /// The daemon's certificate must have this SHA-256 fingerprint (hex, colons allowed).
    Pin(String),
}

/// The crypto provider both ends use.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// Lower-case hex SHA-256 of a DER certificate: what `--pin` compares against.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn tls_err(e: impl std::fmt::Display) -> TransportError {
    TransportError::Tls(e.to_string())
}

/// A rustls client configuration for `trust`.
pub fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, TransportError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?;
    let config = match trust {
        Trust::Ca(path) => {
            let what = format!("CA file {}", path.display());
            let certs =
                CertificateDer::pem_file_iter(path).map_err(|e| tls_err(format!("{what}: {e}")))?;
            let roots = roots(certs, &what)?;
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CaPem(pem) => {
            let certs = CertificateDer::pem_slice_iter(pem.as_bytes());
            let roots = roots(certs, "the invite's CA certificate")?;
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Pin(pin) => {
            let pin = pin.replace(':', "").to_ascii_lowercase();
            if pin.len() != 64 || !pin.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(tls_err(
                    "a pin is the certificate's SHA-256 fingerprint: 64 hex digits",
                ));
            }
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinVerifier {
                    pin,
                    provider: provider(),
                }))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// The certificates of a CA's PEM as roots; `what` names the source in errors.
fn roots<'a>(
    certs: impl Iterator<Item = Result<CertificateDer<'a>, rustls::pki_types::pem::Error>>,
    what: &str,
) -> Result<RootCertStore, TransportError> {
    let mut roots = RootCertStore::empty();
    for cert in certs {
        let cert = cert.map_err(|e| tls_err(format!("{what}: {e}")))?;
        roots.add(cert).map_err(tls_err)?;
    }
    if roots.is_empty() {
        return Err(tls_err(format!("{what} holds no certificate")));
    }
    Ok(roots)
}

/// Opens TCP to `addr` (`host:port`) and completes TLS, checking the daemon against `trust`.
pub async fn connect_stream(
    addr: &str,
    trust: &Trust,
) -> Result<TlsStream<TcpStream>, TransportError> {
    let host = host_of(addr);
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| tls_err(format!("{host:?} is not a host name: {e}")))?;
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|source| TransportError::Connect {
            at: addr.to_string(),
            source,
        })?;
    let connector = TlsConnector::from(client_config(trust)?);
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| tls_err(format!("TLS with {addr} failed: {e}")))
}

/// Connects to a daemon's TLS listener and handshakes with `token`.
pub async fn connect_tls(
    addr: &str,
    trust: &Trust,
    token: Option<String>,
) -> Result<(IdReviewClient, Welcome), TransportError> {
    let mut stream = connect_stream(addr, trust).await?;
    let welcome = client_handshake(&mut stream, token).await?;
    Ok((client_on(stream), welcome))
}

/// Connects without TLS; only a daemon with `allow_plaintext_loopback` on a loopback address
/// accepts this.
pub async fn connect_plain(
    addr: &str,
    token: Option<String>,
) -> Result<(IdReviewClient, Welcome), TransportError> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|source| TransportError::Connect {
            at: addr.to_string(),
            source,
        })?;
    let welcome = client_handshake(&mut stream, token).await?;
    Ok((client_on(stream), welcome))
}

/// The host of `host:port`, without IPv6 brackets.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Accepts exactly the certificate with the pinned fingerprint; signatures are still checked.
#[derive(Debug)]
struct PinVerifier {
    /// Lower-case hex SHA-256 of the expected DER certificate.
    pin: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = fingerprint(end_entity.as_ref());
        if seen == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the daemon's certificate has fingerprint {seen}, not the pinned one"
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_pins() {
        assert_eq!(host_of("example.org:7443"), "example.org");
        assert_eq!(host_of("[::1]:7443"), "::1");
        assert!(client_config(&Trust::Pin("ab".into())).is_err());
        assert!(client_config(&Trust::Pin("AB:".repeat(32))).is_ok());
    }
}
