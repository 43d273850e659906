//! `--peer PATH`: the seed stack's numbers from its own benchmark (`results.json`, written by
//! the seed's `peer/run.sh` run right before on the same machine), printed beside this run's as
//! ratios, so one run gives one comparison table.
//!
//! Ratios read "how many times better": the seed's time over ours, our rate over the seed's,
//! the seed's memory over ours (below 1 means we use more).

use std::time::Duration;

use serde_json::Value;

/// This run's numbers that the seed's benchmark also measures.
pub struct Ours {
    pub list_p50: Duration,
    pub list_p99: Duration,
    pub search_p99: Duration,
    pub low_p99: Duration,
    pub bulk: Duration,
    /// Submissions per second through the inbox.
    pub ingest_rate: f64,
    /// Resident MiB after the reads (the seed's figure is one worker after its list queries).
    pub rss_reads: f64,
    pub http: Option<Http>,
}

/// The HTTP rows, when the API was on.
pub struct Http {
    pub list_p99: Duration,
    pub list_serial_rate: f64,
    pub upload_rate: f64,
    pub bulk: Duration,
}

/// What the seed's `results.json` holds for the rows we compare.
struct Seed {
    list_p50_ms: f64,
    list_p99_ms: f64,
    list_serial_rps: f64,
    search_p99_ms: f64,
    low_json_p50_ms: f64,
    low_column_p99_ms: f64,
    bulk_s: f64,
    bulk_http_s: f64,
    ingest_verify: f64,
    ingest_full: f64,
    worker_mib: f64,
}

/// Reads the seed's results, or says why it cannot.
fn read(path: &str) -> Result<Seed, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let number = |pointer: &str| {
        json.pointer(pointer)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{path} has no number at {pointer}"))
    };
    let median = |pointer: &str| -> Result<f64, String> {
        let mut runs: Vec<f64> = json
            .pointer(pointer)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        if runs.is_empty() {
            return Err(format!("{path} has no runs at {pointer}"));
        }
        runs.sort_by(f64::total_cmp);
        // As Python's statistics.median, which the seed's own table prints.
        let mid = runs.len() / 2;
        Ok(match runs.len() % 2 {
            0 => (runs[mid - 1] + runs[mid]) / 2.0,
            _ => runs[mid],
        })
    };
    let worker_kib = json
        .pointer("/http/memory/after_list/workers_kB")
        .and_then(Value::as_object)
        .and_then(|workers| {
            workers
                .values()
                .filter_map(|w| w.get("VmRSS").and_then(Value::as_f64))
                .reduce(f64::max)
        })
        .ok_or_else(|| format!("{path} has no worker memory after the lists"))?;
    let list = "/http/endpoints/list_filter_sort/serial";
    Ok(Seed {
        list_p50_ms: number(&format!("{list}/p50_ms"))?,
        list_p99_ms: number(&format!("{list}/p99_ms"))?,
        list_serial_rps: number(&format!("{list}/serial_rps"))?,
        search_p99_ms: number("/http/endpoints/search_SMITH/serial/p99_ms")?,
        low_json_p50_ms: number("/http/endpoints/low_conf_json/serial/p50_ms")?,
        low_column_p99_ms: number("/http/endpoints/low_conf_column/serial/p99_ms")?,
        bulk_s: median("/bulk/admin_action_s")?,
        bulk_http_s: median("/bulk/http_endpoint_s")?,
        ingest_verify: number("/ingest_verify/submissions_per_s")?,
        ingest_full: number("/ingest_full_decode/submissions_per_s")?,
        worker_mib: worker_kib / 1024.0,
    })
}

/// One row: what it is, the seed's figure, ours, and how many times better ours is.
type Row = (String, String, String, f64);

/// A time row (milliseconds on both sides).
fn time(row: &str, seed_ms: f64, ours: Duration) -> Row {
    let ours_ms = ours.as_secs_f64() * 1000.0;
    let text = |ms: f64| match ms < 10.0 {
        true => format!("{ms:.3} ms"),
        false => format!("{ms:.0} ms"),
    };
    (row.into(), text(seed_ms), text(ours_ms), seed_ms / ours_ms)
}

/// A rate row (per second on both sides).
fn rate(row: &str, seed: f64, ours: f64) -> Row {
    let text = |r: f64| format!("{r:.1}/s");
    (row.into(), text(seed), text(ours), ours / seed)
}

/// Prints the comparison table, or the reason the seed's file could not be read.
pub fn print(path: &str, ours: &Ours) {
    let seed = match read(path) {
        Ok(seed) => seed,
        Err(e) => {
            println!();
            println!("No comparison with the seed's stack: {e}");
            return;
        }
    };
    let mut rows: Vec<Row> = vec![
        time("list p50 (ours over RPC)", seed.list_p50_ms, ours.list_p50),
        time("list p99 (ours over RPC)", seed.list_p99_ms, ours.list_p99),
        time("search p99", seed.search_p99_ms, ours.search_p99),
        time(
            "low-confidence p99 (seed: its indexed column)",
            seed.low_column_p99_ms,
            ours.low_p99,
        ),
        time(
            "low-confidence, the seed's own definition (its JSON scan, p50) vs our p99",
            seed.low_json_p50_ms,
            ours.low_p99,
        ),
        time(
            "bulk approve 10,000, in-process (ours over RPC)",
            seed.bulk_s * 1000.0,
            ours.bulk,
        ),
        rate(
            "ingest, full decode (ours: the inbox)",
            seed.ingest_full,
            ours.ingest_rate,
        ),
        rate(
            "ingest, the seed without its pixel decode",
            seed.ingest_verify,
            ours.ingest_rate,
        ),
        (
            "memory after reads (seed: one worker; ours: the daemon)".into(),
            format!("{:.0} MiB", seed.worker_mib),
            format!("{:.0} MiB", ours.rss_reads),
            seed.worker_mib / ours.rss_reads,
        ),
    ];
    if let Some(http) = &ours.http {
        rows.extend([
            time("HTTP list p99", seed.list_p99_ms, http.list_p99),
            rate(
                "HTTP list, serial requests",
                seed.list_serial_rps,
                http.list_serial_rate,
            ),
            rate(
                "HTTP upload, full decode",
                seed.ingest_full,
                http.upload_rate,
            ),
            time(
                "HTTP bulk approve 10,000",
                seed.bulk_http_s * 1000.0,
                http.bulk,
            ),
        ]);
    }
    println!();
    println!("Beside the seed's stack ({path}, its own run on this machine)");
    println!();
    println!("| row | seed stack | idreview | times better |");
    println!("|---|---|---|---|");
    for (row, seed, ours, ratio) in rows {
        let ratio = match ratio >= 10.0 {
            true => format!("{ratio:.0}x"),
            false => format!("{ratio:.2}x"),
        };
        println!("| {row} | {seed} | {ours} | {ratio} |");
    }
}
