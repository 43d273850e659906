//! Accounting for the reliability tests: what became of every submission dropped into a
//! daemon's inbox (exactly one card, or exactly one folder in `rejected/`), and whether every
//! object in the object store belongs to a card and every card's files are stored intact.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use idreview_protocol::{Card, CardFilter, IdReviewClient, ListQuery, Status};
use sha2::{Digest, Sha256};
use tarpc::context;

/// The end state of a data dir: every card (over RPC) and every rejected folder.
#[derive(Debug, Default)]
pub struct Ledger {
    pub cards: Vec<Card>,
    /// Rejected folder name -> (the submission named in its `reason.json`, the rule); `None`
    /// when the folder has no readable `reason.json`.
    pub rejected: BTreeMap<String, Option<(String, String)>>,
}

impl Ledger {
    /// Reads every card through `client` and every folder in `rejected`.
    pub async fn read(client: &IdReviewClient, rejected: &Path) -> Ledger {
        Ledger {
            cards: all_cards(client).await,
            rejected: rejected_folders(rejected),
        }
    }

    /// Waits (up to `timeout`) until `data_dir`'s inbox and work area are empty, no card is
    /// inside the pipeline and `total` submissions have ended, then reads the ledger.
    pub async fn when_settled(
        client: &IdReviewClient,
        data_dir: &Path,
        total: usize,
        timeout: std::time::Duration,
    ) -> Ledger {
        crate::wait_for(timeout, "every submission to end", || async move {
            let busy =
                entries(&data_dir.join("inbox")).len() + entries(&data_dir.join("work")).len();
            if busy > 0 {
                return None;
            }
            let ledger = Ledger::read(client, &data_dir.join("rejected")).await;
            (ledger.in_flight() == 0 && ledger.cards.len() + ledger.rejected.len() >= total)
                .then_some(ledger)
        })
        .await
    }

    /// Whether any card is still inside the pipeline (received, uploading, verifying).
    pub fn in_flight(&self) -> usize {
        use Status::*;
        let busy = |c: &&Card| matches!(c.status, Received | Uploading | Verifying);
        self.cards.iter().filter(busy).count()
    }

    /// How `submission` (the inbox folder name, whose manifest names `user`) ended: one line
    /// per problem. `expect_card`: whether it is valid and must become a card.
    pub fn problems_for(&self, submission: &str, user: &str, expect_card: bool) -> Vec<String> {
        let cards = self
            .cards
            .iter()
            .filter(|c| c.user_id == user || c.source == submission)
            .count();
        let rejections = self
            .rejected
            .values()
            .filter(|r| r.as_ref().is_some_and(|(s, _)| s == submission))
            .count();
        let mut problems = Vec::new();
        match (cards, rejections, expect_card) {
            (1, 0, true) | (0, 1, false) => {}
            _ => problems.push(format!(
                "{submission}: {cards} card(s) and {rejections} rejected folder(s), expected {}",
                if expect_card {
                    "one card"
                } else {
                    "one rejection"
                }
            )),
        }
        problems
    }

    /// Rejected folders without a readable `reason.json`.
    pub fn unexplained_rejections(&self) -> Vec<String> {
        self.rejected
            .iter()
            .filter(|(_, r)| r.is_none())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Compares stored objects (`key -> bytes`) with the cards: every object must be a file of
    /// some card, every card file must be stored with its validated SHA-256.
    pub fn object_problems(&self, objects: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
        let mut owned = BTreeSet::new();
        let mut problems = Vec::new();
        for card in &self.cards {
            for file in &card.files {
                owned.insert(file.object_key.as_str());
                match objects.get(&file.object_key) {
                    None => problems.push(format!("card {} lost {}", card.id, file.object_key)),
                    Some(bytes) if hex::encode(Sha256::digest(bytes)) != file.sha256 => {
                        problems.push(format!("card {}: {} is corrupt", card.id, file.object_key))
                    }
                    Some(_) => {}
                }
            }
        }
        for key in objects.keys() {
            if !owned.contains(key.as_str()) {
                problems.push(format!("orphan object {key}"));
            }
        }
        problems
    }
}

/// Every card, paged through `list_cards` and fetched whole.
pub async fn all_cards(client: &IdReviewClient) -> Vec<Card> {
    let mut ids = Vec::new();
    loop {
        let query = ListQuery {
            filter: CardFilter::default(),
            offset: ids.len() as u64,
            limit: ListQuery::MAX_LIMIT,
            ..ListQuery::default()
        };
        let page = client
            .list_cards(context::current(), query)
            .await
            .expect("rpc")
            .expect("list");
        if page.cards.is_empty() {
            break;
        }
        ids.extend(page.cards.iter().map(|s| s.id));
    }
    let mut cards = Vec::with_capacity(ids.len());
    for id in ids {
        let card = client
            .get_card(context::current(), id)
            .await
            .expect("rpc")
            .expect("card");
        cards.push(card);
    }
    cards
}

/// Rejected folder name -> (submission, rule) from its `reason.json`.
pub fn rejected_folders(rejected: &Path) -> BTreeMap<String, Option<(String, String)>> {
    let Ok(entries) = std::fs::read_dir(rejected) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let reason = std::fs::read_to_string(e.path().join("reason.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|json| {
                    let field = |k: &str| json.get(k)?.as_str().map(str::to_string);
                    Some((field("submission")?, field("rule")?))
                });
            (name, reason)
        })
        .collect()
}

/// Every file below `root`, keyed by its path relative to `root` (an object store's keys);
/// hidden files (in-progress markers of s3s-fs) are skipped.
pub fn files_below(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if !entry.file_name().to_string_lossy().starts_with('.')
                && let Ok(rel) = path.strip_prefix(root)
            {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.insert(rel.to_string_lossy().into_owned(), bytes);
            }
        }
    }
    out
}

/// Names of the entries of `dir` (empty when it is missing).
pub fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
