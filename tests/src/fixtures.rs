//! Real files for the tests: encoded images, crafted bad inputs, and submission folders written
//! the way a producer should (files first, manifest last).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageFormat, Rgb, RgbImage};

/// A real JPEG of the given size with some structure in it.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Jpeg)
}

/// A real PNG of the given size.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Png)
}

fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 239) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode image");
    out.into_inner()
}

/// A PNG with random pixels (does not compress), for size limits.
pub fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let img = RgbImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let b = state.to_le_bytes();
        Rgb([b[0], b[1], b[2]])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .expect("encode image");
    out.into_inner()
}

/// A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    // Signature (8) + IHDR length (4) + "IHDR" (4), then width and height, then the CRC.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A manifest for `user`.
pub fn manifest(user: &str, document_type: &str) -> String {
    format!("user_id = \"{user}\"\ndocument_type = \"{document_type}\"\ncountry = \"DE\"\n")
}

/// Writes `inbox/<name>/` with `files`, then (if given) the manifest last, through a temp name
/// and a rename so the daemon never sees half of it.
/// A one-side passport submission for the reliability tests: `photo` as its front, or (when
/// `None`) a text file posing as one, which validation must reject.
pub fn write_passport(inbox: &Path, name: &str, user: &str, photo: Option<&[u8]>) -> PathBuf {
    let file = photo.map_or_else(|| b"a text file, not a photo".to_vec(), <[u8]>::to_vec);
    write_submission(
        inbox,
        name,
        Some(&manifest(user, "passport")),
        &[("front.jpg", file)],
    )
}

pub fn write_submission(
    inbox: &Path,
    name: &str,
    manifest: Option<&str>,
    files: &[(&str, Vec<u8>)],
) -> PathBuf {
    let dir = inbox.join(name);
    std::fs::create_dir_all(&dir).expect("submission dir");
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).expect("write file");
    }
    if let Some(manifest) = manifest {
        write_manifest(&dir, manifest);
    }
    dir
}

/// Completes a submission folder.
pub fn write_manifest(dir: &Path, manifest: &str) {
    let tmp = dir.join(".submission.toml.tmp");
    std::fs::write(&tmp, manifest).expect("write manifest");
    std::fs::rename(&tmp, dir.join("submission.toml")).expect("rename manifest");
}
