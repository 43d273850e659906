//! The PostgreSQL store against a real PostgreSQL, a fresh database per test (`testdb.rs`):
//! each guarantee the card domain relies on (`guarantees.rs`), and the domain itself run on
//! it, beside sled (`domain.rs`).

mod cost;
mod domain;
mod follow;
mod guarantees;
mod queue;
mod tokens;

use idreview_protocol::{Card, CardId, Status};

use super::PgStore;
use super::testdb::TestDb;
use crate::store::StoreError;

/// A store on `db`, migrated.
async fn store(db: &TestDb) -> PgStore {
    PgStore::connect_with(db.config(), 16)
        .await
        .expect("connect and migrate")
}

/// A card `id` of `user` in review, with one file of its own.
fn card(id: u64, user: &str) -> Card {
    let mut c = crate::card::state::tests::card(Status::NeedsReview);
    c.id = CardId(id);
    c.user_id = user.into();
    c.files = vec![idreview_protocol::fixtures::file(
        idreview_protocol::FileRole::Front,
        "front.jpg",
        &format!("users/{user}/{id}/front.jpg"),
    )];
    c.files[0].sha256 = format!("{id:064x}");
    c
}

/// Every audit seq, in order.
async fn seqs(db: &TestDb) -> Vec<i64> {
    db.client()
        .await
        .query("SELECT seq FROM audit ORDER BY seq", &[])
        .await
        .expect("seqs")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
#[should_panic(expected = "no PostgreSQL answers")]
async fn no_server_fails_the_test_loudly() {
    TestDb::on("host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2").await;
}

#[tokio::test]
async fn daemons_starting_together_migrate_once() {
    let db = TestDb::new().await;
    let (a, b) = tokio::join!(
        PgStore::connect_with(db.config(), 2),
        PgStore::connect_with(db.config(), 2)
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    let migrations = super::embedded::migrations::runner().get_migrations().len();
    let newest = i32::try_from(migrations).expect("few");
    assert_eq!(a.schema_version().await.expect("version"), newest);
    assert_eq!(b.schema_version().await.expect("version"), newest);
    let applied: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .await
        .expect("history")
        .get(0);
    assert_eq!(
        applied as usize, migrations,
        "each migration is applied once"
    );
}

#[tokio::test]
async fn a_bad_url_never_shows_its_password() {
    let url = crate::secret::Secret::new("postgres://ann:hunter2@127.0.0.1:notaport/db");
    let err = match PgStore::connect(&url, 1).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a bad port connects"),
    };
    assert!(!err.contains("hunter2"), "{err}");
    let url = crate::secret::Secret::new("postgres://ann:hunter2@127.0.0.1:1/db");
    let err = match PgStore::connect(&url, 1).await {
        Err(e) => StoreError::from(e).to_string(),
        Ok(_) => panic!("nothing listens on port 1"),
    };
    assert!(!err.contains("hunter2"), "{err}");
}
