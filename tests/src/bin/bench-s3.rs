//! `bench-s3`: the S3 upload benchmark. Starts the in-process S3 server behind a proxy that adds
//! 100 ms before each request and caps each connection at 10 MiB/s, then times, with the
//! default storage settings: one 1 MiB file; 8 x 1 MiB one after another and all at once; one
//! 50 MiB video as a single PUT and as a parallel multipart upload. Prints one Markdown table.
//!
//! Run: `cargo run --release -p idreview-tests --bin bench-s3`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use idreview_daemon::config::StorageConfig;
use idreview_daemon::objects::{ObjectStore, Upload};
use idreview_tests::s3::S3Server;
use idreview_tests::throttle::Throttle;
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;
const LATENCY: Duration = Duration::from_millis(100);
const RATE: u64 = 10 * MIB;

fn write(dir: &Path, name: &str, len: u64, seed: u64) -> Result<(PathBuf, String)> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, &bytes).with_context(|| format!("write {}", path.display()))?;
    Ok((path, hex::encode(Sha256::digest(&bytes))))
}

async fn put(store: &ObjectStore, key: &str, file: &(PathBuf, String)) -> Result<Duration> {
    let start = Instant::now();
    store
        .put_file(key, &file.0, &file.1, None)
        .await
        .with_context(|| format!("upload {key}"))?;
    Ok(start.elapsed())
}

#[tokio::main]
async fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = S3Server::start(&dir.path().join("s3")).await;
    let proxy = Throttle::start(server.addr, LATENCY, RATE).await;
    let defaults = StorageConfig {
        endpoint_url: Some(proxy.endpoint()),
        ..server.storage_config()
    };
    let store = ObjectStore::from_config(&defaults, PathBuf::new()).await?;
    let single_put = ObjectStore::from_config(
        &StorageConfig {
            multipart_threshold: u64::MAX,
            ..defaults.clone()
        },
        PathBuf::new(),
    )
    .await?;

    let files: Vec<(PathBuf, String)> = (0..8)
        .map(|n| write(dir.path(), &format!("doc{n}.jpg"), MIB, n + 1))
        .collect::<Result<_>>()?;
    let video = write(dir.path(), "selfie.mp4", 50 * MIB, 99)?;

    // Warm-up: credentials, first connection.
    put(&store, "warmup/doc0.jpg", &files[0]).await?;
    let single = put(&store, "single/doc0.jpg", &files[0]).await?;
    let start = Instant::now();
    for (n, file) in files.iter().enumerate() {
        put(&store, &format!("sequential/doc{n}.jpg"), file).await?;
    }
    let sequential = start.elapsed();
    let uploads = files
        .iter()
        .enumerate()
        .map(|(n, (path, sha))| Upload {
            key: format!("concurrent/doc{n}.jpg"),
            path: path.clone(),
            sha256: sha.clone(),
            seen: None,
        })
        .collect();
    let start = Instant::now();
    let results = store.put_many(uploads, defaults.max_workers).await;
    let concurrent = start.elapsed();
    for r in results {
        r.result.with_context(|| format!("upload {}", r.key))?;
    }
    let video_put = put(&single_put, "video/single-put.mp4", &video).await?;
    let video_multipart = put(&store, "video/multipart.mp4", &video).await?;

    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    println!(
        "Through a proxy adding {} ms per request and {} MiB/s per connection; default settings (max_workers = {}, multipart_threshold = {} MiB, part_size = {} MiB).\n",
        LATENCY.as_millis(),
        RATE / MIB,
        defaults.max_workers,
        defaults.multipart_threshold / MIB,
        defaults.part_size / MIB
    );
    println!("| upload | time | ratio |");
    println!("|---|---|---|");
    println!("| 1 file x 1 MiB | {} | 1.00x |", s(single));
    println!(
        "| 8 files x 1 MiB, sequential | {} | {:.2}x single file |",
        s(sequential),
        sequential.as_secs_f64() / single.as_secs_f64()
    );
    println!(
        "| 8 files x 1 MiB, concurrent | {} | {:.2}x single file |",
        s(concurrent),
        concurrent.as_secs_f64() / single.as_secs_f64()
    );
    println!("| 50 MiB video, single PUT | {} | 1.00x |", s(video_put));
    println!(
        "| 50 MiB video, parallel multipart | {} | {:.1}x faster |",
        s(video_multipart),
        video_put.as_secs_f64() / video_multipart.as_secs_f64()
    );
    Ok(())
}
