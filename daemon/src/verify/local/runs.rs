//! The zone search's blobs from runs of ink instead of pixels: a text mask is kept as the
//! horizontal runs of each row, gaps between runs are closed by merging runs (no image is
//! redrawn), and runs touching across rows (8-connectivity) are joined into blobs whose second
//! moments are summed in closed form per run. A row of characters is a few hundred runs where
//! it is tens of thousands of pixels, so trying several gap sizes costs little.

use image::GrayImage;

/// One run of ink in a row: columns `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: u32,
    pub end: u32,
}

/// The ink runs of every row of a mask (ink: any non-zero pixel), top to bottom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runs {
    pub rows: Vec<Vec<Run>>,
}

/// Sums over one blob's pixels: count, x, y, x², y², xy.
pub type Moments = [f64; 6];

impl Runs {
    /// The runs of `mask`.
    pub fn of(mask: &GrayImage) -> Runs {
        let width = mask.width() as usize;
        let rows = mask
            .as_raw()
            .chunks(width.max(1))
            .map(|row| {
                let mut runs = Vec::new();
                let mut start = None;
                for (x, &p) in row.iter().enumerate() {
                    match (p > 0, start) {
                        (true, None) => start = Some(x as u32),
                        (false, Some(s)) => {
                            runs.push(Run {
                                start: s,
                                end: x as u32,
                            });
                            start = None;
                        }
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    runs.push(Run {
                        start: s,
                        end: row.len() as u32,
                    });
                }
                runs
            })
            .collect();
        Runs { rows }
    }

    /// The runs with every horizontal gap of at most `gap - 1` blank pixels closed (the last
    /// ink pixel of one run and the first of the next at most `gap` apart).
    pub fn closed(&self, gap: u32) -> Runs {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let mut out: Vec<Run> = Vec::with_capacity(row.len());
                for &run in row {
                    match out.last_mut() {
                        Some(last) if run.start + 1 - last.end <= gap => last.end = run.end,
                        _ => out.push(run),
                    }
                }
                out
            })
            .collect();
        Runs { rows }
    }

    /// The moments of each 8-connected blob, in the raster order of the blobs' first pixels.
    pub fn blobs(&self) -> Vec<Moments> {
        let offsets: Vec<usize> = self
            .rows
            .iter()
            .scan(0, |n, row| {
                let at = *n;
                *n += row.len();
                Some(at)
            })
            .collect();
        let total = offsets
            .last()
            .map_or(0, |o| o + self.rows[self.rows.len() - 1].len());
        let mut parent: Vec<usize> = (0..total).collect();
        for y in 1..self.rows.len() {
            let (above, here) = (&self.rows[y - 1], &self.rows[y]);
            let mut i = 0;
            for (j, run) in here.iter().enumerate() {
                // Runs above ending before this one starts (diagonals included) touch no later
                // run of this row either.
                while i < above.len() && above[i].end < run.start {
                    i += 1;
                }
                let mut k = i;
                while k < above.len() && above[k].start <= run.end {
                    union(&mut parent, offsets[y - 1] + k, offsets[y] + j);
                    k += 1;
                }
            }
        }
        let mut index = vec![usize::MAX; total];
        let mut out: Vec<Moments> = Vec::new();
        for (y, row) in self.rows.iter().enumerate() {
            for (j, run) in row.iter().enumerate() {
                let root = find(&mut parent, offsets[y] + j);
                if index[root] == usize::MAX {
                    index[root] = out.len();
                    out.push([0.0; 6]);
                }
                add_run(&mut out[index[root]], y as f64, run);
            }
        }
        out
    }
}

/// Adds the pixels of `run` in row `y` to `m`.
fn add_run(m: &mut Moments, y: f64, run: &Run) {
    // Sums of x and x² over 0..k, exact in integers.
    let s1 = |k: u64| k * k.saturating_sub(1) / 2;
    let s2 = |k: u64| k.saturating_sub(1) * k * (2 * k).saturating_sub(1) / 6;
    let (a, b) = (u64::from(run.start), u64::from(run.end));
    let n = (b - a) as f64;
    let sx = (s1(b) - s1(a)) as f64;
    let sxx = (s2(b) - s2(a)) as f64;
    m[0] += n;
    m[1] += sx;
    m[2] += n * y;
    m[3] += sxx;
    m[4] += n * y * y;
    m[5] += sx * y;
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // The earlier run stays the root, so a blob's root is its first run in raster order.
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent[hi] = lo;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageproc::region_labelling::{Connectivity, connected_components};
    use proptest::prelude::*;

    /// The same moments summed pixel by pixel over imageproc's labelling.
    fn by_pixels(mask: &GrayImage) -> Vec<Moments> {
        let labels = connected_components(mask, Connectivity::Eight, image::Luma([0u8]));
        let mut order: Vec<u32> = Vec::new();
        let mut sums: Vec<Moments> = Vec::new();
        for (x, y, p) in labels.enumerate_pixels() {
            let l = p.0[0];
            if l == 0 {
                continue;
            }
            let i = match order.iter().position(|&o| o == l) {
                Some(i) => i,
                None => {
                    order.push(l);
                    sums.push([0.0; 6]);
                    order.len() - 1
                }
            };
            let (x, y) = (f64::from(x), f64::from(y));
            let s = &mut sums[i];
            s[0] += 1.0;
            s[1] += x;
            s[2] += y;
            s[3] += x * x;
            s[4] += y * y;
            s[5] += x * y;
        }
        sums
    }

    /// `mask` with gaps closed pixel by pixel, as the search did before runs.
    fn closed_by_pixels(mask: &GrayImage, gap: u32) -> GrayImage {
        let mut out = mask.clone();
        for y in 0..mask.height() {
            let mut last: Option<u32> = None;
            for x in 0..mask.width() {
                if mask.get_pixel(x, y).0[0] > 0 {
                    if let Some(l) = last
                        && x - l > 1
                        && x - l <= gap
                    {
                        for xx in l + 1..x {
                            out.put_pixel(xx, y, image::Luma([255]));
                        }
                    }
                    last = Some(x);
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn runs_give_the_blobs_pixels_give(
            w in 1u32..40,
            h in 1u32..20,
            bits in prop::collection::vec(prop::bool::weighted(0.35), 800),
            gap in prop::sample::select(vec![1u32, 2, 4, 8]),
        ) {
            // imageproc's labelling (the oracle) panics on a 1x1 image with its pixel set: its
            // union-find is sized by the pixel count and labels start at 1.
            prop_assume!(w * h >= 2);
            let mask = GrayImage::from_fn(w, h, |x, y| {
                image::Luma([if bits[(y * w + x) as usize % bits.len()] { 255 } else { 0 }])
            });
            let filled = closed_by_pixels(&mask, gap);
            prop_assert_eq!(Runs::of(&mask).closed(gap), Runs::of(&filled));
            prop_assert_eq!(Runs::of(&filled).blobs(), by_pixels(&filled));
        }
    }
}
