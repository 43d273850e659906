//! The HTTP API's check: `[http] listen` and `public_url` make sense, the TLS set-up holds (a
//! listener beyond loopback needs a certificate), and a running daemon answers on the address
//! it wrote (an unauthenticated call must get DRF's 401 with `WWW-Authenticate: Token`), over
//! TLS with the configured certificate (pinned, so a daemon still serving a replaced one is
//! found); without a running daemon, the address must be free to bind.

use std::path::Path;
use std::time::Duration;

use idreview_protocol::tls::{Trust, client_config, fingerprint};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::Check;
use crate::config::Config;

const NAME: &str = "http";

/// The check, when the API is turned on.
pub async fn http(config: &Config) -> Option<Check> {
    let listen = config.http.listen.trim();
    if listen.is_empty() {
        return None;
    }
    let Ok(addr) = listen.parse::<std::net::SocketAddr>() else {
        return Some(Check::fail(
            NAME,
            format!("[http] listen = {listen:?} is not a host:port"),
            "use e.g. 127.0.0.1:8080",
        ));
    };
    let public = config.http.public_url.trim();
    let url = public.is_empty() || public.starts_with("http://") || public.starts_with("https://");
    if !url {
        return Some(Check::fail(
            NAME,
            format!("[http] public_url = {public:?} is not an http(s) URL"),
            "use the URL clients reach the API at, e.g. https://kyc.example.com",
        ));
    }
    let served = match crate::http::served_certificate(config, addr) {
        Ok(served) => served,
        Err(e) => {
            return Some(Check::fail(
                NAME,
                e.to_string(),
                "set [http] tls_cert and tls_key (`idreviewd gen-cert` makes them)",
            ));
        }
    };
    let running = std::fs::read_to_string(config.http_addr_file()).ok();
    let check = match running {
        Some(bound) => answers(bound.trim(), served.as_deref()).await,
        None => match tokio::net::TcpListener::bind(addr).await {
            Ok(_) => Check::ok(NAME, format!("{addr} is free to listen on")),
            Err(e) => Check::fail(
                NAME,
                format!("cannot listen on {addr}: {e}"),
                "stop what holds the port or choose another [http] listen",
            ),
        },
    };
    Some(check)
}

/// Whether the daemon's API answers at `bound` as the seed's clients expect; over TLS, with
/// the certificate in `served` (pinned by its fingerprint, so a CA is not needed).
async fn answers(bound: &str, served: Option<&Path>) -> Check {
    let scheme = if served.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{bound}/api/ocr/onboarding/stage/");
    let mut client = reqwest::Client::builder().timeout(Duration::from_secs(5));
    if let Some(cert) = served {
        match pinned(cert) {
            Ok(tls) => client = client.tls_backend_preconfigured(tls),
            Err(e) => return Check::fail(NAME, e, "check [http] (or [rpc]) tls_cert"),
        }
    }
    let answer = match client.build() {
        Ok(client) => client.get(&url).send().await,
        Err(e) => {
            return Check::fail(NAME, format!("no HTTP client: {e}"), "report this");
        }
    };
    match answer {
        Ok(r) if r.status().as_u16() == 401 && r.headers().contains_key("www-authenticate") => {
            Check::ok(NAME, format!("the API answers on {bound} (/api/ocr/)"))
        }
        Ok(r) => Check::fail(
            NAME,
            format!("{url} answered {} instead of 401", r.status()),
            "is another server on that port? check [http] listen",
        ),
        Err(e) => {
            let why = error_chain(&e);
            match served {
                Some(cert) if why.contains("fingerprint") => Check::fail(
                    NAME,
                    format!(
                        "{url} serves another certificate than {} ({why})",
                        cert.display()
                    ),
                    "restart the daemon so that it loads the configured certificate",
                ),
                _ => Check::fail(
                    NAME,
                    format!("{url} does not answer: {why}"),
                    "is the daemon running? see its log",
                ),
            }
        }
    }
}

/// A TLS client that accepts exactly the first certificate of the PEM file `cert`.
fn pinned(cert: &Path) -> Result<rustls::ClientConfig, String> {
    let first = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .next()
        .ok_or_else(|| format!("{} holds no certificate", cert.display()))?
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let config =
        client_config(&Trust::Pin(fingerprint(first.as_ref()))).map_err(|e| e.to_string())?;
    Ok((*config).clone())
}

/// An error with its causes, which carry the TLS reason.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
