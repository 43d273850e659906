//! One `idreviewd demo` run on a data dir: numbering that never reuses a user id of an earlier
//! run, and, when a daemon runs there, waiting for what became of each submission.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;

/// How long a run waits for the daemon to take its submissions in (the local reader takes
/// about a second a document in a debug build).
pub const WAIT: Duration = Duration::from_secs(300);

/// What a run wrote, and what became of it when a daemon was there to take it in.
#[derive(Debug)]
pub struct Report {
    pub written: usize,
    pub inbox: PathBuf,
    /// `None` when no daemon runs on the data dir (or `--no-wait`).
    pub outcome: Option<Outcome>,
}

/// Writes `count` demo submissions into the inbox of `config`'s data dir, numbered after
/// earlier runs'; with `wait` and a daemon running there, waits until each became a card or
/// was refused.
pub fn run(config: &Config, count: usize, seed: u64, wait: bool) -> std::io::Result<Report> {
    let data_dir = config.data_dir();
    let inbox = config.inbox_dir();
    std::fs::create_dir_all(&inbox)?;
    let first = first_number(&data_dir, seed);
    let progress = super::progress::bar(count as u64, "writing");
    let written =
        super::demo::write_demo_submissions_with_progress(&inbox, first, count, seed, &progress)?;
    progress.finish_and_clear();
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let last = names
        .iter()
        .filter_map(|n| n.rsplit('-').next()?.parse::<u64>().ok())
        .max();
    if let Some(last) = last {
        remember(&data_dir, seed, last)?;
    }
    let daemon = super::stop::running(&config.pid_file()).is_some();
    let outcome = (wait && daemon).then(|| {
        let progress = super::progress::bar(names.len() as u64, "ingesting");
        let outcome = await_outcome(
            &inbox,
            &config.work_dir(),
            &config.rejected_dir(),
            &names,
            WAIT,
            &progress,
        );
        progress.finish_and_clear();
        outcome
    });
    Ok(Report {
        written: written.len(),
        inbox,
        outcome,
    })
}

/// The first submission number a run with `seed` uses on `data_dir`: after every earlier
/// run's, so that no user id repeats (a repeated one would be refused: one active card per
/// user).
pub fn first_number(data_dir: &Path, seed: u64) -> u64 {
    std::fs::read_to_string(counter(data_dir, seed))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1)
}

/// Remembers that numbers up to `last` are taken.
pub fn remember(data_dir: &Path, seed: u64, last: u64) -> std::io::Result<()> {
    std::fs::write(counter(data_dir, seed), format!("{}\n", last + 1))
}

fn counter(data_dir: &Path, seed: u64) -> PathBuf {
    data_dir.join(format!("demo-{seed}.next"))
}

/// What became of a run's submissions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Taken in: cards now.
    pub cards: usize,
    /// Refused: in `rejected/`, by folder name.
    pub rejected: Vec<String>,
    /// Still in the inbox or the work area when the wait ended.
    pub pending: usize,
}

/// Waits up to `wait` until each of `names` has left the inbox and the work area, ticking
/// `progress` per submission done, and says where they went.
pub fn await_outcome(
    inbox: &Path,
    work: &Path,
    rejected: &Path,
    names: &[String],
    wait: Duration,
    progress: &indicatif::ProgressBar,
) -> Outcome {
    let started = Instant::now();
    loop {
        let pending = names
            .iter()
            .filter(|n| inbox.join(n).exists() || work.join(n).exists())
            .count();
        progress.set_position((names.len() - pending) as u64);
        if pending == 0 || started.elapsed() >= wait {
            let refused: Vec<String> = names
                .iter()
                .filter(|n| rejected.join(n).exists())
                .cloned()
                .collect();
            return Outcome {
                cards: names.len() - pending - refused.len(),
                rejected: refused,
                pending,
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_continue_after_the_last_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(first_number(dir.path(), 7), 1);
        remember(dir.path(), 7, 20).expect("writes");
        assert_eq!(first_number(dir.path(), 7), 21);
        assert_eq!(first_number(dir.path(), 8), 1, "per seed");
    }

    #[test]
    fn outcome_counts_cards_rejections_and_stragglers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let [inbox, work, rejected] = ["inbox", "work", "rejected"].map(|d| dir.path().join(d));
        for d in [&inbox, &work, &rejected] {
            std::fs::create_dir(d).expect("mkdir");
        }
        std::fs::create_dir(rejected.join("b")).expect("mkdir");
        std::fs::create_dir(work.join("c")).expect("mkdir");
        let names = ["a", "b", "c"].map(String::from);
        let outcome = await_outcome(
            &inbox,
            &work,
            &rejected,
            &names,
            Duration::ZERO,
            &indicatif::ProgressBar::hidden(),
        );
        assert_eq!(
            outcome,
            Outcome {
                cards: 1,
                rejected: vec!["b".into()],
                pending: 1
            }
        );
    }
}
