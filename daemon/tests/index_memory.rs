//! What the in-memory index holds per card, counted by the allocator (dhat's heap statistics)
//! over the cards `idreviewd fill` writes for `bench`: the bound behind the daemon's resident
//! memory at 100,000 cards (issue #19). Each row of the table below is measured apart and must
//! stay under its limit; `cargo test -p idreview-daemon --test index_memory -- --nocapture`
//! prints the bytes.

use idreview_daemon::cli::fill::synthetic;
use idreview_daemon::store::index::Index;
use idreview_protocol::{CardId, Status};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CARDS: usize = 10_000;

fn live_bytes() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// The heap bytes per card an index of [`CARDS`] filled cards holds after the rebuild (and,
/// with `decided`, after a decision on a tenth of them).
fn bytes_per_card(seed_view: bool, decided: bool) -> usize {
    let before = live_bytes();
    let mut index = Index::new(0.8, seed_view);
    let cards: Vec<_> = (0..CARDS)
        .map(|i| synthetic(CardId(i as u64 + 1), i, CARDS, "user"))
        .collect();
    let cards_bytes = live_bytes() - before;
    for card in &cards {
        index.upsert(card);
    }
    index.compact();
    if decided {
        for card in cards.iter().step_by(10) {
            let mut card = card.clone();
            card.status = Status::Approved;
            card.version += 1;
            index.upsert(&card);
        }
    }
    let held = live_bytes() - before - cards_bytes;
    drop(index);
    held / CARDS
}

#[test]
fn an_index_row_stays_small() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rows = bytes_per_card(false, false);
    let with_seed = bytes_per_card(true, false);
    let decided = bytes_per_card(true, true);
    println!(
        "index: {rows} B a card; with the seed view: {with_seed} B; after decisions: {decided} B"
    );
    assert!(rows <= 340, "the summary index holds {rows} B a card");
    assert!(
        with_seed - rows <= 230,
        "the seed view holds {} B a card",
        with_seed - rows
    );
    assert!(
        decided <= with_seed + 40,
        "decisions grew it to {decided} B"
    );
}
