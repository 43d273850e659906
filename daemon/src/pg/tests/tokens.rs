//! Tokens in PostgreSQL (`pg/tokens.rs`), with two stores on one database standing for two
//! daemons, and the token rules run on both backends through [`TokenStore`].

use std::sync::Arc;

use idreview_protocol::{Role, TokenSpec};
use tokio::sync::Barrier;

use super::store;
use crate::card::CardStore;
use crate::pg::testdb::TestDb;
use crate::token_store::TokenStore;

fn spec(name: &str, role: Role, user: Option<&str>) -> TokenSpec {
    TokenSpec {
        name: name.into(),
        role,
        expires_days: None,
        user_id: user.map(String::from),
        person: None,
    }
}

/// Every row of `table` as text.
async fn dump(db: &TestDb, table: &str) -> String {
    db.client()
        .await
        .query_one(
            &format!("SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t"),
            &[],
        )
        .await
        .expect("dump")
        .get(0)
}

#[tokio::test]
async fn a_token_made_on_one_daemon_works_on_another_until_revoked_there() {
    let db = TestDb::new().await;
    let (a, b) = (store(&db).await, store(&db).await);
    let new = TokenStore::create_token(&a, &spec("ops", Role::Admin, None), "local:root")
        .await
        .expect("create");
    assert!(new.token.starts_with("idr_") && new.token.len() > 64 + 4);
    let info = TokenStore::authenticate(&b, &new.token)
        .await
        .expect("valid on B");
    assert_eq!((info.name.as_str(), info.role), ("ops", Role::Admin));
    for wrong in [
        format!("{}x", new.token),
        "idr_nope_nope".into(),
        "ops".into(),
    ] {
        assert!(
            TokenStore::authenticate(&b, &wrong).await.is_err(),
            "{wrong}"
        );
    }
    let listed = TokenStore::list_tokens(&a).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used.is_some(), "B's use is recorded");

    TokenStore::revoke_token(&b, &info.id, "local:root")
        .await
        .expect("revoke on B");
    assert!(
        TokenStore::check_token(&a, &info.id).await.is_err(),
        "A refuses the token's next call"
    );
    assert!(TokenStore::authenticate(&a, &new.token).await.is_err());
    assert!(
        TokenStore::revoke_token(&a, &info.id, "t").await.is_err(),
        "revoked once"
    );
    let actions: Vec<String> = a
        .audit_since(0, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["token.created", "token.revoked"]);

    let secret = new.token.rsplit('_').next().expect("secret");
    let stored = format!("{} {}", dump(&db, "tokens").await, dump(&db, "audit").await);
    assert!(stored.contains(&info.id), "the token is stored");
    assert!(!stored.contains(secret), "the secret is never stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemons_creating_one_name_at_once_make_one_token() {
    let db = TestDb::new().await;
    let stores = [store(&db).await, store(&db).await];
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (pg, barrier) = (stores[i % 2].clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            TokenStore::create_token(&pg, &spec("ops", Role::Reviewer, None), "t").await
        }));
    }
    let mut made = 0;
    for task in tasks {
        if task.await.expect("task").is_ok() {
            made += 1;
        }
    }
    assert_eq!(made, 1, "one active token per name");
}

#[tokio::test]
async fn erasure_revokes_and_unbinds_a_users_tokens_and_scrubs_their_events() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let ann = TokenStore::create_token(&pg, &spec("ann-app", Role::Submitter, Some("ann")), "t")
        .await
        .expect("ann");
    TokenStore::create_token(&pg, &spec("bob-app", Role::Submitter, Some("bob")), "t")
        .await
        .expect("bob");
    assert_eq!(
        pg.user_token_identities("ann").await.expect("ids"),
        ["token:ann-app"]
    );

    let (revoked, scrubbed) = pg
        .erase_user_tokens("ann", "local:root", "erasure request 7")
        .await
        .expect("erase");
    assert_eq!((revoked, scrubbed), (1, 1));
    assert!(TokenStore::authenticate(&pg, &ann.token).await.is_err());
    assert!(
        pg.user_token_identities("ann")
            .await
            .expect("ids")
            .is_empty()
    );
    let events = pg.audit_since(0, 10).await.expect("audit");
    let named = |user: &str| {
        events.iter().any(|e| {
            [&e.before, &e.after]
                .iter()
                .any(|s| s.as_deref().is_some_and(|s| s.contains(user)))
        })
    };
    assert!(!named("\"ann\""), "no event names the erased user");
    assert!(named("\"bob\""), "other users' events stay");
    let erased = events.last().expect("erasure event");
    assert_eq!(
        (erased.action.as_str(), erased.reason.as_deref()),
        ("token.erased", Some("erasure request 7"))
    );
}

/// The rules both backends share, through the interface.
async fn rules(tokens: &impl TokenStore) {
    let bound = spec("x", Role::Reviewer, Some("u"));
    assert!(
        tokens.create_token(&bound, "t").await.is_err(),
        "only submitters are bound"
    );
    let unbound = spec("y", Role::Submitter, None);
    assert!(
        tokens.create_token(&unbound, "t").await.is_err(),
        "a submitter needs a user"
    );
    let mut blank = spec("z", Role::Reviewer, None);
    blank.person = Some("  ".into());
    assert!(
        tokens.create_token(&blank, "t").await.is_err(),
        "a person is not blank"
    );
    let mut laptop = spec("alice-laptop", Role::Reviewer, None);
    laptop.person = Some(" alice ".into());
    let first = tokens.create_token(&laptop, "t").await.expect("create");
    assert_eq!(first.info.person(), "alice");
    assert!(
        tokens.create_token(&laptop, "t").await.is_err(),
        "names of active tokens are unique"
    );
    tokens
        .revoke_token(&first.info.id, "t")
        .await
        .expect("revoke");
    let again = tokens
        .create_token(&laptop, "t")
        .await
        .expect("a revoked name is free");
    let all = tokens.list_tokens().await.expect("list");
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [first.info.id.as_str(), again.info.id.as_str()],
        "oldest first"
    );
    assert_eq!(all[1].person(), "alice");
    assert!(tokens.check_token("nope").await.is_err());
}

#[tokio::test]
async fn the_token_rules_are_the_same_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    rules(&crate::store::Store::open(dir.path(), 0.8).expect("open")).await;
    let db = TestDb::new().await;
    rules(&store(&db).await).await;
}
