//! The commands and the console's RPC worker against a fake daemon: the real handshake and
//! tarpc transport on a temporary Unix socket, with canned answers, so the client side is
//! checked end to end without the real daemon.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use futures::StreamExt;
use idreview_protocol::transport::{self, Hello, HelloReply, Welcome};
use idreview_protocol::*;
use idreview_tui::message::{Action, Request};
use idreview_tui::rpc::{Endpoint, spawn_worker};
use tarpc::context::Context;
use tarpc::server::{BaseChannel, Channel};

/// How many cards the fake holds: more than two pages of the largest page.
const CARDS: u64 = 2500;

fn summary(id: u64) -> CardSummary {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    CardSummary {
        id: CardId(id),
        user_id: format!("user-{id}"),
        document_type: DocumentType::Passport,
        country: Some("DE".into()),
        status: Status::NeedsReview,
        verified: false,
        confirmed: false,
        confidence: Some(0.7),
        low_confidence: 1,
        assignee: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

fn card(id: CardId) -> Card {
    let s = summary(id.0);
    Card {
        id,
        user_id: s.user_id,
        document_type: s.document_type,
        country: s.country,
        status: s.status,
        verified: false,
        confirmed: false,
        fields: vec![],
        files: vec![],
        findings: vec![],
        provider: None,
        decision: None,
        assignee: None,
        lease_until: None,
        version: 1,
        source: "inbox".into(),
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

#[derive(Clone)]
struct Fake;

impl IdReview for Fake {
    async fn health(self, _: Context) -> Health {
        Health {
            daemon_version: "fake".into(),
            protocol_version: PROTOCOL_VERSION,
            identity: "tester".into(),
            role: Role::Reviewer,
            cards: CARDS,
            by_status: vec![(Status::NeedsReview, CARDS)],
            provider: "manual".into(),
            uptime_secs: 1,
        }
    }
    async fn list_cards(self, _: Context, query: ListQuery) -> Result<CardPage, RpcError> {
        if query.limit > ListQuery::MAX_LIMIT {
            return Err(RpcError::Invalid(format!(
                "limit {} over the cap",
                query.limit
            )));
        }
        let end = (query.offset + u64::from(query.limit)).min(CARDS);
        let cards = (query.offset..end).map(|i| summary(i + 1)).collect();
        Ok(CardPage {
            total: CARDS,
            offset: query.offset,
            cards,
        })
    }
    async fn get_card(self, _: Context, id: CardId) -> Result<Card, RpcError> {
        match id.0 {
            1..=CARDS => Ok(card(id)),
            _ => Err(RpcError::NotFound(id)),
        }
    }
    async fn card_for_user(self, _: Context, _: String) -> Result<Option<Card>, RpcError> {
        Ok(None)
    }
    async fn onboarding_stage(self, _: Context, _: String) -> Result<OnboardingStage, RpcError> {
        Ok(OnboardingStage::NotStarted)
    }
    async fn decide(self, _: Context, request: DecideRequest) -> Vec<ItemResult> {
        let result = |c: &CardRef| match c.id.0 % 2 {
            0 => Err(RpcError::Conflict {
                id: c.id,
                expected: 1,
                actual: 2,
            }),
            _ => Ok(2),
        };
        request
            .cards
            .iter()
            .map(|c| ItemResult {
                id: c.id,
                result: result(c),
            })
            .collect()
    }
    async fn set_verified(self, _: Context, _: Vec<CardRef>, _: bool) -> Vec<ItemResult> {
        vec![]
    }
    async fn confirm_card(
        self,
        _: Context,
        c: CardRef,
        _: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        Err(RpcError::Forbidden(format!("not for card {}", c.id)))
    }
    async fn correct_fields(
        self,
        _: Context,
        c: CardRef,
        _: Vec<FieldCorrection>,
    ) -> Result<Card, RpcError> {
        Err(RpcError::Forbidden(format!("not for card {}", c.id)))
    }
    async fn low_confidence_cards(
        self,
        _: Context,
        _: u64,
        _: u32,
    ) -> Result<idreview_protocol::LowConfidencePage, RpcError> {
        Err(RpcError::Unavailable("not in the fake daemon".into()))
    }

    async fn file_url(self, _: Context, _: CardId, _: String) -> Result<String, RpcError> {
        Err(RpcError::Unavailable("not in the fake daemon".into()))
    }

    async fn file_bytes(self, _: Context, _: CardId, _: String) -> Result<Vec<u8>, RpcError> {
        Err(RpcError::Unavailable("not in the fake daemon".into()))
    }

    async fn delete_card(self, _: Context, _: CardRef, _: String) -> Result<(), RpcError> {
        Err(RpcError::Unavailable("not in the fake daemon".into()))
    }

    async fn claim_card(self, _: Context, c: CardRef) -> Result<Card, RpcError> {
        Ok(card(c.id))
    }
    async fn release_card(self, _: Context, _: CardId) -> Result<(), RpcError> {
        Ok(())
    }
    async fn changes(self, _: Context, since: u64, _: u32) -> Result<Changes, RpcError> {
        Ok(Changes {
            cursor: since,
            cards: vec![],
            deleted: vec![],
        })
    }
    async fn audit_events(self, _: Context, id: CardId) -> Result<Vec<AuditEvent>, RpcError> {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("date");
        let event = AuditEvent {
            seq: 1,
            card_id: Some(id),
            at,
            actor: "inbox".into(),
            action: "card.created".into(),
            reason: None,
            before: None,
            after: None,
        };
        Ok(vec![event])
    }

    async fn create_token(
        self,
        _: Context,
        _: idreview_protocol::TokenSpec,
    ) -> Result<idreview_protocol::NewToken, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn list_tokens(self, _: Context) -> Result<Vec<idreview_protocol::TokenInfo>, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn revoke_token(
        self,
        _: Context,
        _: String,
    ) -> Result<idreview_protocol::TokenInfo, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn audit_export(self, _: Context, _: u64, _: u32) -> Result<Vec<AuditEvent>, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn begin_upload(
        self,
        _: Context,
        _: idreview_protocol::UploadManifest,
    ) -> Result<u64, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn upload_chunk(
        self,
        _: Context,
        _: u64,
        _: String,
        _: u64,
        _: Vec<u8>,
    ) -> Result<u64, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn finish_upload(self, _: Context, _: u64) -> Result<String, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn export_begin(self, _: Context) -> Result<ExportHeader, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn export_page(
        self,
        _: Context,
        _: u64,
        _: ExportCursor,
    ) -> Result<ExportPage, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }

    async fn erase_user(self, _: Context, _: String, _: String) -> Result<ErasureReport, RpcError> {
        Err(RpcError::Forbidden("fake".into()))
    }
}

/// Serves the fake on `socket` with the real handshake, until the test's runtime ends.
fn serve(socket: &Path) {
    let listener = tokio::net::UnixListener::bind(socket).expect("bind");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let hello: Hello = transport::read_message(&mut stream).await.expect("hello");
                assert_eq!(hello.protocol_version, PROTOCOL_VERSION);
                let welcome = Welcome {
                    identity: "tester".into(),
                    role: Role::Reviewer,
                    daemon_version: "fake".into(),
                    protocol_version: PROTOCOL_VERSION,
                };
                transport::write_message(&mut stream, &HelloReply::Welcome(welcome))
                    .await
                    .expect("reply");
                BaseChannel::with_defaults(transport::transport(stream))
                    .execute(Fake.serve())
                    .for_each(|call| async {
                        tokio::spawn(call);
                    })
                    .await;
            });
        }
    });
}

struct Daemon {
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

fn start() -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("idreviewd.sock");
    serve(&socket);
    Daemon { _dir: dir, socket }
}

/// Runs the real `idreview` binary off the runtime's threads.
async fn idreview(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_idreview"))
            .args(&args)
            .env_remove("IDREVIEW_DATA_DIR")
            .env_remove("IDREVIEW_CONFIG")
            .output()
            .expect("runs idreview")
    })
    .await
    .expect("joins")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_through_every_card_or_stops_at_the_limit() {
    let d = start();
    let socket = d.socket.to_string_lossy().into_owned();
    let out = idreview(&["--socket", &socket, "list", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: CardPage = serde_json::from_slice(&out.stdout).expect("json page");
    assert_eq!(page.total, CARDS);
    assert_eq!(page.cards.len() as u64, CARDS);
    assert_eq!(page.cards.last().map(|c| c.id), Some(CardId(CARDS)));

    let out = idreview(&[
        "--socket",
        &socket,
        "list",
        "--limit",
        "3",
        "--filter",
        "status:needs_review",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "header, 3 rows, count:\n{text}");
    assert!(text.ends_with("3 of 2500 cards\n"), "{text}");

    let out = idreview(&["--socket", &socket, "list", "--filter", "status:done"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--filter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_decide_report_per_card_and_fail_on_any_failure() {
    let d = start();
    let socket = d.socket.to_string_lossy().into_owned();
    let out = idreview(&["--socket", &socket, "show", "7", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["card"]["id"], 7);
    assert_eq!(shown["audit"][0]["action"], "card.created");

    let out = idreview(&["--socket", &socket, "show", "99999"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("card 99999 not found"));

    let out = idreview(&["--socket", &socket, "decide", "1", "3", "--approve"]).await;
    assert!(out.status.success(), "{}", stdout(&out));
    let out = idreview(&[
        "--socket", &socket, "decide", "1", "2", "--reject", "--reason", "blurry",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("FAILED") && text.contains("1 rejected, 1 failed"),
        "{text}"
    );
    let out = idreview(&["--socket", &socket, "decide", "1", "--reject", "--json"]).await;
    assert!(
        !out.status.success(),
        "a reject without a reason is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_console_name_the_socket_when_no_daemon_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_string_lossy().into_owned();
    let out = idreview(&["--data-dir", &data, "list"]).await;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("no daemon at {data}/idreviewd.sock")),
        "{err}"
    );
    assert!(
        err.contains(&format!("start it with `idreviewd --data-dir {data}`")),
        "{err}"
    );
    let out = idreview(&["--data-dir", &data, "--no-spawn"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no daemon at"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_worker_answers_requests_with_actions() {
    let d = start();
    let endpoint = Endpoint {
        socket: d.socket.clone(),
        data_dir: d.socket.parent().map(Path::to_path_buf).unwrap_or_default(),
        token: None,
        timeout: Duration::from_secs(5),
        remote: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let worker = spawn_worker(endpoint, None, tx);
    let query = ListQuery {
        offset: 10,
        limit: 20,
        ..ListQuery::default()
    };
    worker.send(Request::List(query.clone()));
    worker.send(Request::Card(CardId(99999)));
    let mut seen = (false, false, false);
    while let Ok(Some(action)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        match action {
            Action::Connected(w) => seen.0 = w.identity == "tester",
            Action::PageLoaded {
                query: q,
                result: Ok(page),
            } => {
                seen.1 = q == query && page.offset == 10 && page.cards.len() == 20;
            }
            Action::CardLoaded { result: Err(e), .. } => {
                seen.2 = e.to_string() == "card 99999 not found";
            }
            other => panic!("unexpected {other:?}"),
        }
        if seen == (true, true, true) {
            return;
        }
    }
    panic!("missing answers: {seen:?}");
}
