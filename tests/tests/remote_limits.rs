//! The remote listener under abuse and load: oversized frames and garbage close only their own
//! connection, 200 concurrent clients are all answered, limits refuse clearly, uploads over
//! RPC land in the inbox, and the console's commands work over TLS.

use std::process::Command;
use std::time::Duration;

use idreview_protocol::transport::{self, Hello, HelloReply};
use idreview_protocol::{
    CardRef, DecideRequest, Decision, DocumentType, ListQuery, PROTOCOL_VERSION, Role, RpcError,
    Status, UploadManifest,
};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::remote::TlsDaemon;
use idreview_tests::{binary, card_of, wait_for};
use tarpc::context::current as ctx;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads until the peer closes (or breaks) the connection; false if it stays open for 5 s.
async fn closed(stream: &mut (impl AsyncReadExt + Unpin)) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn oversized_frames_and_garbage_close_only_their_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let token = d.token("rev", Role::Reviewer, None).await;
    let good = d.client(&token).await;

    // Garbage instead of a hello.
    let mut garbage = idreview_protocol::tls::connect_stream(&d.addr, &d.certs.trust())
        .await
        .expect("tls");
    garbage
        .write_all(b"\xff\xff\xff\xffGET / HTTP/1.1\r\n\r\n")
        .await
        .expect("send");
    garbage.flush().await.expect("flush");
    assert!(closed(&mut garbage).await, "garbage closes the connection");

    // A valid hello, then a frame far over the cap.
    let mut big = idreview_protocol::tls::connect_stream(&d.addr, &d.certs.trust())
        .await
        .expect("tls");
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        token: Some(token.clone()),
        client: "test".into(),
        oldest_protocol_version: PROTOCOL_VERSION,
    };
    transport::write_message(&mut big, &hello)
        .await
        .expect("hello");
    let reply: HelloReply = transport::read_message(&mut big).await.expect("reply");
    assert!(matches!(reply, HelloReply::Welcome(_)), "{reply:?}");
    big.write_all(&(200u32 * 1024 * 1024).to_be_bytes())
        .await
        .expect("header");
    big.write_all(&[0u8; 4096]).await.expect("some bytes");
    big.flush().await.expect("flush");
    assert!(
        closed(&mut big).await,
        "an oversized frame closes the connection"
    );

    good.list_cards(ctx(), ListQuery::default())
        .await
        .expect("the other connection still works")
        .expect("allowed");
}

#[tokio::test]
async fn two_hundred_concurrent_connections_read_and_decide() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(
        dir.path(),
        &[
            ("IDREVIEW__RPC__MAX_CONNECTIONS", "400"),
            ("IDREVIEW__RPC__CALLS_BURST", "100000"),
        ],
    )
    .await;
    let local = d.daemon.client().await;
    let users: Vec<String> = (0..20).map(|i| format!("load{i}")).collect();
    for user in &users {
        write_submission(
            &d.daemon.inbox(),
            user,
            Some(&manifest(user, "passport")),
            &[("front.jpg", jpeg(800, 600))],
        );
    }
    let mut cards = Vec::new();
    for user in &users {
        cards.push(wait_for(Duration::from_secs(60), user, || card_of(&local, user)).await);
    }
    let token = d.token("load", Role::Reviewer, None).await;
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let (addr, trust, token) = (d.addr.clone(), d.certs.trust(), token.clone());
        let card = (i < cards.len()).then(|| cards[i].id);
        tasks.push(tokio::spawn(async move {
            let (client, _) = idreview_protocol::tls::connect_tls(&addr, &trust, Some(token))
                .await
                .map_err(|e| format!("connect {i}: {e}"))?;
            let deadline =
                || idreview_protocol::transport::context_with_timeout(Duration::from_secs(60));
            let page = client
                .list_cards(deadline(), ListQuery::default())
                .await
                .map_err(|e| format!("list {i}: {e}"))?
                .map_err(|e| format!("list {i}: {e}"))?;
            if page.total != 20 {
                return Err(format!("list {i}: {} cards", page.total));
            }
            if let Some(id) = card {
                let request = DecideRequest {
                    cards: vec![CardRef {
                        id,
                        expected_version: None,
                    }],
                    decision: Decision::Approve,
                    reason: "load".into(),
                    override_doubts: false,
                };
                let results = client
                    .decide(deadline(), request)
                    .await
                    .map_err(|e| format!("decide {i}: {e}"))?;
                results[0]
                    .result
                    .clone()
                    .map_err(|e| format!("decide {i}: {e}"))?;
            }
            client
                .health(deadline())
                .await
                .map_err(|e| format!("health {i}: {e}"))?;
            Ok::<_, String>(())
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        if let Err(e) = task.await.expect("task") {
            errors.push(e);
        }
    }
    let mut kinds: Vec<String> = errors
        .iter()
        .map(|e| e.split_once(": ").map_or(e.clone(), |(_, k)| k.to_string()))
        .collect();
    kinds.sort();
    kinds.dedup();
    assert!(
        errors.is_empty(),
        "{} failed: {:?}; kinds {kinds:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    let health = local.health(ctx()).await.expect("health");
    let approved = health
        .by_status
        .iter()
        .find(|(s, _)| *s == Status::Approved)
        .map(|(_, n)| *n);
    assert_eq!(approved, Some(20));
}

#[tokio::test]
async fn limits_refuse_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(
        dir.path(),
        &[
            ("IDREVIEW__RPC__MAX_CONNECTIONS", "2"),
            ("IDREVIEW__RPC__CALLS_PER_SEC", "1"),
            ("IDREVIEW__RPC__CALLS_BURST", "3"),
            ("IDREVIEW__RPC__IDLE_TIMEOUT_SECS", "3"),
        ],
    )
    .await;
    let token = d.token("rev", Role::Reviewer, None).await;
    let first = d.client(&token).await;
    let _second = d.client(&token).await;
    let refused = d.connect(Some(&token)).await.err().map(|e| e.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("maximum of 2 connections")),
        "{refused:?}"
    );

    // A burst of 3 at 1 call/s: quick calls run into the limit after the burst.
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        let outcome = first
            .list_cards(ctx(), ListQuery::default())
            .await
            .expect("rpc");
        let limited = outcome.is_err();
        outcomes.push(outcome);
        if limited {
            break;
        }
    }
    assert!(outcomes[..3].iter().all(Result::is_ok), "{outcomes:?}");
    assert!(
        matches!(outcomes.last(), Some(Err(RpcError::RateLimited { retry_after_ms, .. })) if *retry_after_ms > 0),
        "{outcomes:?}"
    );

    // Idle connections are closed, which frees their slots.
    tokio::time::sleep(Duration::from_millis(5000)).await;
    assert!(
        first.health(ctx()).await.is_err(),
        "the idle connection was closed"
    );
    d.connect(Some(&token)).await.expect("a slot is free again");
}

#[tokio::test]
async fn submitters_upload_in_chunks_and_the_pipeline_ingests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let client = d
        .client(&d.token("uma-app", Role::Submitter, Some("uma")).await)
        .await;
    let manifest = UploadManifest {
        user_id: "uma".into(),
        document_type: DocumentType::Passport,
        country: Some("DE".into()),
    };
    let id = client
        .begin_upload(ctx(), manifest)
        .await
        .expect("rpc")
        .expect("begun");
    let image = jpeg(1200, 900);
    let mut offset = 0u64;
    for chunk in image.chunks(image.len() / 3 + 1) {
        offset = client
            .upload_chunk(ctx(), id, "front.jpg".into(), offset, chunk.to_vec())
            .await
            .expect("rpc")
            .expect("chunk");
    }
    assert_eq!(offset, image.len() as u64);
    let wrong = client
        .upload_chunk(ctx(), id, "front.jpg".into(), 5, vec![1])
        .await
        .expect("rpc");
    assert!(matches!(wrong, Err(RpcError::Invalid(_))), "{wrong:?}");
    let sneaky = client
        .upload_chunk(ctx(), id, "../x.jpg".into(), 0, vec![1])
        .await
        .expect("rpc");
    assert!(matches!(sneaky, Err(RpcError::Invalid(_))), "{sneaky:?}");
    let folder = client
        .finish_upload(ctx(), id)
        .await
        .expect("rpc")
        .expect("finished");
    assert!(folder.starts_with("upload-"));
    let card = wait_for(Duration::from_secs(20), "uma's card", || {
        card_of(&client, "uma")
    })
    .await;
    let front = card
        .files
        .iter()
        .find(|f| f.name == "front.jpg")
        .expect("front stored");
    assert_eq!(front.size, image.len() as u64);
}

#[tokio::test]
async fn console_commands_over_tls_and_audit_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(dir.path(), &[]).await;
    let local = d.daemon.client().await;
    write_submission(
        &d.daemon.inbox(),
        "vic",
        Some(&manifest("vic", "passport")),
        &[("front.jpg", jpeg(1000, 700))],
    );
    wait_for(Duration::from_secs(20), "vic", || card_of(&local, "vic")).await;
    let admin_file = dir.path().join("admin.token");
    std::fs::write(&admin_file, d.token("ops", Role::Admin, None).await).expect("token file");
    let reviewer = d.token("rev", Role::Reviewer, None).await;
    let run = |args: &[&str], token: Option<&str>| {
        let mut cmd = Command::new(binary("idreview"));
        cmd.arg("--data-dir").arg(dir.path().join("client"));
        cmd.args(["--connect", &d.addr])
            .args(args)
            .env_remove("IDREVIEW_TOKEN");
        if let Some(token) = token {
            cmd.env("IDREVIEW_TOKEN", token);
        }
        cmd.output().expect("run idreview")
    };
    let ca = d.certs.ca().to_string_lossy().to_string();
    let out = run(&["--ca", &ca, "list", "--json"], Some(&reviewer));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("vic"));

    let file = admin_file.to_string_lossy().to_string();
    let out = run(
        &[
            "--pin",
            &d.certs.fingerprint,
            "--token-file",
            &file,
            "audit",
            "export",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(
        lines.iter().any(|e| e["action"] == "card.created"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|e| e["action"] == "token.created"),
        "{lines:?}"
    );
    let seqs: Vec<u64> = lines.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
    let since = seqs[0].to_string();
    let out = run(
        &[
            "--pin",
            &d.certs.fingerprint,
            "--token-file",
            &file,
            "audit",
            "export",
            "--since",
            &since,
        ],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        lines.len() - 1
    );

    let out = run(&["--ca", &ca, "audit", "export"], Some(&reviewer));
    assert!(!out.status.success(), "a reviewer may not export");
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin"));
    let out = run(&["list"], Some(&reviewer));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca"));
    let out = run(&["--ca", &ca, "list"], None);
    assert!(!out.status.success(), "no token, no entry");
    assert!(String::from_utf8_lossy(&out.stderr).contains("token"));
}
