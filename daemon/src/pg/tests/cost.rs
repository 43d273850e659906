//! What the audit counter row costs: single-card changes per second, one writer and eight at
//! once, each writer on cards of its own (so only the counter row is shared). Run by hand:
//! `cargo test -p idreview-daemon --lib pg::tests::cost -- --ignored --nocapture`.

use std::time::Instant;

use idreview_protocol::{CardId, CardRef};

use super::{card, store};
use crate::card::{CardError, CardStore};
use crate::pg::testdb::TestDb;
use crate::store::Change;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement, not a check"]
async fn audit_counter_cost() {
    let db = TestDb::new().await;
    let pg = store(&db).await;
    let per_writer = 200u64;
    for writers in [1u64, 8] {
        let base = writers * 1000;
        for w in 0..writers {
            pg.create(card(base + w, &format!("u{base}-{w}")), "t")
                .await
                .expect("create");
        }
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let pg = pg.clone();
            tasks.push(tokio::spawn(async move {
                let at = CardRef {
                    id: CardId(base + w),
                    expected_version: None,
                };
                for _ in 0..per_writer {
                    pg.change(&[at], "t", |c| {
                        c.verified = !c.verified;
                        Ok::<_, CardError>(Change::new("card.verified"))
                    })
                    .await
                    .expect("change");
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer");
        }
        let secs = start.elapsed().as_secs_f64();
        let n = writers * per_writer;
        println!(
            "{writers} writer(s): {n} changes in {secs:.2} s = {:.0}/s, {:.2} ms each",
            n as f64 / secs,
            secs * 1000.0 / n as f64
        );
    }
}
