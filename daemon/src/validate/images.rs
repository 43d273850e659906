//! Image checks on a file already in memory: dimensions from the header (refusing a
//! decompression bomb before anything is allocated), a structural check for truncation, then a
//! decode under the decoder memory limits: a JPEG's scans at 1/8 scale ([`super::jpeg`]), which
//! finds what a full decode finds, and any other format in full.

use std::io::Cursor;

use image::{ImageError, ImageFormat, ImageReader, Limits};

use super::Rejection;
use super::jpeg::{self, TRUNCATED};
use super::sniff::Sniffed;
use crate::config::ValidationConfig;

/// Checks an image and returns its dimensions. `min_size` asks for the configured minimum width
/// and height (document sides need them; selfies and extras do not). A JPEG's scans are entropy
/// decoded at 1/8 scale ([`jpeg::entropy_check`]); other formats are decoded in full.
pub(super) fn check_image(
    name: &str,
    data: &[u8],
    kind: Sniffed,
    limits: &ValidationConfig,
    min_size: bool,
) -> Result<(u32, u32), Rejection> {
    check(name, data, kind, limits, min_size, JpegDecode::Entropy)
}

/// The same checks with every format decoded in full, as they were before the entropy check: the
/// reference the damage tests compare against.
#[cfg(test)]
pub(super) fn check_image_full_decode(
    name: &str,
    data: &[u8],
    kind: Sniffed,
    limits: &ValidationConfig,
    min_size: bool,
) -> Result<(u32, u32), Rejection> {
    check(name, data, kind, limits, min_size, JpegDecode::Full)
}

/// How a JPEG's scans are checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JpegDecode {
    /// At 1/8 scale: every Huffman code read, no pixels made.
    Entropy,
    /// To full-size pixels (zune-jpeg through `image`).
    #[cfg(test)]
    Full,
}

fn check(
    name: &str,
    data: &[u8],
    kind: Sniffed,
    limits: &ValidationConfig,
    min_size: bool,
    jpeg_decode: JpegDecode,
) -> Result<(u32, u32), Rejection> {
    let format = match kind {
        Sniffed::Jpeg => ImageFormat::Jpeg,
        Sniffed::Png => ImageFormat::Png,
        Sniffed::Gif => ImageFormat::Gif,
        _ => ImageFormat::WebP,
    };
    let corrupt = |why: &str| {
        Rejection::file(
            "image_corrupt",
            name,
            format!(
                "{name} is {} that cannot be read ({why}); export or photograph it again and resubmit",
                kind.describe()
            ),
        )
    };
    let bomb = |what: String| {
        Rejection::file(
            "decompression_bomb",
            name,
            format!(
                "{name} declares {what}, more than the largest accepted ({max}x{max} pixels, {mib} MiB decoded); send an ordinary photo",
                max = limits.max_dimension,
                mib = limits.max_decode_bytes / (1024 * 1024)
            ),
        )
    };
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(data), format);
        reader.limits(decoder_limits(limits));
        reader
    };
    let describe_error = |e: ImageError| match e {
        ImageError::Limits(e) => bomb(format!("an image beyond the decoder limits ({e})")),
        other => corrupt(&other.to_string()),
    };

    let (width, height) = reader().into_dimensions().map_err(describe_error)?;
    let pixel_bytes = u64::from(width) * u64::from(height) * 4;
    if width > limits.max_dimension
        || height > limits.max_dimension
        || pixel_bytes > limits.max_decode_bytes
    {
        return Err(bomb(format!("{width}x{height} pixels")));
    }
    if width == 0 || height == 0 {
        return Err(corrupt("it has no pixels"));
    }
    complete(kind, data).map_err(corrupt)?;
    let too_small = min_size && (width < limits.min_width || height < limits.min_height);
    if kind == Sniffed::Jpeg && jpeg_decode == JpegDecode::Entropy {
        if let Err(why) = jpeg::entropy_check(data, (width, height)) {
            // The entropy check refuses some damage the full decode conceals. A file that is too
            // small as well keeps the rule it always had: too small if it decodes in full.
            if !too_small || reader().decode().is_err() {
                return Err(corrupt(&why));
            }
        }
    } else {
        reader().decode().map_err(describe_error)?;
    }

    if too_small {
        return Err(Rejection::file(
            "image_too_small",
            name,
            format!(
                "{name} is {width}x{height}; images must be at least {}x{}, so take the photo closer or at a higher resolution",
                limits.min_width, limits.min_height
            ),
        ));
    }
    Ok((width, height))
}

fn decoder_limits(limits: &ValidationConfig) -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_dimension);
    l.max_image_height = Some(limits.max_dimension);
    l.max_alloc = Some(limits.max_decode_bytes);
    l
}

/// Decoders pad a truncated image instead of failing, so the end of the file is checked here.
fn complete(kind: Sniffed, data: &[u8]) -> Result<(), &'static str> {
    match kind {
        Sniffed::Jpeg => jpeg::complete(data),
        Sniffed::Png => png_complete(data),
        Sniffed::Gif => {
            let end = data.iter().rposition(|&b| b != 0);
            match end.map(|i| data[i]) {
                Some(0x3B) => Ok(()),
                _ => Err("the GIF trailer is missing; the file looks truncated"),
            }
        }
        _ => riff_complete(data),
    }
}

/// Walks the PNG chunks up to IEND.
fn png_complete(data: &[u8]) -> Result<(), &'static str> {
    let mut pos = 8;
    loop {
        let header = data.get(pos..pos + 8).ok_or(TRUNCATED)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > i32::MAX as u32 {
            return Err("a PNG chunk has an impossible length");
        }
        let end = pos + 8 + len as usize + 4;
        if end > data.len() {
            return Err(TRUNCATED);
        }
        if &header[4..8] == b"IEND" {
            return Ok(());
        }
        pos = end;
    }
}

/// The RIFF size field (WebP) must fit inside the file.
fn riff_complete(data: &[u8]) -> Result<(), &'static str> {
    let size = data.get(4..8).ok_or(TRUNCATED)?;
    let size = u64::from(u32::from_le_bytes([size[0], size[1], size[2], size[3]]));
    if size + 8 > data.len() as u64 {
        return Err(TRUNCATED);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::fixtures::{encoded, jpeg, png, png_with_declared_size};

    fn check(data: &[u8], kind: Sniffed) -> Result<(u32, u32), Rejection> {
        check_image("front.jpg", data, kind, &ValidationConfig::default(), true)
    }

    #[test]
    fn a_good_jpeg_and_png_pass() {
        assert_eq!(check(&jpeg(1000, 700, 1), Sniffed::Jpeg), Ok((1000, 700)));
        assert_eq!(check(&png(900, 600), Sniffed::Png), Ok((900, 600)));
    }

    #[test]
    fn truncated_jpeg_is_corrupt() {
        let full = jpeg(1000, 700, 2);
        let r = check(&full[..full.len() / 2], Sniffed::Jpeg).expect_err("truncated");
        assert_eq!(r.rule, "image_corrupt");
        assert!(r.message.contains("truncated"), "{}", r.message);
        // Zero padding after a cut is still a cut.
        let mut padded = full[..full.len() - 2].to_vec();
        padded.extend_from_slice(&[0; 64]);
        assert_eq!(
            check(&padded, Sniffed::Jpeg).expect_err("cut").rule,
            "image_corrupt"
        );
    }

    #[test]
    fn bytes_after_jpeg_end_are_tolerated() {
        let mut data = jpeg(1000, 700, 3);
        data.extend_from_slice(b"vendor trailer");
        assert!(check(&data, Sniffed::Jpeg).is_ok());
    }

    #[test]
    fn gif_and_webp_pass_whole_and_fail_cut() {
        for (format, kind) in [
            (ImageFormat::Gif, Sniffed::Gif),
            (ImageFormat::WebP, Sniffed::WebP),
        ] {
            let data = encoded(820, 610, format);
            assert_eq!(check(&data, kind), Ok((820, 610)), "{format:?}");
            let cut = check(&data[..data.len() * 2 / 3], kind).expect_err("cut");
            assert_eq!(cut.rule, "image_corrupt", "{format:?}");
        }
    }

    #[test]
    fn truncated_png_is_corrupt() {
        let full = png(900, 600);
        let r = check(&full[..full.len() - 20], Sniffed::Png).expect_err("truncated");
        assert_eq!(r.rule, "image_corrupt");
    }

    #[test]
    fn declared_huge_png_is_a_bomb() {
        let r = check(&png_with_declared_size(100_000, 100_000), Sniffed::Png).expect_err("bomb");
        assert_eq!(r.rule, "decompression_bomb");
        // Under max_dimension but over max_decode_bytes.
        let r = check(&png_with_declared_size(11_000, 11_000), Sniffed::Png).expect_err("bomb");
        assert_eq!(r.rule, "decompression_bomb");
        assert!(r.message.contains("11000x11000"), "{}", r.message);
    }

    #[test]
    fn small_image_is_refused_only_when_asked() {
        let small = jpeg(640, 480, 4);
        let r = check(&small, Sniffed::Jpeg).expect_err("small");
        assert_eq!(r.rule, "image_too_small");
        assert!(r.message.contains("640x480") && r.message.contains("800x600"));
        let limits = ValidationConfig::default();
        assert!(check_image("selfie.jpg", &small, Sniffed::Jpeg, &limits, false).is_ok());
    }
}
