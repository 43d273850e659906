//! Webhooks end to end: decisions are POSTed, signed with HMAC-SHA256, to a local HTTP
//! receiver; a receiver that is down gets them once it is back, in order, even across a daemon
//! restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use idreview_protocol::{Card, DecideRequest, Decision, IdReviewClient};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, any_version, card_of, wait_for};
use sha2::Sha256;
use tarpc::context::current as ctx;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

const SECRET: &str = "hook-secret";

/// One request the receiver got: lower-case headers and the body.
type Delivery = (HashMap<String, String>, String);

/// A tiny HTTP/1.1 receiver answering 200 to every POST; dropping it takes it down.
struct Receiver {
    /// Where it listens.
    port: u16,
    /// The accept loop; aborting it drops every open connection with it.
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(addr: &str, got: Arc<Mutex<Vec<Delivery>>>) -> Receiver {
        let listener = TcpListener::bind(addr).await.expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let sink = got;
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                connections.spawn(async move {
                    let mut stream = BufReader::new(stream);
                    loop {
                        let mut headers = HashMap::new();
                        let mut line = String::new();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            line.clear();
                            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let Some((k, v)) = line.trim_end().split_once(':') else {
                                break;
                            };
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                        }
                        let len: usize = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0; len];
                        if stream.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        sink.lock()
                            .expect("lock")
                            .push((headers, String::from_utf8_lossy(&body).into_owned()));
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                        if stream.get_mut().write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { port, task }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn hmac(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

async fn start_daemon(dir: &std::path::Path, url: &str) -> Daemon {
    let urls = format!("[\"{url}\"]");
    Daemon::start_with(
        dir,
        &[
            ("IDREVIEW__WEBHOOKS__URLS", &urls),
            ("IDREVIEW__WEBHOOKS__SECRET", SECRET),
            ("IDREVIEW__WEBHOOKS__INITIAL_BACKOFF_MS", "100"),
            ("IDREVIEW__WEBHOOKS__MAX_BACKOFF_SECS", "1"),
        ],
    )
    .await
}

async fn cards(daemon: &Daemon, client: &IdReviewClient, users: &[&str]) -> Vec<Card> {
    for user in users {
        write_submission(
            &daemon.inbox(),
            user,
            Some(&manifest(user, "passport")),
            &[("front.jpg", jpeg(800, 600))],
        );
    }
    let mut out = Vec::new();
    for user in users {
        out.push(wait_for(Duration::from_secs(20), user, || card_of(client, user)).await);
    }
    out
}

async fn decide(client: &IdReviewClient, card: &Card, decision: Decision) {
    let request = DecideRequest {
        cards: vec![any_version(card.id)],
        decision,
        reason: "checked".into(),
        override_doubts: false,
    };
    let results = client.decide(ctx(), request).await.expect("rpc");
    assert!(results[0].result.is_ok(), "{results:?}");
}

async fn delivered(got: &Arc<Mutex<Vec<Delivery>>>, n: usize) -> Vec<Delivery> {
    wait_for(Duration::from_secs(20), "webhook deliveries", || {
        let all = got.lock().expect("lock").clone();
        async move { (all.len() >= n).then_some(all) }
    })
    .await
}

#[tokio::test]
async fn decisions_are_posted_signed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let got = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver::start("127.0.0.1:0", got.clone()).await;
    let url = format!("http://127.0.0.1:{}/hooks", receiver.port);
    let daemon = start_daemon(dir.path(), &url).await;
    let client = daemon.client().await;
    let c = cards(&daemon, &client, &["wes", "xia"]).await;
    decide(&client, &c[0], Decision::Approve).await;
    decide(&client, &c[1], Decision::Reject).await;
    let all = delivered(&got, 2).await;
    let mut seqs = Vec::new();
    for (headers, body) in &all {
        let signature = headers.get("x-idreview-signature").expect("signed");
        assert_eq!(
            *signature,
            format!("sha256={}", hmac(SECRET.as_bytes(), body.as_bytes()))
        );
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        seqs.push(json["seq"].as_u64().expect("seq"));
    }
    let events: Vec<serde_json::Value> = all
        .iter()
        .map(|(_, b)| serde_json::from_str(b).expect("json"))
        .collect();
    assert_eq!(events[0]["event"], "card.approved");
    assert_eq!(events[0]["user_id"], "wes");
    assert_eq!(events[1]["event"], "card.rejected");
    assert_eq!(events[1]["reason"], "checked");
    assert!(seqs[0] < seqs[1]);
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_every_event_even_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The port stays bound (not listening: deliveries are refused) while the receiver is
    // down, so that no other test's receiver is handed it meanwhile.
    let reserved = tokio::net::TcpSocket::new_v4().expect("socket");
    reserved.set_reuseaddr(true).expect("reuseaddr");
    reserved
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("reserve a port");
    let port = reserved.local_addr().expect("addr").port();
    let url = format!("http://127.0.0.1:{port}/hooks");
    let mut daemon = start_daemon(dir.path(), &url).await;
    let client = daemon.client().await;
    let c = cards(&daemon, &client, &["yan", "zoe"]).await;
    decide(&client, &c[0], Decision::Approve).await;
    wait_for(
        Duration::from_secs(10),
        "a failed delivery while down",
        || {
            let failed = daemon.log().contains("webhook delivery failed");
            async move { failed.then_some(()) }
        },
    )
    .await;
    assert!(daemon.stop());

    let daemon = start_daemon(dir.path(), &url).await;
    let client = daemon.client().await;
    decide(&client, &c[1], Decision::Reject).await;
    let got = Arc::new(Mutex::new(Vec::new()));
    drop(reserved);
    let _receiver = Receiver::start(&format!("127.0.0.1:{port}"), got.clone()).await;
    let all = delivered(&got, 2).await;
    let users: Vec<String> = all
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).expect("json")["user_id"].to_string()
        })
        .collect();
    assert_eq!(users, vec!["\"yan\"", "\"zoe\""], "in decision order");
}
