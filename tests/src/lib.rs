//! Harness for the end-to-end tests: starts the real `idreviewd` binary on a temp data dir,
//! connects over its Unix socket, and writes real submission folders into its inbox.

pub mod fixtures;
pub mod hostile;
pub mod http;
pub mod ledger;
pub mod remote;
pub mod s3;
pub mod throttle;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idreview_protocol::transport::connect_unix;
use idreview_protocol::{CardId, IdReviewClient};

/// A built binary of the workspace: beside the running executable (a benchmark in
/// `target/release/`) or one folder up (a test in `target/debug/deps/`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let here = exe.parent().expect("executable dir");
    let candidates = [here.join(name), here.parent().unwrap_or(here).join(name)];
    let found = candidates.iter().find(|p| p.exists());
    found.cloned().unwrap_or_else(|| {
        panic!(
            "{name} is not built next to {}; run `cargo build --workspace --bins` (add --release for benchmarks) first",
            exe.display()
        )
    })
}

/// Writes `count` synthetic cards (users `PREFIX-00001` and up, a spread of statuses, types
/// and field confidences, each with its audit event) straight into the store of `data_dir`
/// with `idreviewd fill`; no daemon may run on it.
pub fn fill(data_dir: &Path, count: usize, prefix: &str) {
    let out = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["fill", "--count", &count.to_string(), "--prefix", prefix])
        .output()
        .expect("run idreviewd fill");
    assert!(
        out.status.success(),
        "idreviewd fill: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running daemon on its own data dir; killed when dropped.
pub struct Daemon {
    pub data_dir: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    /// Starts `idreviewd --data-dir DIR` with a fast rescan and waits until its socket answers.
    pub async fn start(data_dir: &Path) -> Daemon {
        Self::start_with(data_dir, &[]).await
    }

    /// As [`Daemon::start`], with extra `IDREVIEW__...` environment overrides.
    pub async fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Daemon {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("daemon.log"))
            .expect("daemon log");
        let mut cmd = Command::new(binary("idreviewd"));
        cmd.arg("--data-dir")
            .arg(data_dir)
            .env("IDREVIEW__INBOX__RESCAN_SECS", "1")
            .env("IDREVIEW__INBOX__SETTLE_MS", "100")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn idreviewd");
        let daemon = Daemon {
            data_dir: data_dir.to_path_buf(),
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while connect_unix(&daemon.socket(), None).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "idreviewd did not come up; log:\n{}",
                daemon.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        daemon
    }

    /// The daemon's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn socket(&self) -> PathBuf {
        self.data_dir.join("idreviewd.sock")
    }

    pub fn inbox(&self) -> PathBuf {
        self.data_dir.join("inbox")
    }

    pub fn rejected(&self) -> PathBuf {
        self.data_dir.join("rejected")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("daemon.log")).unwrap_or_default()
    }

    /// A fresh RPC client.
    pub async fn client(&self) -> IdReviewClient {
        connect_unix(&self.socket(), None)
            .await
            .expect("connect to idreviewd")
            .0
    }

    /// Waits up to `timeout` for the daemon to exit by itself; whether it exited successfully,
    /// or `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status.success());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for a clean exit; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- idreviewd log ({}) ---\n{}",
                self.data_dir.display(),
                self.log()
            );
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` until it yields a value or `timeout` passes.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The card of `user`, once it has left the pipeline (needs review or later).
pub async fn card_of(client: &IdReviewClient, user: &str) -> Option<idreview_protocol::Card> {
    let card = client
        .card_for_user(tarpc::context::current(), user.to_string())
        .await
        .ok()?
        .ok()??;
    use idreview_protocol::Status::*;
    matches!(
        card.status,
        NeedsReview | AutoVerified | Approved | Rejected
    )
    .then_some(card)
}

/// The ids of the newest `n` cards matching `filter` (the query language), newest first: the
/// console's default order.
pub async fn newest(client: &IdReviewClient, filter: &str, n: u32) -> Vec<CardId> {
    let query = idreview_protocol::ListQuery {
        filter: idreview_protocol::CardFilter::parse(filter).expect("filter parses"),
        sort: idreview_protocol::SortKey::Created,
        descending: true,
        offset: 0,
        limit: n,
    };
    let page = client
        .list_cards(tarpc::context::current(), query)
        .await
        .expect("rpc")
        .expect("lists");
    page.cards.iter().map(|c| c.id).collect()
}

/// Card `id` as the daemon has it now.
pub async fn card(client: &IdReviewClient, id: CardId) -> idreview_protocol::Card {
    client
        .get_card(tarpc::context::current(), id)
        .await
        .expect("rpc")
        .expect("card")
}

/// The rule in `rejected/<name>/reason.json`, once it is there.
pub fn rejected_rule(rejected: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(rejected.join(name).join("reason.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("rule")?.as_str().map(str::to_string)
}

/// Shorthand for a card reference without a version check.
pub fn any_version(id: CardId) -> idreview_protocol::CardRef {
    idreview_protocol::CardRef {
        id,
        expected_version: None,
    }
}

/// A reference to each card at the version it was read at (a change based on that read).
pub fn refs_at(cards: &[idreview_protocol::Card]) -> Vec<idreview_protocol::CardRef> {
    cards
        .iter()
        .map(|c| idreview_protocol::CardRef {
            id: c.id,
            expected_version: Some(c.version),
        })
        .collect()
}

/// Decides each card in its own call, in the given order, naming the version read before.
pub async fn decide_each(
    client: IdReviewClient,
    cards: Vec<idreview_protocol::CardRef>,
    decision: idreview_protocol::Decision,
) -> Vec<idreview_protocol::ItemResult> {
    let mut results = Vec::new();
    for card in cards {
        let request = idreview_protocol::DecideRequest {
            cards: vec![card],
            decision,
            reason: "checked".into(),
            override_doubts: false,
        };
        let mut answer = client
            .decide(tarpc::context::current(), request)
            .await
            .expect("rpc");
        results.push(answer.pop().expect("one result"));
    }
    results
}
