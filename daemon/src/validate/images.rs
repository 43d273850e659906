//! Image checks on a file already in memory: dimensions from the header (refusing a
//! decompression bomb before anything is allocated), a structural check for truncation, then a
//! full decode under the decoder memory limits.

use std::io::Cursor;

use image::{ImageError, ImageFormat, ImageReader, Limits};

use super::Rejection;
use super::sniff::Sniffed;
use crate::config::ValidationConfig;

/// Checks an image and returns its dimensions. `min_size` asks for the configured minimum width
/// and height (document sides need them; selfies and extras do not).
pub(super) fn check_image(
    name: &str,
    data: &[u8],
    kind: Sniffed,
    limits: &ValidationConfig,
    min_size: bool,
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
    reader().decode().map_err(describe_error)?;

    if min_size && (width < limits.min_width || height < limits.min_height) {
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
        Sniffed::Jpeg => jpeg_complete(data),
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

const TRUNCATED: &str = "the file ends early; it looks truncated";

/// Walks the JPEG marker segments and entropy-coded scans until the end-of-image marker, so data
/// appended after it by some cameras is fine but a cut-off file is not.
fn jpeg_complete(data: &[u8]) -> Result<(), &'static str> {
    let mut pos = 2; // after SOI
    loop {
        // Marker: 0xFF, optional fill bytes, then the code.
        if *data.get(pos).ok_or(TRUNCATED)? != 0xFF {
            return Err("a JPEG segment is malformed");
        }
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let code = *data.get(pos).ok_or(TRUNCATED)?;
        pos += 1;
        match code {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let len_bytes = data.get(pos..pos + 2).ok_or(TRUNCATED)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err("a JPEG segment has an impossible length");
        }
        pos += len;
        if pos > data.len() {
            return Err(TRUNCATED);
        }
        if code == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart.
            loop {
                let at = data.get(pos..).ok_or(TRUNCATED)?;
                let ff = at.iter().position(|&b| b == 0xFF).ok_or(TRUNCATED)?;
                pos += ff;
                match data.get(pos + 1) {
                    None => return Err(TRUNCATED),
                    Some(0x00 | 0xD0..=0xD7) => pos += 2,
                    Some(0xFF) => pos += 1,
                    Some(_) => break,
                }
            }
        }
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
