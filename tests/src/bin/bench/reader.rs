//! `bench --local-demo N`: the end-to-end rate with the `local` MRZ reader. N demo submissions
//! (`idreviewd demo`'s documents: a third passports with the zone on the front, the rest ID
//! cards with it on the back, every fourth with a wrong birth-date check digit) are written into
//! the inbox of a fresh data dir, then the release daemon is started on it with
//! `provider = "local"`; the clock runs from the daemon's start to the last submission leaving
//! the work area. Prints one table: rates, the daemon's CPU seconds per submission, the
//! pipeline stages' summed seconds from its metrics, the readers' verdicts and the load.
//!
//! The daemon inherits this process's environment, so `IDREVIEW__VERIFICATION__LOCAL__WORKERS`
//! or `IDREVIEW__INBOX__WORKERS` set here reach it.

use std::path::Path;
use std::time::{Duration, Instant};

use idreview_protocol::transport::context_with_timeout;
use idreview_protocol::{CardFilter, ListQuery};
use idreview_tests::Daemon;

/// The demo writer's seed: the same documents every run.
const SEED: u64 = 42;

/// Clock ticks per second of `/proc/PID/stat`'s CPU times (Linux's USER_HZ).
const TICKS: f64 = 100.0;

/// The daemon's user + system CPU seconds so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) closed by the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the state field.
    (ticks(11) + ticks(12)) / TICKS
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Submissions of `names` still in the inbox or the work area.
fn pending(data_dir: &Path, names: &[String]) -> usize {
    let (inbox, work) = (data_dir.join("inbox"), data_dir.join("work"));
    names
        .iter()
        .filter(|n| inbox.join(n).exists() || work.join(n).exists())
        .count()
}

/// `(sum, count)` of each pipeline stage's seconds in the daemon's Prometheus text.
fn stage_sums(metrics: &str) -> Vec<(String, f64, f64)> {
    let value = |line: &str| {
        line.rsplit_once(' ')
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let mut out: Vec<(String, f64, f64)> = Vec::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("idreview_pipeline_stage_seconds_") else {
            continue;
        };
        let Some(stage) = rest.split('"').nth(1) else {
            continue;
        };
        let entry = match out.iter().position(|(s, _, _)| s == stage) {
            Some(i) => &mut out[i],
            None => {
                out.push((stage.to_string(), 0.0, 0.0));
                out.last_mut().expect("just pushed")
            }
        };
        if rest.starts_with("sum") {
            entry.1 = value(line);
        } else if rest.starts_with("count") {
            entry.2 = value(line);
        }
    }
    out
}

/// Runs the measurement and prints its table.
pub async fn run(n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let inbox = data.join("inbox");
    let written = idreview_daemon::cli::demo::write_demo_submissions(&inbox, n, SEED)
        .expect("write the demo submissions");
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let load_before = load_average();
    let env = [
        ("IDREVIEW__VERIFICATION__PROVIDER", "local"),
        ("IDREVIEW__METRICS__LISTEN", "127.0.0.1:0"),
        ("IDREVIEW__RPC__CALLS_PER_SEC", "1000000"),
        ("IDREVIEW__RPC__CALLS_BURST", "1000000"),
        ("RUST_LOG", "warn"),
    ];
    let started = Instant::now();
    let daemon = Daemon::start_with(data, &env).await;
    let up = started.elapsed();
    let pid = daemon.pid().expect("daemon pid");
    let cpu_up = cpu_seconds(pid);
    let mut first = None;
    loop {
        let left = pending(data, &names);
        if left < names.len() && first.is_none() {
            first = Some(started.elapsed());
        }
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1200),
            "ingestion stalled with {left} left"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let last = started.elapsed();
    let cpu_end = cpu_seconds(pid);
    let load_after = load_average();
    let metrics = match std::fs::read_to_string(data.join("idreviewd.metrics-addr")) {
        Ok(addr) => reqwest::get(format!("http://{}/metrics", addr.trim()))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text"),
        Err(_) => String::new(),
    };
    let client = daemon.client().await;
    let page = client
        .list_cards(
            context_with_timeout(Duration::from_secs(30)),
            ListQuery {
                filter: CardFilter::parse("demo").expect("query"),
                limit: n.max(1) as u32 * 2,
                ..ListQuery::default()
            },
        )
        .await
        .expect("rpc")
        .expect("list");
    let cards = page.cards.len();
    let read = page.cards.iter().filter(|c| c.fields > 0).count();
    let mut statuses: Vec<(String, usize)> = Vec::new();
    for card in &page.cards {
        let status = card.status.to_string();
        match statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, count)) => *count += 1,
            None => statuses.push((status, 1)),
        }
    }
    statuses.sort();
    let statuses = statuses
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let spoiled = n / 4;

    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "idreviewd end to end with the local reader: {n} demo submissions ({} images), {cpus} CPUs, release build",
        n + n * 2 / 3
    );
    println!();
    println!("| measure | result |");
    println!("|---|---|");
    println!(
        "| daemon start to socket answering (engine and templates loaded) | {:.2} s |",
        up.as_secs_f64()
    );
    println!(
        "| daemon start to the first / last card | {:.2} s / {:.2} s |",
        first.unwrap_or_default().as_secs_f64(),
        last.as_secs_f64()
    );
    println!(
        "| submissions/s, daemon start to the last card | **{:.2}/s** |",
        rate(last)
    );
    println!(
        "| submissions/s, socket answering to the last card | {:.2}/s |",
        n as f64 / (last - up).as_secs_f64()
    );
    println!(
        "| daemon CPU seconds per submission (after start-up; start-up {:.2} s) | {:.3} s |",
        cpu_up,
        (cpu_end - cpu_up) / n as f64
    );
    println!(
        "| CPU use while ingesting (of {cpus} cores) | {:.0}% |",
        100.0 * (cpu_end - cpu_up) / (last - up).as_secs_f64() / cpus.max(1) as f64
    );
    for (stage, sum, count) in stage_sums(&metrics) {
        println!(
            "| stage `{stage}`: summed wall seconds / submissions, mean | {sum:.2} s / {count:.0}, {:.3} s |",
            sum / count.max(1.0)
        );
    }
    println!(
        "| cards / with fields read from a zone / by status (every 4th zone is printed invalid: {spoiled}) | {cards} / {read} / {statuses} |"
    );
    println!("| load average before / after (1, 5, 15 min) | {load_before} / {load_after} |");
    drop(client);
    drop(daemon);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_sums_are_read_from_prometheus_text() {
        let text = "# TYPE idreview_pipeline_stage_seconds summary\n\
            idreview_pipeline_stage_seconds{stage=\"verify\",quantile=\"0.5\"} 0.1\n\
            idreview_pipeline_stage_seconds_sum{stage=\"verify\"} 12.5\n\
            idreview_pipeline_stage_seconds_count{stage=\"verify\"} 100\n\
            idreview_pipeline_stage_seconds_sum{stage=\"total\"} 20\n\
            idreview_pipeline_stage_seconds_count{stage=\"total\"} 100\n";
        let sums = stage_sums(text);
        assert_eq!(
            sums,
            vec![
                ("verify".to_string(), 12.5, 100.0),
                ("total".to_string(), 20.0, 100.0)
            ]
        );
    }
}
