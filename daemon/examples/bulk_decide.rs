//! A bulk approval on the store and the card domain alone (no RPC, no daemon): the cost that
//! `bench`'s "bulk approve 10,000 cards" row measures, less the round trip. Repeatable under
//! `valgrind --tool=callgrind` for instruction counts, since other load does not change them.
//!
//! ```sh
//! cargo run --release -p idreview-daemon --example bulk_decide -- /tmp/bulk-100k [REPS]
//! valgrind --tool=callgrind --zero-before='*bulk_decide::measured*' \
//!     --dump-after='*bulk_decide::measured*' target/release/examples/bulk_decide /tmp/bulk-100k 1
//! ```
//!
//! The first run fills the template store (100,000 cards as `idreviewd fill` writes them);
//! every run copies it to a temporary folder, opens it as the daemon does (with the seed view's
//! index), and approves 10,000 cards waiting for review in one call, over their doubts (as
//! `bench` does), `REPS` times with different cards, printing each call's time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use idreview_daemon::card::{Approval, Cards};
use idreview_daemon::config::Config;
use idreview_daemon::store::Store;
use idreview_protocol::{CardFilter, CardRef, Decision, ListQuery};

const CARDS: usize = 100_000;
const BULK: u32 = 10_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let template = args.next().expect("usage: bulk_decide TEMPLATE_DIR [REPS]");
    let reps: u32 = args.next().map_or(3, |r| r.parse().expect("REPS"));
    let template = Path::new(&template);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if !template.join("conf").exists() {
        let store = Store::open(template, 0.8).expect("template store");
        let started = Instant::now();
        rt.block_on(idreview_daemon::cli::fill::fill(&store, CARDS, "bench"))
            .expect("fills");
        eprintln!("filled {CARDS} cards in {:?}", started.elapsed());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(template, dir.path());
    let store = Store::open(dir.path(), 0.8).expect("store");
    let cards = Cards::new(store.clone(), Arc::new(Config::default()));
    let query = ListQuery {
        filter: CardFilter::parse("status:needs_review").expect("query"),
        limit: BULK,
        ..ListQuery::default()
    };
    for _ in 0..reps {
        let refs = store.refs(&query, "bench");
        let cpu = cpu_time();
        let (took, ok) = measured(&rt, &cards, &refs);
        let cpu = cpu_time() - cpu;
        println!(
            "bulk approve {} cards: {ok} ok in {:.1} ms, {:.1} ms of CPU (all threads)",
            refs.len(),
            took.as_secs_f64() * 1000.0,
            cpu.as_secs_f64() * 1000.0
        );
    }
}

/// The measured call (callgrind counts from its start to its end, on every thread).
#[inline(never)]
fn measured(
    rt: &tokio::runtime::Runtime,
    cards: &Cards<Store>,
    refs: &[CardRef],
) -> (Duration, usize) {
    let approval = Approval {
        decision: Decision::Approve,
        reason: "bulk benchmark",
        override_doubts: true,
        person: "bench",
    };
    let started = Instant::now();
    let results = rt.block_on(cards.decide("bench", refs, approval));
    let took = started.elapsed();
    (took, results.iter().filter(|(_, r)| r.is_ok()).count())
}

/// The process's CPU time so far (user and system, every thread): less moved by other load
/// on the machine than the wall clock, which also waits for the disk's flush.
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    #[allow(unsafe_code)]
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}
