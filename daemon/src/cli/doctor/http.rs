//! The HTTP API's check: `[http] listen` and `public_url` make sense, the TLS set-up holds (a
//! listener beyond loopback needs a certificate), and a running daemon answers on the address
//! it wrote (an unauthenticated call must get DRF's 401 with `WWW-Authenticate: Token`);
//! without a running daemon, the address must be free to bind.

use std::time::Duration;

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
    let tls = match crate::http::speaks_tls(config, addr) {
        Ok(tls) => tls,
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
        Some(bound) => answers(bound.trim(), tls).await,
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

/// Whether the daemon's API answers at `bound` as the seed's clients expect. Over TLS the
/// certificate is not judged here (the doctor may not hold the CA): only that the API answers.
async fn answers(bound: &str, tls: bool) -> Check {
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{bound}/api/ocr/onboarding/stage/");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .tls_danger_accept_invalid_certs(tls)
        .build();
    let answer = match client {
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
        Err(e) => Check::fail(
            NAME,
            format!("{url} does not answer: {e}"),
            "is the daemon running? see its log",
        ),
    }
}
