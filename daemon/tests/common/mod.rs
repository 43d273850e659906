//! Shared setup for the provider tests: a temp store and object folder holding one card in
//! `verifying` with stored front and back images, an ID Analyzer look-alike (wiremock) with the
//! JSON fixtures, and the pipeline's verification step run against it.

#![allow(dead_code)]

use std::sync::Arc;

use idreview_daemon::card::Cards;
use idreview_daemon::config::{Config, VerificationConfig};
use idreview_daemon::objects::ObjectStore;
use idreview_daemon::store::Store;
use idreview_daemon::verify::retry::Worker;
use idreview_daemon::verify::{Verifier, stage};
use idreview_protocol::{Card, CardId, DocumentType, FileMeta, FileRole, Status};
use wiremock::MockServer;

pub const API_KEY: &str = "test-key";
pub const FRONT: &[u8] = b"front image bytes";
pub const BACK: &[u8] = b"back image bytes";

/// A fixture answer from `tests/fixtures/idanalyzer/`.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/idanalyzer/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// A national id card in `verifying` without files.
pub fn bare_card(id: CardId) -> Card {
    idreview_protocol::fixtures::card(id.0)
        .user("u")
        .document_type(DocumentType::NationalId)
        .country(None)
        .status(Status::Verifying)
        .source("test")
        .build()
}

/// Everything one test needs.
pub struct Env {
    pub _dir: tempfile::TempDir,
    pub server: MockServer,
    pub store: Store,
    pub objects: ObjectStore,
    pub config: Arc<Config>,
    pub verifier: Verifier,
}

/// A fresh environment; `tune` adjusts the config (timeouts, tries, size cap...).
pub async fn env(tune: impl FnOnce(&mut VerificationConfig)) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = MockServer::start().await;
    let mut config = Config::default();
    let v = &mut config.verification;
    v.provider = "idanalyzer".into();
    v.retry_initial_secs = 0;
    v.idanalyzer.base_url = server.uri();
    v.idanalyzer.api_key = API_KEY.into();
    v.idanalyzer.timeout_secs = 1;
    v.idanalyzer.attempts = 2;
    v.idanalyzer.backoff_ms = 10;
    v.idanalyzer.max_response_bytes = 64 * 1024;
    v.idanalyzer.push_decisions = true;
    tune(v);
    let store = Store::open(&dir.path().join("store"), v.confidence_threshold).expect("store");
    let objects = ObjectStore::local(dir.path().join("objects"));
    let verifier = Verifier::from_config(&config).expect("verifier");
    Env {
        _dir: dir,
        server,
        store,
        objects,
        config: Arc::new(config),
        verifier,
    }
}

impl Env {
    /// Stores a national id card in `verifying`, with both images in the object folder.
    pub async fn card(&self, user: &str) -> Card {
        let id = self.store.next_id().expect("id");
        let mut files = Vec::new();
        for (role, name, bytes) in [
            (FileRole::Front, "front.jpg", FRONT),
            (FileRole::Back, "back.jpg", BACK),
        ] {
            let key = format!("users/{user}/id-card/{id}/{name}");
            let path = self._dir.path().join("objects").join(&key);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, bytes).expect("object");
            files.push(FileMeta {
                role,
                name: name.into(),
                object_key: key,
                sha256: String::new(),
                size: bytes.len() as u64,
                media_type: "image/jpeg".into(),
                dimensions: Some((1200, 800)),
                etag: None,
            });
        }
        let card = Card {
            user_id: user.into(),
            files,
            ..bare_card(id)
        };
        self.store.create(card, "test").await.expect("create")
    }

    /// The pipeline's verification step on `card`, as the pipeline runs it.
    pub async fn verify(&self, card: &Card) -> Card {
        let verification = stage::ask(&self.objects, &self.verifier, card).await;
        self.cards()
            .reverified("idreviewd:pipeline", card, &verification)
            .await
            .expect("recorded")
    }

    /// The card domain over this environment.
    pub fn cards(&self) -> Cards {
        Cards::new(self.store.clone().into(), self.config.clone())
    }

    /// The outbox worker over this environment.
    pub fn worker(&self) -> Worker {
        Worker {
            cards: self.cards(),
            store: self.store.clone().into(),
            objects: self.objects.clone(),
            verifier: self.verifier.clone(),
            config: self.config.clone(),
        }
    }

    pub fn get(&self, id: CardId) -> Card {
        self.store.get(id).expect("read").expect("card exists")
    }

    /// How many calls the look-alike API received.
    pub async fn calls(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }
}
