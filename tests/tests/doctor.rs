//! `idreviewd doctor`: a healthy set-up passes (exit 0, every line ok), and each broken piece
//! fails (exit 1) with its own line naming the check: a data dir that is a file, a wrong S3
//! secret, a missing bucket, an unreachable verifier, a missing Tesseract or language, an
//! expired certificate, an HTTP listen address that is not one, an HTTPS listener serving
//! another certificate than the configured one.

use std::path::Path;

use idreview_tests::s3::S3Server;
use idreview_tests::{Daemon, binary};

/// Runs `idreviewd --data-dir DIR doctor` with `env`; returns whether it passed and its lines.
async fn doctor(data_dir: &Path, env: &[(&str, String)]) -> (bool, Vec<String>) {
    let mut command = tokio::process::Command::new(binary("idreviewd"));
    command.arg("--data-dir").arg(data_dir).arg("doctor");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.expect("run idreviewd doctor");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert!(
        output.status.success() || output.status.code() == Some(1),
        "doctor crashed: {output:?}"
    );
    (output.status.success(), lines)
}

/// The line of check `name` (the second column).
fn line<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.split_whitespace().nth(1) == Some(name.split(' ').next().unwrap_or(name)))
        .unwrap_or_else(|| panic!("no {name:?} line in:\n{}", lines.join("\n")))
}

fn assert_fails(lines: &[String], name: &str, says: &str) {
    let line = line(lines, name);
    assert!(
        line.starts_with("FAIL"),
        "{name} should fail:\n{}",
        lines.join("\n")
    );
    assert!(line.contains(says), "{name} should say {says:?}: {line}");
    assert!(line.contains("-- fix:"), "a failure carries a fix: {line}");
    let failed = lines.iter().filter(|l| l.starts_with("FAIL")).count();
    assert_eq!(failed, 1, "only {name} fails:\n{}", lines.join("\n"));
}

/// A self-signed certificate and key for localhost with the given validity years.
fn certificate(dir: &Path, from: i32, until: i32) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    let cert = params.self_signed(&key).expect("self-signed");
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    )
}

/// Settings of a complete set-up: S3, the local provider, a TLS listener.
fn healthy(s3: &S3Server, certs: &Path) -> Vec<(&'static str, String)> {
    let (cert, key) = certificate(certs, 2020, 2090);
    let mut env: Vec<(&str, String)> = s3.daemon_env();
    env.extend([
        ("IDREVIEW__VERIFICATION__PROVIDER", "local".to_string()),
        ("IDREVIEW__RPC__TCP_LISTEN", "127.0.0.1:0".into()),
        ("IDREVIEW__RPC__TLS_CERT", cert),
        ("IDREVIEW__RPC__TLS_KEY", key),
        ("IDREVIEW__METRICS__LISTEN", "127.0.0.1:0".into()),
    ]);
    env
}

/// `env` with `key` set to `value`.
fn with(
    env: &[(&'static str, String)],
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = env.iter().filter(|(k, _)| *k != key).cloned().collect();
    env.push((key, value.to_string()));
    env
}

#[tokio::test]
async fn a_healthy_set_up_passes_and_each_broken_piece_fails_on_its_own_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let s3 = S3Server::start(&tmp.path().join("s3")).await;
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("inbox")).expect("inbox");
    let env = healthy(&s3, tmp.path());

    let (passed, lines) = doctor(&data, &env).await;
    assert!(passed, "a healthy set-up passes:\n{}", lines.join("\n"));
    // A data dir no daemon ran in yet is fine, but said: it may be a typo.
    assert!(
        line(&lines, "data dir").starts_with("warn")
            && line(&lines, "data dir").contains("holds no store"),
        "{}",
        lines.join("\n")
    );
    for name in [
        "config",
        "lock",
        "socket",
        "s3",
        "tesseract",
        "tls",
        "metrics",
    ] {
        assert!(line(&lines, name).starts_with("ok"), "{}", lines.join("\n"));
    }
    assert!(!line(&lines, "inbox").starts_with("FAIL"));
    assert!(
        s3.keys().is_empty(),
        "the probe object is deleted: {:?}",
        s3.keys()
    );

    let secret = with(&env, "IDREVIEW__STORAGE__SECRET_ACCESS_KEY", "wrong-secret");
    let (passed, lines) = doctor(&data, &secret).await;
    assert!(!passed, "{}", lines.join("\n"));
    assert_fails(&lines, "s3", "SignatureDoesNotMatch");

    let bucket = with(&env, "IDREVIEW__STORAGE__BUCKET", "no-such-bucket");
    let (passed, lines) = doctor(&data, &bucket).await;
    assert!(!passed, "{}", lines.join("\n"));
    assert_fails(&lines, "s3", "NoSuchBucket");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut verifier = with(&env, "IDREVIEW__VERIFICATION__PROVIDER", "idanalyzer");
    verifier = with(
        &verifier,
        "IDREVIEW__VERIFICATION__IDANALYZER__API_KEY",
        "key",
    );
    let url = format!("http://127.0.0.1:{port}");
    verifier = with(
        &verifier,
        "IDREVIEW__VERIFICATION__IDANALYZER__BASE_URL",
        &url,
    );
    let (passed, lines) = doctor(&data, &verifier).await;
    assert!(!passed, "{}", lines.join("\n"));
    assert_fails(&lines, "verifier", "unreachable");

    let language = with(&env, "IDREVIEW__VERIFICATION__LOCAL__LANGUAGE", "zzz");
    let (passed, lines) = doctor(&data, &language).await;
    assert!(!passed, "{}", lines.join("\n"));
    assert_fails(&lines, "tesseract", "lacks the language zzz");

    let old = tmp.path().join("old");
    std::fs::create_dir_all(&old).expect("old certs");
    let (cert, key) = certificate(&old, 2019, 2021);
    let expired = with(
        &with(&env, "IDREVIEW__RPC__TLS_CERT", &cert),
        "IDREVIEW__RPC__TLS_KEY",
        &key,
    );
    let (passed, lines) = doctor(&data, &expired).await;
    assert!(!passed, "{}", lines.join("\n"));
    assert_fails(&lines, "tls", "expired on 2021-01-01");

    // Root ignores permissions, so the unwritable data dir is a file where the dir should be.
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("file");
    let (passed, lines) = doctor(&file, &env).await;
    assert!(!passed, "{}", lines.join("\n"));
    assert_fails(&lines, "data dir", "is not a directory");
}

#[tokio::test]
async fn a_running_daemon_is_reported_not_failed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let _daemon = Daemon::start_with(
        tmp.path(),
        &[("IDREVIEW__VERIFICATION__PROVIDER", "manual")],
    )
    .await;
    let env = [("IDREVIEW__VERIFICATION__PROVIDER", "manual".to_string())];
    let (passed, lines) = doctor(tmp.path(), &env).await;
    assert!(passed, "{}", lines.join("\n"));
    assert!(
        line(&lines, "lock").starts_with("warn"),
        "{}",
        lines.join("\n")
    );
    assert!(
        line(&lines, "socket").contains("mode 600"),
        "{}",
        lines.join("\n")
    );
    assert!(
        line(&lines, "data dir").starts_with("ok"),
        "{}",
        lines.join("\n")
    );
    // The socket probe is not a misbehaving client: the daemon logs no warning for it.
    let log = _daemon.log();
    assert!(!log.contains("WARN"), "{log}");
}

#[tokio::test]
async fn a_mistyped_data_dir_and_an_empty_config_are_said_as_they_are() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let typo = tmp.path().join("no-such-dir");
    let mut command = tokio::process::Command::new(binary("idreviewd"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("IDREVIEW__") {
            command.env_remove(key);
        }
    }
    let output = command
        .arg("--data-dir")
        .arg(&typo)
        .args(["--config", "/dev/null", "doctor"])
        .env("IDREVIEW__VERIFICATION__PROVIDER", "manual")
        .output()
        .await
        .expect("run idreviewd doctor");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert_eq!(
        line(&lines, "config"),
        "ok    config     /dev/null over the built-in defaults, overridden by IDREVIEW__VERIFICATION__PROVIDER"
    );
    let dir = line(&lines, "data dir");
    assert!(
        dir.starts_with("warn") && dir.contains("does not exist yet"),
        "{dir}"
    );
    assert!(dir.contains("typo"), "{dir}");
    assert!(!typo.exists(), "doctor creates nothing");
}

#[tokio::test]
async fn the_http_api_is_checked_when_it_is_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let manual = ("IDREVIEW__VERIFICATION__PROVIDER", "manual".to_string());
    let broken = [
        manual.clone(),
        ("IDREVIEW__HTTP__LISTEN", "everywhere".to_string()),
    ];
    let idle = tmp.path().join("idle");
    std::fs::create_dir_all(&idle).expect("data dir");
    let (passed, lines) = doctor(&idle, &broken).await;
    assert!(!passed);
    assert_fails(&lines, "http", "not a host:port");
    let http = idreview_tests::http::HttpDaemon::start(&tmp.path().join("up"), &[]).await;
    let on = [
        manual,
        ("IDREVIEW__HTTP__LISTEN", "127.0.0.1:0".to_string()),
    ];
    let (passed, lines) = doctor(&http.daemon.data_dir, &on).await;
    assert!(passed, "{}", lines.join("\n"));
    let found = line(&lines, "http");
    assert!(
        found.starts_with("ok") && found.contains("answers"),
        "{found}"
    );

    // Beyond loopback: no certificate fails; with one, the running API answers over TLS.
    let everywhere = ("IDREVIEW__HTTP__LISTEN", "0.0.0.0:0".to_string());
    let (passed, lines) = doctor(&idle, std::slice::from_ref(&everywhere)).await;
    assert!(!passed);
    assert_fails(&lines, "http", "beyond loopback");
    let certs = idreview_tests::remote::gen_cert(&tmp.path().join("certs"));
    let cert = certs.dir.join("server.pem").to_string_lossy().into_owned();
    let key = certs.dir.join("server.key").to_string_lossy().into_owned();
    let tls = [
        ("IDREVIEW__VERIFICATION__PROVIDER", "manual".to_string()),
        everywhere,
        ("IDREVIEW__HTTP__TLS_CERT", cert),
        ("IDREVIEW__HTTP__TLS_KEY", key),
    ];
    let env: Vec<(&str, &str)> = tls.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let secure = idreview_tests::Daemon::start_with(&tmp.path().join("tls"), &env).await;
    let (passed, lines) = doctor(&secure.data_dir, &tls).await;
    assert!(passed, "{}", lines.join("\n"));
    let found = line(&lines, "http");
    assert!(
        found.starts_with("ok") && found.contains("answers"),
        "{found}"
    );

    // The configuration now names a new certificate the running daemon has not loaded.
    let renewed = idreview_tests::remote::gen_cert(&tmp.path().join("renewed"));
    let mut stale = tls.clone();
    stale[2].1 = renewed
        .dir
        .join("server.pem")
        .to_string_lossy()
        .into_owned();
    stale[3].1 = renewed
        .dir
        .join("server.key")
        .to_string_lossy()
        .into_owned();
    let (passed, lines) = doctor(&secure.data_dir, &stale).await;
    assert!(!passed);
    assert_fails(&lines, "http", "serves another certificate");
}
