//! The stress benchmark as a picture: fully-right rate against character height, one line per
//! harm, drawn with `plotters` into a PNG. Text is set in the OCR-B face the reader already
//! needs (`fonts-ocr-b`), so no system font lookup is involved.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::degrade::Harm;
use super::render::OCRB_FONT;
use super::stress::{HEIGHTS, StressReport};

/// Why the plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot load the font {path}: {source}")]
    Font {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot draw the plot: {0}")]
    Draw(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: image::ImageError,
    },
}

/// Registers OCR-B as plotters' `sans-serif`, once.
fn font() -> Result<(), PlotError> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let bytes = std::fs::read(OCRB_FONT).map_err(|e| e.to_string())?;
            // plotters keeps fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| "not a usable font".to_string())
        })
        .clone()
        .map_err(|e| PlotError::Font {
            path: OCRB_FONT.into(),
            source: std::io::Error::other(e),
        })
}

/// Draws `report` into a PNG at `path`.
pub fn plot(report: &StressReport, path: &Path) -> Result<(), PlotError> {
    font()?;
    let (w, h) = (900u32, 560u32);
    let mut buffer = vec![255u8; (w * h * 3) as usize];
    draw(report, &mut buffer, (w, h)).map_err(PlotError::Draw)?;
    let img = image::RgbImage::from_raw(w, h, buffer)
        .ok_or_else(|| PlotError::Draw("buffer size".into()))?;
    img.save(path).map_err(|source| PlotError::Write {
        path: path.display().to_string(),
        source,
    })
}

fn draw(report: &StressReport, buffer: &mut [u8], size: (u32, u32)) -> Result<(), String> {
    let root = BitMapBackend::with_buffer(buffer, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (lo, hi) = (
        HEIGHTS[0] as f64 - 0.5,
        HEIGHTS[HEIGHTS.len() - 1] as f64 + 0.5,
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Specimens read fully right, by character height",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(lo..hi, 0f64..100f64)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("zone character height (px)")
        .y_desc("fully right (%)")
        .x_labels(HEIGHTS.len())
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let colours = [
        RGBColor(0, 0, 0),
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    for (harm, colour) in Harm::ALL.into_iter().zip(colours) {
        let points: Vec<(f64, f64)> = report
            .series(harm)
            .into_iter()
            .filter_map(|(h, v)| v.map(|v| (f64::from(h), v)))
            .collect();
        let style = ShapeStyle::from(colour).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points.clone(), style))
            .map_err(|e| e.to_string())?
            .label(harm.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
