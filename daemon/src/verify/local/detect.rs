//! Finding the machine-readable zone in a photo or scan and straightening it: a text mask,
//! horizontal gap filling that turns each MRZ row into one long thin blob, blob orientation
//! from second moments (small skew), both quarter turns (90/270-degree photos), and a group of
//! two or three parallel rows of equal length. A zone found is cut out upright, its rows scaled
//! to the height asked for (a small print is enlarged, only that band), from the view it was
//! found in or another view of the same pixels; the 180-degree ambiguity is left to the reader,
//! which tries the crop both ways up.

use image::GrayImage;
use image::imageops;

use super::runs::Runs;
use super::shrink::shrink;

/// Longest side of the downscaled image the search runs on.
const WORK_SIZE: u32 = 1000;
/// Largest crop (width, height) handed to OCR.
const MAX_CROP: (f32, f32) = (3000.0, 600.0);

/// A zone found in an image: where it lies, ready to be cut out upright (or upside down; see
/// the module doc).
#[derive(Debug, Clone)]
pub struct Zone {
    /// Rows the detector saw (2 or 3).
    pub rows: usize,
    /// Degrees the zone was turned to make it horizontal.
    pub angle: f32,
    /// Height of one row in pixels of the input image (about a character's height).
    pub row_height: f32,
    /// Centre, axes (along and across the rows) and half sizes, in input pixels.
    centre: (f32, f32),
    u: (f32, f32),
    v: (f32, f32),
    half_len: f32,
    half_across: f32,
}

impl Zone {
    /// Whether `other`'s centre lies inside this zone (the same band, found twice).
    pub fn overlaps(&self, other: &Zone) -> bool {
        let (dx, dy) = (
            other.centre.0 - self.centre.0,
            other.centre.1 - self.centre.1,
        );
        let along = dx * self.u.0 + dy * self.u.1;
        let across = dx * self.v.0 + dy * self.v.1;
        along.abs() < self.half_len && across.abs() < self.half_across
    }

    /// The zone cut out of `img` (the image it was found in, or another view of the same
    /// pixels) and turned upright, scaled so its rows are `row_height` pixels high; with the
    /// map from the crop back to `img`. `None` when the crop would be absurdly small or large.
    pub fn cut(&self, img: &GrayImage, row_height: f32) -> Option<(GrayImage, Frame)> {
        // A row height misjudged small (a blob thinner than its characters) would ask for a
        // crop too large to read: the crop is held to a size Tesseract reads in one go.
        let zoom = (row_height / self.row_height.max(1.0))
            .min(MAX_CROP.0 / (2.0 * self.half_len).max(1.0))
            .min(MAX_CROP.1 / (2.0 * self.half_across).max(1.0));
        let out_w = (2.0 * self.half_len * zoom).round() as u32;
        let out_h = (2.0 * self.half_across * zoom).round() as u32;
        if out_w < 20 || out_h < 10 {
            return None;
        }
        let (w, h) = (img.width() as f32, img.height() as f32);
        if w < 2.0 || h < 2.0 {
            return None;
        }
        let sample = |x: f32, y: f32| -> u8 {
            let (x, y) = (x.clamp(0.0, w - 1.001), y.clamp(0.0, h - 1.001));
            // Both are clamped non-negative: truncation is the floor.
            let (x0, y0) = (x as u32 as f32, y as u32 as f32);
            let (fx, fy) = (x - x0, y - y0);
            let p = |xx: f32, yy: f32| f32::from(img.get_pixel(xx as u32, yy as u32).0[0]);
            let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1.0, y0) * fx;
            let bottom = p(x0, y0 + 1.0) * (1.0 - fx) + p(x0 + 1.0, y0 + 1.0) * fx;
            (top * (1.0 - fy) + bottom * fy) as u8
        };
        let ((cx, cy), (ux, uy), (vx, vy)) = (self.centre, self.u, self.v);
        let image = GrayImage::from_fn(out_w, out_h, |ox, oy| {
            let a = ox as f32 / zoom - self.half_len;
            let b = oy as f32 / zoom - self.half_across;
            image::Luma([sample(cx + a * ux + b * vx, cy + a * uy + b * vy)])
        });
        let frame = Frame {
            cx,
            cy,
            u: self.u,
            v: self.v,
            zoom,
            half_len: self.half_len,
            half_across: self.half_across,
        };
        Some((image, frame))
    }
}

/// The map from a zone crop's pixels back to the input image: the crop's axes are `u` (along
/// the rows) and `v` (across), centred on (`cx`, `cy`) and scaled by `zoom`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    cx: f32,
    cy: f32,
    u: (f32, f32),
    v: (f32, f32),
    zoom: f32,
    half_len: f32,
    half_across: f32,
}

impl Frame {
    /// The input-image point under crop point (`x`, `y`).
    pub fn input_point(&self, x: f32, y: f32) -> (f32, f32) {
        let a = x / self.zoom - self.half_len;
        let b = y / self.zoom - self.half_across;
        (
            self.cx + a * self.u.0 + b * self.v.0,
            self.cy + a * self.u.1 + b * self.v.1,
        )
    }
}

/// One long blob: a candidate MRZ row.
#[derive(Debug, Clone, Copy)]
struct Row {
    cx: f32,
    cy: f32,
    /// Angle of the major axis, radians, in -pi/2..pi/2.
    theta: f32,
    length: f32,
    thickness: f32,
}

/// The image as the MRZ printer's black ink sees it: each pixel's brightest channel, so that
/// coloured print, backgrounds and annotations (a red box drawn round the zone, a tinted
/// guilloche) turn light while black type stays dark.
pub fn ink_image(img: &image::DynamicImage) -> GrayImage {
    let converted;
    let rgb = match img {
        // Grey is its own brightest channel.
        image::DynamicImage::ImageLuma8(gray) => return gray.clone(),
        image::DynamicImage::ImageRgb8(rgb) => rgb,
        other => {
            converted = other.to_rgb8();
            &converted
        }
    };
    let brightest = rgb
        .as_raw()
        .chunks_exact(3)
        .map(|p| p[0].max(p[1]).max(p[2]))
        .collect();
    GrayImage::from_raw(rgb.width(), rgb.height(), brightest)
        .unwrap_or_else(|| GrayImage::new(rgb.width(), rgb.height()))
}

/// Candidate zones in `img`, most likely first (at most a few).
pub fn find_zones(img: &GrayImage) -> Vec<Zone> {
    let (w, h) = img.dimensions();
    if w < 16 || h < 16 {
        return Vec::new();
    }
    let scale = WORK_SIZE as f32 / w.max(h) as f32;
    let small = shrink(
        img,
        ((w as f32 * scale) as u32).max(1),
        ((h as f32 * scale) as u32).max(1),
    );
    // The mask of the quarter-turned view is the mask turned (the neighbourhood is square).
    let upright = text_mask(&small);
    let mut found: Vec<(f32, Zone)> = Vec::new();
    for quarter in [false, true] {
        let turned;
        let mask = if quarter {
            turned = imageops::rotate90(&upright);
            &turned
        } else {
            &upright
        };
        let runs = Runs::of(mask);
        let mut groups: Vec<(f32, Vec<Row>)> = Vec::new();
        // The widest gap joins a large print's letters across an open pair (`L<`: a stem,
        // then a chevron's point almost a pitch away).
        for gap in [4, 8, 14, 22, 34] {
            let rows = long_rows(&runs.closed(gap), mask);
            groups.extend(group_rows(&rows));
        }
        groups.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (score, group) in groups.into_iter().take(2) {
            if let Some(zone) = place(img, quarter, scale, &group) {
                found.push((score, zone));
            }
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().map(|(_, z)| z).take(2).collect()
}

/// The axis-aligned box (x0, y0, x1, y1) around `points`, clipped to an image of `size`.
pub fn clipped_bounds(points: &[(f32, f32)], size: (u32, u32)) -> (f32, f32, f32, f32) {
    let (w, h) = (size.0 as f32, size.1 as f32);
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &(x, y) in points {
        (x0, y0) = (x0.min(x), y0.min(y));
        (x1, y1) = (x1.max(x), y1.max(y));
    }
    (
        x0.clamp(0.0, w),
        y0.clamp(0.0, h),
        x1.clamp(0.0, w),
        y1.clamp(0.0, h),
    )
}

/// Dark-on-light ink: a pixel clearly darker than its neighbourhood's mean.
fn text_mask(img: &GrayImage) -> GrayImage {
    let mean = imageproc::filter::box_filter(img, 15, 15);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let p = i32::from(img.get_pixel(x, y).0[0]);
        let m = i32::from(mean.get_pixel(x, y).0[0]);
        image::Luma([if p + 18 < m { 255 } else { 0 }])
    })
}

/// Ink runs crossed along the line through (`cx`, `cy`) at angle `theta` over `length`: a row
/// of characters crosses one or more per character, a solid bar or a rule only a few.
fn strokes(raw: &GrayImage, cx: f64, cy: f64, theta: f64, length: f64) -> usize {
    let (dx, dy) = (theta.cos(), theta.sin());
    let mut runs = 0;
    let mut inside = false;
    let mut t = -length / 2.0;
    while t <= length / 2.0 {
        let (x, y) = ((cx + t * dx).round(), (cy + t * dy).round());
        let ink = x >= 0.0
            && y >= 0.0
            && (x as u32) < raw.width()
            && (y as u32) < raw.height()
            && raw.get_pixel(x as u32, y as u32).0[0] > 0;
        if ink && !inside {
            runs += 1;
        }
        inside = ink;
        t += 1.0;
    }
    runs
}

/// Blobs of `filled` (the mask with its gaps closed) long and thin enough to be an MRZ row,
/// from their second moments, that cross many strokes of the unfilled mask `raw`.
fn long_rows(filled: &Runs, raw: &GrayImage) -> Vec<Row> {
    let width = raw.width();
    let mut rows = Vec::new();
    for s in filled.blobs() {
        let n = s[0];
        if n < 200.0 {
            continue;
        }
        let (cx, cy) = (s[1] / n, s[2] / n);
        let sxx = s[3] / n - cx * cx;
        let syy = s[4] / n - cy * cy;
        let sxy = s[5] / n - cx * cy;
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let common = ((sxx - syy).powi(2) / 4.0 + sxy * sxy).sqrt();
        let l1 = (sxx + syy) / 2.0 + common;
        let l2 = ((sxx + syy) / 2.0 - common).max(0.25);
        let length = (12.0 * l1).sqrt();
        let thickness = (12.0 * l2).sqrt();
        let fill = n / (length * thickness);
        if length >= f64::from(width) * 0.2
            && length / thickness >= 9.0
            && theta.abs() <= 0.45
            && fill >= 0.3
            && strokes(raw, cx, cy, theta, length) >= 15
        {
            rows.push(Row {
                cx: cx as f32,
                cy: cy as f32,
                theta: theta as f32,
                length: length as f32,
                thickness: thickness as f32,
            });
        }
    }
    rows
}

/// Groups of 2 or 3 parallel rows of about the same length, stacked at a row's spacing; scored
/// by their total length.
fn group_rows(rows: &[Row]) -> Vec<(f32, Vec<Row>)> {
    let mut groups = Vec::new();
    for (i, seed) in rows.iter().enumerate() {
        let (dx, dy) = (seed.theta.cos(), seed.theta.sin());
        let mut members: Vec<(f32, Row)> = vec![(0.0, *seed)];
        for (j, other) in rows.iter().enumerate() {
            if i == j {
                continue;
            }
            let (ox, oy) = (other.cx - seed.cx, other.cy - seed.cy);
            let along = ox * dx + oy * dy;
            let across = -ox * dy + oy * dx;
            let ratio = other.length / seed.length;
            if (other.theta - seed.theta).abs() < 0.07
                && (0.85..=1.18).contains(&ratio)
                && along.abs() < 0.12 * seed.length
                && across.abs() < 6.0 * seed.thickness
            {
                members.push((across, *other));
            }
        }
        members.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Keep the run of rows around the seed whose neighbours are evenly spaced.
        let pos = members.iter().position(|m| m.0 == 0.0).unwrap_or(0);
        let spacing_ok = |a: f32, b: f32| (1.1..=3.2).contains(&((b - a) / seed.thickness));
        let mut lo = pos;
        while lo > 0 && spacing_ok(members[lo - 1].0, members[lo].0) && pos - lo < 2 {
            lo -= 1;
        }
        let mut hi = pos;
        while hi + 1 < members.len() && spacing_ok(members[hi].0, members[hi + 1].0) && hi - lo < 2
        {
            hi += 1;
        }
        let group: Vec<Row> = members[lo..=hi].iter().map(|m| m.1).collect();
        if group.len() >= 2 {
            let score = group.iter().map(|r| r.length).sum::<f32>();
            groups.push((score, group));
        }
    }
    groups
}

/// Where the group lies in the full-resolution image, its rows running left to right.
fn place(img: &GrayImage, quarter: bool, scale: f32, group: &[Row]) -> Option<Zone> {
    let n = group.len() as f32;
    let theta = group.iter().map(|r| r.theta).sum::<f32>() / n;
    let length = group.iter().map(|r| r.length).fold(0.0, f32::max) / scale;
    let thickness = group.iter().map(|r| r.thickness).sum::<f32>() / n / scale;
    let (mut cx, mut cy) = (
        group.iter().map(|r| r.cx).sum::<f32>() / n / scale,
        group.iter().map(|r| r.cy).sum::<f32>() / n / scale,
    );
    let (dx, dy) = (theta.cos(), theta.sin());
    // The zone spans the union of its rows along the axis (a row's blob may stop short).
    let along: Vec<(f32, f32)> = group
        .iter()
        .map(|r| {
            let a = (r.cx / scale - cx) * dx + (r.cy / scale - cy) * dy;
            (a - r.length / scale / 2.0, a + r.length / scale / 2.0)
        })
        .collect();
    let a_min = along.iter().map(|a| a.0).fold(f32::MAX, f32::min);
    let a_max = along.iter().map(|a| a.1).fold(f32::MIN, f32::max);
    let length = length.max(a_max - a_min);
    let shift = (a_min + a_max) / 2.0;
    cx += shift * dx;
    cy += shift * dy;
    let across: Vec<f32> = group
        .iter()
        .map(|r| -(r.cx / scale - cx) * dy + (r.cy / scale - cy) * dx)
        .collect();
    let spread = across.iter().fold(0.0f32, |m, a| m.max(a.abs()));
    // Back from the quarter-turned view to input coordinates: rotate90 maps (x, y) to
    // (h - 1 - y, x), so the view's (u, v) is the input's (v, h - 1 - u).
    let (mut ux, mut uy, mut vx, mut vy) = (dx, dy, -dy, dx);
    if quarter {
        let h = img.height() as f32;
        (cx, cy) = (cy, h - 1.0 - cx);
        (ux, uy) = (uy, -ux);
        (vx, vy) = (vy, -vx);
    }
    if !thickness.is_finite() || thickness <= 0.0 || !length.is_finite() {
        return None;
    }
    let mut angle = theta.to_degrees();
    if quarter {
        angle += 90.0;
    }
    Some(Zone {
        rows: group.len(),
        angle,
        row_height: thickness,
        centre: (cx, cy),
        u: (ux, uy),
        v: (vx, vy),
        half_len: length / 2.0 + thickness * 2.5,
        half_across: spread + thickness * 1.3,
    })
}
