//! Document images for the console: decoding fetched bytes under memory limits (in the blocking
//! pool, never on the UI thread), and the turned, zoomed view of one that the screen shows.

use std::io::Cursor;
use std::sync::Arc;

use idreview_protocol::BoundingBox;
use image::{DynamicImage, ImageReader, Limits};

/// The largest pixel buffer a fetched image may decode into.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// How much room to leave around a zoomed field box, as a share of its size.
const ZOOM_MARGIN: f32 = 0.25;

/// Decodes an image file's bytes, refusing decompression bombs.
pub fn decode(bytes: &[u8]) -> Result<Arc<DynamicImage>, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read the image: {e}"))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader
        .decode()
        .map(Arc::new)
        .map_err(|e| format!("cannot decode the image: {e}"))
}

/// The part of `image` to show: cropped to `zoom` (with a margin, clamped to the image) and
/// turned `quarter_turns` times clockwise.
pub fn view(image: &DynamicImage, zoom: Option<BoundingBox>, quarter_turns: u8) -> DynamicImage {
    let cropped = match zoom {
        Some(b) => {
            let (w, h) = (image.width(), image.height());
            let mx = (b.width as f32 * ZOOM_MARGIN) as u32;
            let my = (b.height as f32 * ZOOM_MARGIN) as u32;
            let x = b.x.saturating_sub(mx).min(w.saturating_sub(1));
            let y = b.y.saturating_sub(my).min(h.saturating_sub(1));
            let cw = (b.width + 2 * mx).min(w - x).max(1);
            let ch = (b.height + 2 * my).min(h - y).max(1);
            image.crop_imm(x, y, cw, ch)
        }
        None => image.clone(),
    };
    match quarter_turns % 4 {
        1 => cropped.rotate90(),
        2 => cropped.rotate180(),
        3 => cropped.rotate270(),
        _ => cropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
        }))
    }

    #[test]
    fn zoom_crops_with_a_margin_inside_the_image_and_turns_swap_sides() {
        let img = sample(200, 100);
        let b = BoundingBox {
            x: 180,
            y: 10,
            width: 40,
            height: 20,
        };
        let v = view(&img, Some(b), 0);
        assert_eq!(
            (v.width(), v.height()),
            (30, 30),
            "clamped at the right edge"
        );
        let v = view(&img, None, 1);
        assert_eq!((v.width(), v.height()), (100, 200));
        assert_eq!(view(&img, None, 4).width(), 200);
    }

    #[test]
    fn decodes_real_images_and_refuses_garbage() {
        let mut png = Vec::new();
        sample(8, 4)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("encodes");
        let img = decode(&png).expect("decodes");
        assert_eq!((img.width(), img.height()), (8, 4));
        assert!(decode(b"not an image").is_err());
    }
}
