//! Test fixtures: small real files of every kind, crafted broken ones, and submission folders.

use std::fs;
use std::path::Path;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

/// A valid JPEG of the given size.
pub fn jpeg(width: u32, height: u32, seed: u64) -> Vec<u8> {
    crate::cli::demo::demo_image(width, height, seed)
}

/// A valid RGB PNG of the given size with a gradient.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..height)
        .flat_map(|y| (0..width).flat_map(move |x| [(x % 256) as u8, (y % 256) as u8, 128]))
        .collect();
    encode_png(&pixels, width, height, ExtendedColorType::Rgb8)
}

/// A valid image of the given size in any format the image crate can write.
pub fn encoded(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .expect("encode");
    out.into_inner()
}

/// A valid RGBA PNG of random pixels: incompressible, about `width * height * 4` bytes.
pub fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x1234_5678_9ABC_DEF0u64;
    let pixels: Vec<u8> = (0..u64::from(width) * u64::from(height) * 4)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    encode_png(&pixels, width, height, ExtendedColorType::Rgba8)
}

fn encode_png(pixels: &[u8], width: u32, height: u32, colour: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(pixels, width, height, colour)
        .expect("encode png");
    out
}

/// A 1x1 PNG whose header claims `width` x `height`, with a correct header CRC.
pub fn png_with_declared_size(width: u32, height: u32) -> Vec<u8> {
    let mut data = png(1, 1);
    // Signature (8), IHDR length (4) and type (4), then width and height.
    data[16..20].copy_from_slice(&width.to_be_bytes());
    data[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&data[12..29]);
    data[29..33].copy_from_slice(&crc.to_be_bytes());
    data
}

/// CRC-32 (IEEE), as PNG chunks use.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn bmff_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// A structurally valid MP4: ftyp, moov, mdat.
pub fn mp4() -> Vec<u8> {
    let mut data = bmff_box(b"ftyp", b"isom\0\0\x02\0isomiso2");
    data.extend(bmff_box(b"moov", &bmff_box(b"mvhd", &[0; 100])));
    data.extend(bmff_box(b"mdat", &[7; 500]));
    data
}

/// A structurally valid EBML file with the given doc type and a small Segment.
pub fn webm(doc_type: &[u8]) -> Vec<u8> {
    let mut header = vec![
        0x42,
        0x86,
        0x81,
        0x01,
        0x42,
        0x82,
        0x80 | doc_type.len() as u8,
    ];
    header.extend_from_slice(doc_type);
    let mut data = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80 | header.len() as u8];
    data.extend(header);
    let segment = [0xEC_u8, 0x80 | 100].into_iter().chain([0; 100]);
    data.extend([0x18, 0x53, 0x80, 0x67, 0x80 | 102]);
    data.extend(segment);
    data
}

/// A structurally valid AVI: RIFF, the hdrl list, and a movi list.
pub fn avi() -> Vec<u8> {
    let mut body = b"AVI LIST".to_vec();
    body.extend(68u32.to_le_bytes());
    body.extend(b"hdrlavih");
    body.extend(56u32.to_le_bytes());
    body.extend([0; 56]);
    body.extend(b"LIST");
    body.extend(104u32.to_le_bytes());
    body.extend(b"movi");
    body.extend([0; 100]);
    let mut data = b"RIFF".to_vec();
    data.extend((body.len() as u32).to_le_bytes());
    data.extend(body);
    data
}

/// Writes a submission folder: the files first, then the manifest when given.
pub fn write_submission(dir: &Path, manifest: Option<&str>, files: &[(&str, &[u8])]) {
    fs::create_dir_all(dir).expect("mkdir");
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).expect("write file");
    }
    if let Some(text) = manifest {
        fs::write(dir.join(super::MANIFEST_FILE), text).expect("write manifest");
    }
}

/// A manifest for a test user.
pub fn manifest(document_type: &str) -> String {
    format!("user_id = \"test-user\"\ndocument_type = \"{document_type}\"\ncountry = \"NL\"\n")
}
