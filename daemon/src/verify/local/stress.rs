//! The stress benchmark: every specimen whose printed zone is valid, scaled so that its zone's
//! characters are 8 to 14 pixels high and harmed one way at a time (see `degrade`), read by
//! the local reader; the fully-right rate per harm and character height, as a Markdown table
//! and a PNG plot. The variants are made in memory from the specimens and their ground truth.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::confusion::parse_direct;
use super::degrade::{self, Harm};
use super::eval::{self, EvalError};
use super::{LocalVerifier, Reading, detect};

/// Character heights (pixels) the specimens are scaled to.
pub const HEIGHTS: [u32; 4] = [8, 10, 12, 14];

/// The reads of one harm at one height.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub right: usize,
    pub total: usize,
    /// Variants whose read passed every check digit with a zone other than the printed one
    /// only in fields no check digit covers (names, codes, a visa's optional data).
    pub wrong_unchecked: usize,
    /// Variants whose read passed every check digit with a number, date or optional data
    /// other than the printed one: a wrong reading the check digits vouch for.
    pub false_valid: usize,
    /// Of those, the ones with every field at 0.8 confidence or more (nothing marked for the
    /// reviewer: the card could be auto-verified).
    pub false_valid_unmarked: usize,
    pub seconds: Vec<f64>,
}

/// Every (harm, height) cell, harms in [`Harm::ALL`] order, heights in [`HEIGHTS`] order.
#[derive(Debug, Clone, Default)]
pub struct StressReport {
    pub cells: Vec<(Harm, u32, Cell)>,
    /// Specimens skipped at a height above their own (the benchmark never enlarges).
    pub skipped: Vec<(String, u32)>,
}

/// Height in pixels of the zone's rows in `img` (about a character's), as the detector sees
/// them; `None` when it finds no zone.
fn row_height(img: &image::DynamicImage) -> Option<f32> {
    detect::find_zones(&detect::ink_image(img))
        .first()
        .map(|z| z.row_height)
}

/// Runs the benchmark over `dir` (as [`eval::evaluate`]), printing progress to stderr.
pub fn stress(reader: &LocalVerifier, dir: &Path) -> Result<StressReport, EvalError> {
    let truths = eval::load_truths(dir)?;
    let mut report = StressReport::default();
    for harm in Harm::ALL {
        for height in HEIGHTS {
            report.cells.push((harm, height, Cell::default()));
        }
    }
    for (n, truth) in truths.iter().enumerate() {
        if truth.check_digits_all_valid != Some(true) {
            continue;
        }
        let bytes = eval::read_image(dir, truth)?;
        let Ok(img) = image::load_from_memory(&bytes) else {
            continue;
        };
        let Some(native) = row_height(&img) else {
            eprintln!("{}: no zone at full size, skipped", truth.file);
            continue;
        };
        for (harm, height, cell) in &mut report.cells {
            let scale = *height as f32 / native;
            if scale > 1.0 {
                if *harm == Harm::None {
                    report.skipped.push((truth.file.clone(), *height));
                }
                continue;
            }
            let seed = (n as u64) << 16 | u64::from(*height) << 8 | *harm as u64;
            let variant = degrade::variant(&img, scale, *harm, seed);
            let started = Instant::now();
            let reading = reader.read(&variant).unwrap_or_else(|_| Reading::default());
            cell.seconds.push(started.elapsed().as_secs_f64());
            let score = eval::score(truth, &reading);
            cell.total += 1;
            if score.fully_right && score.checks_pass {
                cell.right += 1;
            } else if score.checks_pass {
                if checked_fields_agree(&truth.mrz_ground_truth, reading.mrz.as_deref()) {
                    cell.wrong_unchecked += 1;
                } else {
                    cell.false_valid += 1;
                    let marked = reading.fields.iter().any(|f| f.confidence < 0.8);
                    if !marked {
                        cell.false_valid_unmarked += 1;
                    }
                    eprintln!(
                        "stress: {} {} {height} px: valid but wrong{}: {:?}",
                        truth.file,
                        harm.name(),
                        if marked { " (marked)" } else { "" },
                        reading.mrz
                    );
                }
            }
        }
        eprintln!("stress: {} done", truth.file);
    }
    Ok(report)
}

/// Whether the zone read (`read`) and the printed one agree on every field a check digit
/// covers: the document number, the dates, the optional data (but a visa's, which none
/// covers).
fn checked_fields_agree(truth: &[String], read: Option<&str>) -> bool {
    let lines: Vec<String> = read
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    match (parse_direct(truth), parse_direct(&lines)) {
        (Some(t), Some(r)) => {
            let visa = matches!(t.format, mrz::Format::MrvA | mrz::Format::MrvB);
            t.document_number == r.document_number
                && t.document_number_full == r.document_number_full
                && t.date_of_birth == r.date_of_birth
                && t.date_of_expiry == r.date_of_expiry
                && (visa
                    || (t.optional_data_1 == r.optional_data_1
                        && t.optional_data_2 == r.optional_data_2))
        }
        _ => false,
    }
}

impl StressReport {
    /// The fully-right rate per harm (rows) and height (columns), as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "| harm |");
        for h in HEIGHTS {
            let _ = write!(out, " {h} px |");
        }
        let _ = writeln!(out, " all | median s | worst s |");
        let _ = writeln!(out, "|---|{}---|---|---|", "---|".repeat(HEIGHTS.len()));
        for harm in Harm::ALL {
            let cells: Vec<&Cell> = self
                .cells
                .iter()
                .filter(|c| c.0 == harm)
                .map(|c| &c.2)
                .collect();
            let _ = write!(out, "| {} |", harm.name());
            for c in &cells {
                let _ = write!(out, " {}/{} |", c.right, c.total);
            }
            let right: usize = cells.iter().map(|c| c.right).sum();
            let total: usize = cells.iter().map(|c| c.total).sum();
            let mut seconds: Vec<f64> = cells.iter().flat_map(|c| c.seconds.clone()).collect();
            seconds.sort_by(f64::total_cmp);
            let median = seconds.get(seconds.len() / 2).copied().unwrap_or(0.0);
            let worst = seconds.last().copied().unwrap_or(0.0);
            let _ = writeln!(
                out,
                " {right}/{total} ({:.0}%) | {median:.2} | {worst:.2} |",
                100.0 * right as f64 / total.max(1) as f64
            );
        }
        let unchecked: usize = self.cells.iter().map(|c| c.2.wrong_unchecked).sum();
        let false_valid: usize = self.cells.iter().map(|c| c.2.false_valid).sum();
        let unmarked: usize = self.cells.iter().map(|c| c.2.false_valid_unmarked).sum();
        let total: usize = self.cells.iter().map(|c| c.2.total).sum();
        let _ = writeln!(
            out,
            "\nOf {total} reads, every check digit passed on a zone other than the printed one in \
             {unchecked} only in fields no check digit covers (names, codes), and in {false_valid} \
             with a wrong number, date or optional data ({unmarked} of them with every field at \
             0.8 confidence or more, so nothing marked for the reviewer)."
        );
        if !self.skipped.is_empty() {
            let skipped: Vec<String> = self
                .skipped
                .iter()
                .map(|(f, h)| format!("{f} at {h} px"))
                .collect();
            let _ = writeln!(
                out,
                "Not enlarged (printed smaller than the height): {}",
                skipped.join(", ")
            );
        }
        out
    }

    /// Fully-right percentage of `harm` at each height (`None` where nothing was read).
    pub fn series(&self, harm: Harm) -> Vec<(u32, Option<f64>)> {
        self.cells
            .iter()
            .filter(|c| c.0 == harm)
            .map(|(_, h, c)| {
                (
                    *h,
                    (c.total > 0).then(|| 100.0 * c.right as f64 / c.total as f64),
                )
            })
            .collect()
    }
}
