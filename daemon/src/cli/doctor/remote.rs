//! Checks on what the configuration points at: the object store (a probe object put, read back
//! and deleted), the verification provider (an authenticated call, or Tesseract and its
//! language), and the TLS certificate of the TCP listener.

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Check;
use crate::config::{Config, StorageConfig};
use crate::objects::ObjectStore;

/// A certificate expiring within this many days is a warning.
const EXPIRY_WARN_DAYS: i64 = 30;

/// The object store answers: local folder writable, or an S3 probe object round-trips.
pub async fn storage(config: &Config) -> Check {
    match config.storage.backend.as_str() {
        "local" => local_objects(&config.objects_dir()),
        "s3" => s3(&config.storage).await,
        other => Check::fail(
            "storage",
            format!("unknown [storage] backend {other:?}"),
            "use backend = \"local\" or \"s3\"",
        ),
    }
}

fn local_objects(dir: &Path) -> Check {
    const NAME: &str = "storage";
    if !dir.exists() {
        return Check::ok(
            NAME,
            format!(
                "local folder {} is created with the first stored file",
                dir.display()
            ),
        );
    }
    let probe = dir.join(format!(".idreview-doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"doctor").and_then(|_| std::fs::remove_file(&probe)) {
        Ok(()) => Check::ok(NAME, format!("local folder {} is writable", dir.display())),
        Err(e) => Check::fail(
            NAME,
            format!("cannot write in {}: {e}", dir.display()),
            "give the daemon's user ownership of [storage] local_dir",
        ),
    }
}

async fn s3(config: &StorageConfig) -> Check {
    const NAME: &str = "s3";
    let config = StorageConfig {
        max_attempts: 1,
        timeout_secs: config.timeout_secs.min(10),
        ..config.clone()
    };
    let target = format!(
        "bucket {:?} at {}",
        config.bucket,
        config.endpoint_url.as_deref().unwrap_or("AWS")
    );
    match s3_round_trip(&config).await {
        Ok(()) => Check::ok(NAME, format!("{target}: put, get and delete work")),
        Err(e) => {
            let hint = if e.contains("NoSuchBucket") {
                "create the bucket, or fix [storage] bucket"
            } else if [
                "SignatureDoesNotMatch",
                "InvalidAccessKeyId",
                "AccessDenied",
                "403",
            ]
            .iter()
            .any(|code| e.contains(code))
            {
                "check [storage] access_key_id / secret_access_key (or the AWS credential chain) and the bucket policy"
            } else {
                "check [storage] endpoint_url, region and the network path to the server"
            };
            Check::fail(NAME, format!("{target}: {e}"), hint)
        }
    }
}

/// Puts a tiny probe object, reads it back and deletes it.
async fn s3_round_trip(config: &StorageConfig) -> Result<(), String> {
    let store = ObjectStore::from_config(config, std::env::temp_dir())
        .await
        .map_err(|e| e.to_string())?;
    if let ObjectStore::S3(s3) = &store
        && s3.bucket_missing().await
    {
        return Err(format!("NoSuchBucket: {:?} does not exist", config.bucket));
    }
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let body = format!("idreviewd doctor probe {stamp}\n");
    let file = std::env::temp_dir().join(format!("idreview-doctor-{stamp}"));
    std::fs::write(&file, &body).map_err(|e| format!("cannot write a probe file: {e}"))?;
    let key = format!("idreview-doctor/probe-{stamp}");
    let sha256 = hex::encode(Sha256::digest(body.as_bytes()));
    let put = store.put_file(&key, &file, &sha256, None).await;
    let _ = std::fs::remove_file(&file);
    put.map_err(|e| format!("put: {e}"))?;
    let got = store.get(&key).await.map_err(|e| format!("get: {e}"));
    let deleted = store.delete(&key).await.map_err(|e| format!("delete: {e}"));
    if got? != body.as_bytes() {
        return Err("get: the probe object came back changed".into());
    }
    deleted
}

/// The configured provider can work: ID Analyzer accepts the key, Tesseract runs with the
/// configured language, or nothing is needed (`manual`).
pub async fn verifier(config: &Config) -> Check {
    let verification = &config.verification;
    match verification.provider.as_str() {
        "manual" => Check::ok(
            "verifier",
            "manual: every card goes to review, nothing to reach",
        ),
        "idanalyzer" => idanalyzer(&verification.idanalyzer).await,
        "local" => tesseract(&verification.local).await,
        other => Check::fail(
            "verifier",
            format!("unknown [verification] provider {other:?}"),
            "use provider = \"local\", \"idanalyzer\" or \"manual\"",
        ),
    }
}

/// `GET /profile?limit=1`: cheap, authenticated, and changes nothing.
async fn idanalyzer(config: &crate::config::IdAnalyzerConfig) -> Check {
    const NAME: &str = "verifier";
    if config.api_key.is_empty() {
        return Check::fail(
            NAME,
            "idanalyzer: no API key",
            "set [verification.idanalyzer] api_key (or IDREVIEW__VERIFICATION__IDANALYZER__API_KEY)",
        );
    }
    let url = format!("{}/profile?limit=1", config.base_url.trim_end_matches('/'));
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_secs.clamp(1, 10)))
        .build()
    {
        Ok(http) => http,
        Err(e) => return Check::fail(NAME, format!("no HTTP client: {e}"), "report this"),
    };
    let response = http
        .get(&url)
        .header("X-Api-Key", config.api_key.expose())
        .send()
        .await;
    match response.map(|r| r.status()) {
        Ok(status) if status.is_success() => Check::ok(
            NAME,
            format!("idanalyzer at {} accepts the key", config.base_url),
        ),
        Ok(status) if status.as_u16() == 401 || status.as_u16() == 403 => Check::fail(
            NAME,
            format!(
                "idanalyzer at {} refused the key (HTTP {status})",
                config.base_url
            ),
            "check [verification.idanalyzer] api_key and the account's region (base_url)",
        ),
        Ok(status) => Check::warn(
            NAME,
            format!("idanalyzer at {} answered HTTP {status}", config.base_url),
            "check [verification.idanalyzer] base_url; scans are retried while it fails",
        ),
        Err(e) => Check::fail(
            NAME,
            format!("idanalyzer at {} is unreachable: {e}", config.base_url),
            "check [verification.idanalyzer] base_url and the network (proxy, firewall)",
        ),
    }
}

/// The linked-in Tesseract loads every configured language.
async fn tesseract(config: &crate::verify::local::LocalConfig) -> Check {
    const NAME: &str = "tesseract";
    let probe = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || crate::verify::local::probe(&config)).await
    };
    match probe {
        Ok(Ok(version)) => Check::ok(
            NAME,
            format!("Tesseract {version} with language {}", config.language),
        ),
        Ok(Err(e)) => Check::fail(
            NAME,
            format!("lacks the language {}: {e}", config.language),
            format!(
                "install tesseract-ocr-{} or set [verification.local] language / tessdata_dir",
                config.language.replace('+', " tesseract-ocr-")
            ),
        ),
        Err(e) => Check::fail(
            NAME,
            format!("the check did not finish: {e}"),
            "report this",
        ),
    }
}

/// The TCP listener's certificate loads with its key and is valid for a while yet.
pub fn tls(config: &Config) -> Option<Check> {
    const NAME: &str = "tls";
    let listen = config.rpc.tcp_listen.as_deref()?;
    let (cert, key) = match (&config.rpc.tls_cert, &config.rpc.tls_key) {
        (Some(cert), Some(key)) => (cert, key),
        (None, None) if config.rpc.allow_plaintext_loopback => {
            let loopback = listen
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|a| a.ip().is_loopback());
            return Some(if loopback {
                Check::ok(NAME, format!("plain TCP on loopback {listen}, as allowed"))
            } else {
                Check::fail(
                    NAME,
                    format!("plain TCP is allowed only on loopback, not {listen}"),
                    "set tls_cert and tls_key (`idreviewd gen-cert` makes them)",
                )
            });
        }
        _ => {
            return Some(Check::fail(
                NAME,
                format!("tcp_listen = {listen:?} without tls_cert and tls_key"),
                "set both [rpc] tls_cert and tls_key (`idreviewd gen-cert` makes them)",
            ));
        }
    };
    if let Err(e) = crate::rpc::tls::server_config(cert, key) {
        return Some(Check::fail(
            NAME,
            e.to_string(),
            "point [rpc] tls_cert / tls_key at a matching PEM certificate and key",
        ));
    }
    Some(validity(cert))
}

/// The first certificate of the chain: not yet valid or expired fails, expiring soon warns.
fn validity(cert: &Path) -> Check {
    const NAME: &str = "tls";
    let renew = "renew the certificate (`idreviewd gen-cert` for a private CA) and restart";
    let parsed = std::fs::read(cert)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes).map_err(|e| e.to_string())?;
            let x509 = pem.parse_x509().map_err(|e| e.to_string())?;
            let validity = x509.validity();
            Ok((
                validity.not_before.timestamp(),
                validity.not_after.timestamp(),
            ))
        });
    let (not_before, not_after) = match parsed {
        Ok(times) => times,
        Err(e) => return Check::fail(NAME, format!("{}: {e}", cert.display()), renew),
    };
    let now = chrono::Utc::now().timestamp();
    let day = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0).map_or(t.to_string(), |d| d.date_naive().to_string())
    };
    let shown = cert.display();
    if not_after < now {
        Check::fail(
            NAME,
            format!("{shown} expired on {}", day(not_after)),
            renew,
        )
    } else if not_before > now {
        Check::fail(
            NAME,
            format!("{shown} is not valid before {}", day(not_before)),
            "check the system clock, or issue a certificate valid from today",
        )
    } else if not_after - now < EXPIRY_WARN_DAYS * 86_400 {
        Check::warn(
            NAME,
            format!("{shown} expires on {}", day(not_after)),
            renew,
        )
    } else {
        Check::ok(NAME, format!("{shown} valid until {}", day(not_after)))
    }
}
