//! The daemon benchmark: seeds a store with 100,000 cards, starts the real release daemon on
//! it, and measures ingestion, listing, search, the low-confidence list, a bulk approval and
//! resident memory over the Unix socket. Prints one table from one run.
//!
//! With the HTTP API on (unless `--no-http`), the same table has its rows: the admin list,
//! search and low-confidence page, uploads and a bulk approval over HTTP, measured as the seed
//! stack's own benchmark measures Django (`http.rs`).
//!
//! A second table gives the floors: what one JPEG decode and sled alone cost on the machine.
//!
//! `cargo build --release --workspace --bins && target/release/bench [--cards N] [--ingest N]
//! [--http-uploads N] [--no-http] [--peer results.json]`; `--local-demo N` measures only the
//! end-to-end rate with the local MRZ reader (`reader.rs`).

mod floors;
mod http;
mod peer;
mod reader;

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use idreview_protocol::transport::context_with_timeout;
use idreview_protocol::{
    CardFilter, CardRef, DecideRequest, Decision, IdReviewClient, ListQuery, SortKey,
};
use idreview_tests::fixtures::{manifest, write_manifest, write_submission};
use idreview_tests::http::HttpDaemon;
use idreview_tests::{Daemon, binary};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

/// A 1600x1000 JPEG of about 0.9 MB (textured, so it does not compress away).
fn heavy_jpeg(seed: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32 ^ seed;
    let img = RgbImage::from_fn(1600, 1000, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state & 0x1f) as u8;
        Rgb([
            ((x / 7) as u8).wrapping_add(n),
            ((y / 5) as u8).wrapping_add(n),
            n.wrapping_mul(3),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .expect("encode");
    out.into_inner()
}

/// The daemon at 100,000 cards: ingest, lists, search, the low-confidence queue, a bulk
/// approval and memory over the Unix socket, then the HTTP API's rows; one table from one run,
/// then the floors (what the parts cost alone on this machine).
#[derive(clap::Parser)]
#[command(name = "bench")]
struct Args {
    /// Cards the store is filled with before the daemon starts.
    #[arg(long, default_value_t = 100_000)]
    cards: usize,
    /// Submissions dropped into the inbox at once (front + back 1600x1000 JPEG each).
    #[arg(long, default_value_t = 300)]
    ingest: usize,
    /// Timed uploads over HTTP (4 clients, a user each).
    #[arg(long, default_value_t = 200)]
    http_uploads: usize,
    /// Start the daemon without its HTTP API (as runs before 2026-12-07 did).
    #[arg(long)]
    no_http: bool,
    /// The seed stack's `results.json` from its run on this machine (`peer/run.sh`): prints
    /// our rows beside its as ratios.
    #[arg(long, value_name = "PATH")]
    peer: Option<String>,
    /// Only the end-to-end rate with the local MRZ reader: N demo submissions in the inbox of
    /// a fresh daemon with `provider = "local"`, timed from its start to the last card
    /// (`reader.rs`); nothing else is measured.
    #[arg(long, value_name = "N")]
    local_demo: Option<usize>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Runs `query` `n` times over the socket and returns sorted round-trip times.
async fn time_list(client: &IdReviewClient, query: &ListQuery, n: usize) -> (Vec<Duration>, u64) {
    let mut times = Vec::with_capacity(n);
    let mut total = 0;
    for _ in 0..n {
        let started = Instant::now();
        let page = client
            .list_cards(context_with_timeout(Duration::from_secs(10)), query.clone())
            .await;
        times.push(started.elapsed());
        total = page.expect("rpc").expect("list").total;
    }
    times.sort();
    (times, total)
}

/// Drops `n` front+back submissions at once and waits for every card; returns the elapsed
/// time and each submission's latency from manifest to card.
async fn ingest(daemon: &Daemon, client: &IdReviewClient, n: usize) -> (Duration, Vec<Duration>) {
    let front = heavy_jpeg(1);
    let back = heavy_jpeg(2);
    eprintln!(
        "ingest: front {} KB, back {} KB",
        front.len() / 1024,
        back.len() / 1024
    );
    let staging = daemon.data_dir.join("staging");
    let mut folders = Vec::new();
    for i in 0..n {
        let name = format!("bench-{i:05}");
        let dir = write_submission(
            &staging,
            &name,
            None,
            &[("front.jpg", front.clone()), ("back.jpg", back.clone())],
        );
        folders.push((name, dir));
    }
    let started = Instant::now();
    let mut written = HashMap::new();
    for (name, dir) in &folders {
        write_manifest(dir, &manifest(name, "national_id"));
        std::fs::rename(dir, daemon.inbox().join(name)).expect("move into the inbox");
        written.insert(name.clone(), Instant::now());
    }
    let mut latencies = Vec::new();
    let progress = idreview_daemon::cli::progress::bar(n as u64, "ingest");
    let query = ListQuery {
        filter: CardFilter::parse("status:needs_review bench").expect("query"),
        sort: SortKey::Created,
        descending: true,
        offset: 0,
        limit: 1000,
    };
    while !written.is_empty() {
        let page = client
            .list_cards(context_with_timeout(Duration::from_secs(10)), query.clone())
            .await;
        let now = Instant::now();
        for card in page.expect("rpc").expect("list").cards {
            if let Some(at) = written.remove(&card.user_id) {
                latencies.push(now - at);
                progress.inc(1);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "ingestion stalled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    progress.finish_and_clear();
    latencies.sort();
    (started.elapsed(), latencies)
}

fn seed(data_dir: &Path, cards: usize) -> Duration {
    let started = Instant::now();
    let status = Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["fill", "--count", &cards.to_string(), "--prefix", "user"])
        .status()
        .expect("run idreviewd fill");
    assert!(status.success(), "seeding failed");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    if let Some(n) = args.local_demo {
        reader::run(n).await;
        return;
    }
    let (cards, submissions, http_uploads) = (args.cards, args.ingest, args.http_uploads);
    let with_http = !args.no_http;
    let dir = tempfile::tempdir().expect("tempdir");
    let seeded = seed(dir.path(), cards);

    let started = Instant::now();
    let mut env = vec![
        ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
        ("IDREVIEW__RPC__CALLS_PER_SEC", "1000000"),
        ("IDREVIEW__RPC__CALLS_BURST", "1000000"),
        ("RUST_LOG", "warn,idreview_daemon::memory=debug"),
    ];
    let (daemon, http_base) = if with_http {
        env.extend([
            ("IDREVIEW__HTTP__REQUESTS_PER_SEC", "1000000"),
            ("IDREVIEW__HTTP__REQUESTS_BURST", "1000000"),
        ]);
        let served = HttpDaemon::start(dir.path(), &env).await;
        (served.daemon, Some(served.base))
    } else {
        (Daemon::start_with(dir.path(), &env).await, None)
    };
    let startup = started.elapsed();
    let pid = daemon.pid().expect("daemon pid");
    let rss_start = rss_mib(pid);
    let client = daemon.client().await;

    let (ingest_time, latencies) = ingest(&daemon, &client, submissions).await;
    let rate = submissions as f64 / ingest_time.as_secs_f64();

    let list = ListQuery {
        filter: CardFilter::parse("status:needs_review type:passport").expect("query"),
        sort: SortKey::Created,
        descending: true,
        offset: 0,
        limit: 20,
    };
    let search = ListQuery {
        filter: CardFilter::parse("eriks").expect("query"),
        ..list.clone()
    };
    let low = ListQuery {
        filter: CardFilter::parse("low:yes status:needs_review").expect("query"),
        ..list.clone()
    };
    let _ = time_list(&client, &list, 200).await; // warm up
    let (list_t, list_total) = time_list(&client, &list, 2000).await;
    let (search_t, search_total) = time_list(&client, &search, 2000).await;
    let (low_t, low_total) = time_list(&client, &low, 2000).await;
    let rss_reads = rss_mib(pid);

    // Bulk approve 10,000 cards waiting for review, in one call.
    let mut refs = Vec::new();
    let mut page_query = ListQuery {
        filter: CardFilter::parse("status:needs_review").expect("query"),
        limit: 1000,
        ..ListQuery::default()
    };
    while refs.len() < 10_000 {
        let page = client
            .list_cards(
                context_with_timeout(Duration::from_secs(10)),
                page_query.clone(),
            )
            .await;
        let page = page.expect("rpc").expect("list");
        if page.cards.is_empty() {
            break;
        }
        refs.extend(page.cards.iter().map(|c| CardRef {
            id: c.id,
            expected_version: Some(c.version),
        }));
        page_query.offset += 1000;
    }
    refs.truncate(10_000);
    let bulk_n = refs.len();
    let request = DecideRequest {
        cards: refs,
        decision: Decision::Approve,
        reason: "bulk benchmark".into(),
        // The filled cards have unsure fields: approving them is an override, audited with
        // the doubts it overrode (as a reviewer's would be).
        override_doubts: true,
    };
    let started = Instant::now();
    let results = client
        .decide(context_with_timeout(Duration::from_secs(120)), request)
        .await
        .expect("rpc");
    let bulk = started.elapsed();
    let approved = results.iter().filter(|r| r.result.is_ok()).count();
    let rss_end = rss_mib(pid);
    // What stays once the daemon has been idle a while (its memory janitor runs every 10 s).
    tokio::time::sleep(Duration::from_secs(15)).await;
    let rss_idle = rss_mib(pid);
    let http_rows = match &http_base {
        Some(base) => Some(http::measure(base, &daemon, &client, pid, http_uploads, bulk_n).await),
        None => None,
    };

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "idreviewd benchmark: {cards} seeded cards, {cpus} CPUs, release build, RPC over the Unix socket{}",
        if with_http {
            ", HTTP API on loopback (reqwest, HTTP/1.1 keep-alive)"
        } else {
            " (HTTP API off)"
        }
    );
    println!();
    println!("| measure | result | target |");
    println!("|---|---|---|");
    println!(
        "| seed {cards} cards (store import) | {:.2} s | |",
        seeded.as_secs_f64()
    );
    println!(
        "| daemon start to first answer (index rebuild) | {} | |",
        ms(startup)
    );
    println!(
        "| ingest {submissions} submissions, front + back 1600x1000 JPEG, 1/8-scale JPEG check, local store, manual | {rate:.0} submissions/s; latency p50 {} p99 {} | >= 100/s |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    println!(
        "| list status + type, sort created, page of 20, with total ({list_total}) | p50 {} p99 {} | p99 <= 1 ms |",
        ms(percentile(&list_t, 0.5)),
        ms(percentile(&list_t, 0.99))
    );
    println!(
        "| free-text search \"eriks\" ({search_total} hits) | p50 {} p99 {} | p99 <= 5 ms |",
        ms(percentile(&search_t, 0.5)),
        ms(percentile(&search_t, 0.99))
    );
    println!(
        "| low-confidence cards needing review ({low_total}) | p50 {} p99 {} | p99 <= 1 ms |",
        ms(percentile(&low_t, 0.5)),
        ms(percentile(&low_t, 0.99))
    );
    println!(
        "| bulk approve {bulk_n} cards, durable, with audit ({approved} ok) | {} | <= 100 ms |",
        ms(bulk)
    );
    println!(
        "| daemon resident memory: after start / after reads / after bulk / idle 15 s later | {rss_start:.0} / {rss_reads:.0} / {rss_end:.0} / {rss_idle:.0} MiB | <= 100 MB |"
    );
    if let Some(rows) = &http_rows {
        rows.print();
    }
    drop(client);
    drop(daemon);
    if let Some(path) = &args.peer {
        let ours = peer::Ours {
            list_p50: percentile(&list_t, 0.5),
            list_p99: percentile(&list_t, 0.99),
            search_p99: percentile(&search_t, 0.99),
            low_p99: percentile(&low_t, 0.99),
            bulk,
            ingest_rate: rate,
            rss_reads,
            http: http_rows.as_ref().map(http::Rows::beside_the_seed),
        };
        peer::print(path, &ours);
    }

    let decode = floors::decode(&heavy_jpeg(1), 30);
    let per_submission = 2.0 * decode.as_secs_f64();
    let scaled = floors::scaled_decode(&heavy_jpeg(1), 30);
    let hash = floors::sha256(&heavy_jpeg(1), 30);
    let per_checked = 2.0 * (scaled + hash).as_secs_f64();
    let (reads, writes) = floors::sled_bulk(cards as u64, RECORD_BYTES, bulk_n as u64);
    println!();
    println!("Floors: the parts alone, same machine, right after the run above");
    println!();
    println!("| part alone | result | what it bounds |");
    println!("|---|---|---|");
    println!(
        "| full decode of one 1600x1000 JPEG (zune-jpeg, best of 30) | {} | ingest at most {:.0} submissions/s on {cpus} CPUs doing nothing but decoding |",
        ms(decode),
        cpus as f64 / per_submission
    );
    println!(
        "| 1/8-scale entropy decode of the same JPEG (libjpeg-turbo, best of 30; what validation runs) | {} | ingest at most {:.0} submissions/s on {cpus} CPUs doing nothing but checking |",
        ms(scaled),
        cpus as f64 / (2.0 * scaled.as_secs_f64())
    );
    println!(
        "| SHA-256 of the same JPEG's bytes (best of 30) | {} | with the 1/8-scale check: ingest at most {:.0} submissions/s on {cpus} CPUs doing nothing else |",
        ms(hash),
        cpus as f64 / per_checked
    );
    println!(
        "| sled: {bulk_n} point reads of {cards} records of {RECORD_BYTES} B | {} | |",
        ms(reads)
    );
    println!(
        "| sled: rewrite the same {bulk_n} records in one transaction, flushed | {} | bulk approve at least {} before any audit or index work |",
        ms(writes),
        ms(reads + writes)
    );
    assert_eq!(
        approved, bulk_n,
        "every card of the bulk approval succeeded"
    );
}

/// About the size of a seeded card's stored record (its bincode, length and event seqs).
const RECORD_BYTES: usize = 512;
