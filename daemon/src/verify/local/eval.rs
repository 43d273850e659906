//! The offline MRZ benchmark: runs the local reader over a folder of specimen images with
//! ground truth (`images_ground_truth.json`) and scores characters, lines, check digits,
//! whole documents and time (wall, and per step of the read), per image and in total.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{LocalError, LocalVerifier, Reading, Timings};

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a ground-truth list: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Local(#[from] LocalError),
}

/// One specimen and its zone as printed.
#[derive(Debug, Deserialize)]
pub struct Truth {
    /// Path relative to the specimen folder.
    pub file: String,
    pub format: String,
    pub mrz_ground_truth: Vec<String>,
    /// Whether the printed zone's check digits are all valid (`None`: not an ICAO zone).
    pub check_digits_all_valid: Option<bool>,
}

/// The result for one image.
#[derive(Debug, Clone)]
pub struct ImageScore {
    pub file: String,
    pub format: String,
    /// Whether the printed zone's check digits are all valid (`None`: not an ICAO zone).
    pub printed_valid: Option<bool>,
    pub chars_matched: usize,
    pub chars_total: usize,
    pub lines_exact: usize,
    pub lines_total: usize,
    /// Every check digit of the read zone passes.
    pub checks_pass: bool,
    /// Every row read exactly as printed.
    pub fully_right: bool,
    pub seconds: f64,
    /// CPU seconds of the whole process over the read (Tesseract's thread included).
    pub cpu_seconds: f64,
    pub timings: Timings,
    pub read: String,
}

/// Scores for every image of a specimen folder.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub images: Vec<ImageScore>,
}

/// The specimens listed in `dir/images_ground_truth.json`.
pub fn load_truths(dir: &Path) -> Result<Vec<Truth>, EvalError> {
    let truth_path = dir.join("images_ground_truth.json");
    let text = std::fs::read_to_string(&truth_path).map_err(|source| EvalError::Read {
        path: truth_path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| EvalError::Json {
        path: truth_path,
        source,
    })
}

/// The bytes of a specimen's image.
pub fn read_image(dir: &Path, truth: &Truth) -> Result<Vec<u8>, EvalError> {
    let path = dir.join(&truth.file);
    std::fs::read(&path).map_err(|source| EvalError::Read { path, source })
}

/// Runs the reader over `dir/images_ground_truth.json` (paths inside it are relative to `dir`).
pub fn evaluate(reader: &LocalVerifier, dir: &Path) -> Result<Report, EvalError> {
    let mut report = Report::default();
    for truth in load_truths(dir)? {
        let bytes = read_image(dir, &truth)?;
        let cpu = cpu_seconds();
        let reading = reader.read(&bytes).unwrap_or_else(|e| {
            tracing::warn!(file = %truth.file, error = %e, "read failed");
            Reading::default()
        });
        let mut scored = score(&truth, &reading);
        scored.cpu_seconds = cpu_seconds() - cpu;
        report.images.push(scored);
    }
    Ok(report)
}

/// CPU seconds this process has used (user and system, all threads), from `/proc/self/stat`
/// (in ticks of 1/100 s, Linux's `USER_HZ`); 0 where that cannot be read.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name, in parentheses, may hold spaces: count fields after its end.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (tick(11), tick(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => 0.0,
    }
}

/// How `reading` compares with the printed zone.
pub fn score(truth: &Truth, reading: &Reading) -> ImageScore {
    let read = reading
        .mrz
        .clone()
        .or_else(|| reading.zone.as_ref().map(|z| z.joined()))
        .unwrap_or_default();
    let read_lines: Vec<&str> = read.lines().collect();
    let concatenated: String = read_lines.concat();
    let mut chars_matched = 0;
    let mut chars_total = 0;
    let mut lines_exact = 0;
    for line in &truth.mrz_ground_truth {
        let len = line.chars().count();
        chars_total += len;
        chars_matched += len.saturating_sub(substring_distance(line, &concatenated));
        if read_lines.contains(&line.as_str()) {
            lines_exact += 1;
        }
    }
    let lines_total = truth.mrz_ground_truth.len();
    ImageScore {
        file: truth.file.trim_start_matches("images/").to_string(),
        format: truth.format.clone(),
        printed_valid: truth.check_digits_all_valid,
        chars_matched,
        chars_total,
        lines_exact,
        lines_total,
        checks_pass: reading.all_checks_pass(),
        fully_right: lines_exact == lines_total && read_lines.len() == lines_total,
        seconds: reading.seconds,
        cpu_seconds: 0.0,
        timings: reading.timings,
        read,
    }
}

/// Edit distance of `needle` against the best-matching substring of `hay`.
fn substring_distance(needle: &str, hay: &str) -> usize {
    let n: Vec<char> = needle.chars().collect();
    let h: Vec<char> = hay.chars().collect();
    // prev[j]: distance of needle[..i] ending at hay[..j]; a free start anywhere in hay.
    let mut prev = vec![0usize; h.len() + 1];
    for (i, nc) in n.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(nc != hc);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev.into_iter().min().unwrap_or(n.len())
}

impl Report {
    /// The per-image table and the totals, as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| image | format | MRZ chars matched | lines exact | all check digits pass | fully right | s |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for s in &self.images {
            let printed = match s.printed_valid {
                Some(true) => "",
                Some(false) => " (printed INVALID)",
                None => " (not ICAO)",
            };
            let _ = writeln!(
                out,
                "| {}{} | {} | {}/{} | {}/{} | {} | {} | {:.2} |",
                s.file,
                printed,
                s.format,
                s.chars_matched,
                s.chars_total,
                s.lines_exact,
                s.lines_total,
                if s.checks_pass { "yes" } else { "no" },
                if s.fully_right { "yes" } else { "no" },
                s.seconds
            );
        }
        let t = self.totals();
        let _ = writeln!(
            out,
            "| **total** | | {}/{} ({:.1}%) | {}/{} | {}/{} valid-printed docs | {}/{} valid-printed docs | {:.2} mean |",
            t.chars_matched,
            t.chars_total,
            100.0 * t.chars_matched as f64 / t.chars_total.max(1) as f64,
            t.lines_exact,
            t.lines_total,
            t.valid_checks_pass,
            t.valid_docs,
            t.valid_fully_right,
            t.valid_docs,
            t.mean_seconds
        );
        let _ = writeln!(
            out,
            "\nPrinted-invalid documents flagged (some check digit fails on the read): {}/{}",
            t.invalid_flagged, t.invalid_docs
        );
        let _ = writeln!(out, "\n{}", self.time_table());
        out
    }

    /// Where the time went: median, mean and worst seconds per step of the read.
    pub fn time_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| step | median s | mean s | worst s |");
        let _ = writeln!(out, "|---|---|---|---|");
        let steps: [Step; 8] = [
            ("decode", |s| s.timings.decode),
            ("locate (ink view, zone search)", |s| s.timings.locate),
            ("binarise (cut, scale, threshold)", |s| s.timings.binarise),
            ("recognise (Tesseract)", |s| s.timings.recognise),
            ("repair (grid, templates, check digits, parse)", |s| {
                s.timings.repair
            }),
            ("other", |s| (s.seconds - s.timings.total()).max(0.0)),
            ("**whole read (wall)**", |s| s.seconds),
            ("**whole read (CPU, all threads)**", |s| s.cpu_seconds),
        ];
        for (name, get) in steps {
            let mut v: Vec<f64> = self.images.iter().map(get).collect();
            v.sort_by(f64::total_cmp);
            let median = v.get(v.len() / 2).copied().unwrap_or(0.0);
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let worst = v.last().copied().unwrap_or(0.0);
            let _ = writeln!(out, "| {name} | {median:.3} | {mean:.3} | {worst:.3} |");
        }
        out
    }

    /// Sums over all images.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in &self.images {
            t.chars_matched += s.chars_matched;
            t.chars_total += s.chars_total;
            t.lines_exact += s.lines_exact;
            t.lines_total += s.lines_total;
            match s.printed_valid {
                Some(true) => {
                    t.valid_docs += 1;
                    t.valid_checks_pass += usize::from(s.checks_pass);
                    t.valid_fully_right += usize::from(s.fully_right && s.checks_pass);
                }
                Some(false) => {
                    t.invalid_docs += 1;
                    t.invalid_flagged += usize::from(!s.checks_pass);
                }
                None => {}
            }
            t.mean_seconds += s.seconds / self.images.len().max(1) as f64;
        }
        t
    }
}

/// A row of the time table: its name and where its seconds come from.
type Step = (&'static str, fn(&ImageScore) -> f64);

/// The benchmark's totals.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub chars_matched: usize,
    pub chars_total: usize,
    pub lines_exact: usize,
    pub lines_total: usize,
    pub valid_docs: usize,
    pub valid_checks_pass: usize,
    pub valid_fully_right: usize,
    pub invalid_docs: usize,
    pub invalid_flagged: usize,
    pub mean_seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_distance_finds_the_best_window() {
        assert_eq!(substring_distance("ABC", "xxABCyy"), 0);
        assert_eq!(substring_distance("ABC", "xxAXCyy"), 1);
        assert_eq!(substring_distance("ABC", ""), 3);
    }
}
