//! Remote access end to end: the real daemon with TLS on 127.0.0.1 port 0. Nobody without a
//! valid token gets anything, tokens are managed from the command line, and a revocation
//! reaches open connections. Refusals change nothing.

use std::process::Command;

use idreview_protocol::tls::{Trust, connect_tls};
use idreview_protocol::transport::{self, Hello, HelloReply, TransportError};
use idreview_protocol::{IdReviewClient, ListQuery, Role, RpcError};
use idreview_tests::binary;
use idreview_tests::remote::{TlsDaemon, gen_cert};
use tarpc::context::current as ctx;

fn refused(result: Result<impl std::fmt::Debug, TransportError>) -> String {
    match result {
        Err(TransportError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn audit_len(admin: &IdReviewClient) -> usize {
    admin
        .audit_export(ctx(), 0, 10_000)
        .await
        .expect("rpc")
        .expect("export")
        .len()
}

#[tokio::test]
async fn only_valid_tokens_over_trusted_tls_get_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let local = d.daemon.client().await;
    let admin = d.token("ops", Role::Admin, None).await;
    let expired = d.token_with("old", Role::Reviewer, None, Some(0)).await;
    let before = audit_len(&local).await;

    let why = refused(d.connect(None).await);
    assert!(why.contains("token is required"), "{why}");
    let why = refused(d.connect(Some("idr_0000_nope")).await);
    assert!(why.contains("token refused"), "{why}");
    let mut forged = admin.clone();
    forged.pop();
    forged.push('x');
    assert!(refused(d.connect(Some(&forged)).await).contains("token refused"));
    let why = refused(d.connect(Some(&expired)).await);
    assert!(why.contains("expired"), "{why}");

    // A client that speaks another protocol version.
    let mut stream = idreview_protocol::tls::connect_stream(&d.addr, &d.certs.trust())
        .await
        .expect("tls");
    let hello = Hello {
        protocol_version: 9999,
        token: Some(admin.clone()),
        client: "future".into(),
        oldest_protocol_version: 9999,
    };
    transport::write_message(&mut stream, &hello)
        .await
        .expect("send");
    match transport::read_message::<_, HelloReply>(&mut stream).await {
        Ok(HelloReply::Refused(why)) => assert!(why.contains("protocol 9999"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    // A client that does not trust the daemon's certificate: another CA, or a wrong pin.
    let other = gen_cert(&dir.path().join("other-ca"));
    let err = connect_tls(&d.addr, &other.trust(), Some(admin.clone()))
        .await
        .expect_err("untrusted");
    assert!(matches!(err, TransportError::Tls(_)), "{err}");
    let err = connect_tls(
        &d.addr,
        &Trust::Pin(other.fingerprint.clone()),
        Some(admin.clone()),
    )
    .await
    .expect_err("wrong pin");
    assert!(matches!(err, TransportError::Tls(_)), "{err}");

    // The right pin and the right CA both get in, as the token's identity and role.
    let pin = Trust::Pin(d.certs.fingerprint.clone());
    let (_, welcome) = connect_tls(&d.addr, &pin, Some(admin.clone()))
        .await
        .expect("pinned");
    assert_eq!(
        (welcome.identity.as_str(), welcome.role),
        ("token:ops", Role::Admin)
    );
    assert_eq!(audit_len(&local).await, before, "refusals change nothing");
}

fn idreviewd(d: &TlsDaemon, args: &[&str]) -> std::process::Output {
    Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(&d.daemon.data_dir)
        .args(args)
        .output()
        .expect("run idreviewd")
}

#[tokio::test]
async fn tokens_from_the_cli_and_revocation_on_open_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let out = idreviewd(
        &d,
        &["token", "create", "--name", "carol", "--role", "reviewer"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("idr_"), "{token}");
    let (client, welcome) = d.connect(Some(&token)).await.expect("connect");
    assert_eq!(welcome.role, Role::Reviewer);
    client
        .list_cards(ctx(), ListQuery::default())
        .await
        .expect("rpc")
        .expect("allowed");

    let list = idreviewd(&d, &["token", "list"]);
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    let line = list
        .lines()
        .find(|l| l.contains("carol"))
        .expect("listed")
        .to_string();
    assert!(line.contains("active") && !list.contains(&token), "{list}");
    let id = line.split_whitespace().next().expect("id").to_string();

    let out = idreviewd(&d, &["token", "revoke", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = client
        .list_cards(ctx(), ListQuery::default())
        .await
        .expect("rpc");
    assert!(
        matches!(result, Err(RpcError::Unauthenticated(_))),
        "{result:?}"
    );
    assert!(refused(d.connect(Some(&token)).await).contains("revoked"));
    let list = idreviewd(&d, &["token", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("revoked"));

    // Token changes are on the record, with who made them.
    let events = d
        .daemon
        .client()
        .await
        .audit_export(ctx(), 0, 100)
        .await
        .expect("rpc")
        .expect("export");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["token.created", "token.revoked"]);
    assert!(
        events.iter().all(|e| e.actor.starts_with("local:")),
        "{events:?}"
    );
}

#[tokio::test]
async fn tokens_can_be_made_while_the_daemon_is_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut d = TlsDaemon::start(dir.path(), &[]).await;
    assert!(d.daemon.stop());
    let out = idreviewd(
        &d,
        &[
            "token",
            "create",
            "--name",
            "offline",
            "--role",
            "admin",
            "--expires-days",
            "3",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let (_, welcome) = d
        .connect(Some(&token))
        .await
        .expect("the offline token works");
    assert_eq!(welcome.identity, "token:offline");
}

#[tokio::test]
async fn plain_tcp_only_when_allowed_on_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path().join("refused"))
        .env("IDREVIEW__RPC__TCP_LISTEN", "127.0.0.1:0")
        .output()
        .expect("run idreviewd");
    assert!(!out.status.success(), "plain TCP is refused by default");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("allow_plaintext_loopback"), "{err}");

    let daemon = idreview_tests::Daemon::start_with(
        &dir.path().join("plain"),
        &[
            ("IDREVIEW__RPC__TCP_LISTEN", "127.0.0.1:0"),
            ("IDREVIEW__RPC__ALLOW_PLAINTEXT_LOOPBACK", "true"),
        ],
    )
    .await;
    let spec = idreview_protocol::TokenSpec {
        name: "loop".into(),
        role: Role::Reviewer,
        expires_days: None,
        user_id: None,
        person: None,
    };
    let token = daemon
        .client()
        .await
        .create_token(ctx(), spec)
        .await
        .expect("rpc")
        .expect("token")
        .token;
    let addr = daemon.tcp_addr();
    let refused_plain = idreview_protocol::tls::connect_plain(&addr, None).await;
    assert!(refused(refused_plain).contains("token"));
    let (client, _) = idreview_protocol::tls::connect_plain(&addr, Some(token))
        .await
        .expect("plain loopback with a token");
    client
        .list_cards(ctx(), ListQuery::default())
        .await
        .expect("rpc")
        .expect("allowed");
}

#[tokio::test]
async fn remote_admins_manage_tokens_with_the_console_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let admin = d.token("ops", Role::Admin, None).await;
    let ca = d.certs.ca().to_string_lossy().to_string();
    let idreview = |args: &[&str]| {
        Command::new(binary("idreview"))
            .arg("--data-dir")
            .arg(dir.path().join("client"))
            .args(["--connect", &d.addr, "--ca", &ca])
            .args(args)
            .env("IDREVIEW_TOKEN", &admin)
            .output()
            .expect("run idreview")
    };
    let out = idreview(&["token", "create", "--name", "dana", "--role", "reviewer"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (client, welcome) = d.connect(Some(&token)).await.expect("the new token works");
    assert_eq!(welcome.identity, "token:dana");

    let out = idreview(&["token", "list", "--json"]);
    let all: Vec<idreview_protocol::TokenInfo> =
        serde_json::from_slice(&out.stdout).expect("token list --json");
    let dana = all.iter().find(|t| t.name == "dana").expect("listed");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token));

    let out = idreview(&["token", "revoke", &dana.id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = client
        .list_cards(ctx(), ListQuery::default())
        .await
        .expect("rpc");
    assert!(
        matches!(result, Err(RpcError::Unauthenticated(_))),
        "{result:?}"
    );
    let events = d
        .daemon
        .client()
        .await
        .audit_export(ctx(), 0, 100)
        .await
        .expect("rpc")
        .expect("export");
    let by_ops: Vec<&str> = events
        .iter()
        .filter(|e| e.actor == "token:ops")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(by_ops, vec!["token.created", "token.revoked"]);
}
