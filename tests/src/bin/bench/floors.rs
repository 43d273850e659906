//! What the parts alone cost, without the daemon around them: one full decode of the benchmark's
//! JPEG, its 1/8-scale entropy decode (what validation runs) and its SHA-256, and sled reading and
//! rewriting 10,000 records in one flushed transaction. They bound
//! what the daemon can reach on the machine: ingesting a submission checks two such images,
//! and a bulk decision reads and rewrites each card once.

use std::time::{Duration, Instant};

use sled::transaction::ConflictableTransactionError;

/// The fastest of `runs` full decodes of `jpeg` to RGB pixels (zune-jpeg, through `image`).
pub fn decode(jpeg: &[u8], runs: usize) -> Duration {
    best_of(runs, || {
        std::hint::black_box(image::load_from_memory(jpeg).expect("decodes"));
    })
}

/// The fastest of `runs` decodes of `jpeg` at 1/8 scale to grey (libjpeg-turbo): every Huffman
/// code of the scans read, each block reduced to its DC coefficient. What intake validation
/// runs on a JPEG instead of the full decode.
pub fn scaled_decode(jpeg: &[u8], runs: usize) -> Duration {
    best_of(runs, || {
        let mut decoder = turbojpeg::Decompressor::new().expect("decompressor");
        let scale = turbojpeg::ScalingFactor::ONE_EIGHTH;
        decoder.set_scaling_factor(scale).expect("scales");
        let header = decoder.read_header(jpeg).expect("header").scaled(scale);
        let mut pixels = vec![0; header.width * header.height];
        let image = turbojpeg::Image {
            pixels: pixels.as_mut_slice(),
            width: header.width,
            pitch: header.width,
            height: header.height,
            format: turbojpeg::PixelFormat::GRAY,
        };
        decoder.decompress(jpeg, image).expect("decodes");
        std::hint::black_box(pixels);
    })
}

/// The fastest of `runs` SHA-256 digests of `bytes` (what validation computes once per file).
pub fn sha256(bytes: &[u8], runs: usize) -> Duration {
    use sha2::Digest;
    best_of(runs, || {
        std::hint::black_box(sha2::Sha256::digest(bytes));
    })
}

fn best_of(runs: usize, mut work: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// sled alone, on a tree of `records` values of `size` bytes written, flushed and reopened:
/// `changed` point reads, then the same keys rewritten in one transaction and flushed. The
/// keys are consecutive, newest first, as a bulk decision over a newest-first page meets them.
pub fn sled_bulk(records: u64, size: usize, changed: u64) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || {
        sled::Config::new()
            .path(dir.path())
            .cache_capacity(32 << 20)
            .open()
            .expect("opens")
    };
    let value = vec![0x5a_u8; size];
    {
        let db = open();
        let tree = db.open_tree("cards").expect("tree");
        for id in 1..=records {
            tree.insert(id.to_be_bytes(), value.as_slice())
                .expect("insert");
        }
        db.flush().expect("flush");
    }
    // sled lets go of its lock once its last background write ends.
    let db = (0..500)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(10));
            sled::Config::new()
                .path(dir.path())
                .cache_capacity(32 << 20)
                .open()
                .ok()
        })
        .unwrap_or_else(open);
    let tree = db.open_tree("cards").expect("tree");
    for item in tree.iter() {
        std::hint::black_box(item.expect("reads"));
    }
    let keys: Vec<[u8; 8]> = (0..changed).map(|i| (records - i).to_be_bytes()).collect();
    let started = Instant::now();
    for key in &keys {
        std::hint::black_box(tree.get(key).expect("get"));
    }
    let reads = started.elapsed();
    let started = Instant::now();
    tree.transaction(|tx| {
        for key in &keys {
            tx.insert(key, value.as_slice())?;
        }
        Ok::<_, ConflictableTransactionError<()>>(())
    })
    .expect("transaction");
    db.flush().expect("flush");
    (reads, started.elapsed())
}
