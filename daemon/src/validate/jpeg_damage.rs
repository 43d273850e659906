//! Proof that the entropy-only JPEG check rejects what the full decode rejected: one test per
//! kind of damage, each comparing the rule of [`check_image`] (1/8-scale entropy decode,
//! libjpeg-turbo) with the rule of the same checks ending in a full decode (zune-jpeg), on many
//! damaged copies of real JPEGs of several kinds (baseline and progressive, 4:4:4, 4:2:2, 4:2:0,
//! grey, CMYK, restart markers).
//! The entropy check is allowed to be stricter, and only as `image_corrupt`: zune-jpeg conceals
//! some damage (an invalid Huffman code, a stray marker) by filling blocks with grey, and such a
//! file is not an undamaged image; libjpeg-turbo reports it, and its warnings are errors here.

use turbojpeg::{Colorspace, Compressor, Image, PixelFormat, Subsamp};

use super::images::{check_image, check_image_full_decode};
use super::sniff::Sniffed;
use crate::config::ValidationConfig;
use crate::validate::fixtures::{encoded, jpeg};

/// Outcome of one check: the accepted size, or the failing rule.
type Verdict = Result<(u32, u32), &'static str>;

fn verdicts(data: &[u8]) -> (Verdict, Verdict) {
    let limits = ValidationConfig::default();
    let entropy = check_image("front.jpg", data, Sniffed::Jpeg, &limits, true).map_err(|r| r.rule);
    let full = check_image_full_decode("front.jpg", data, Sniffed::Jpeg, &limits, true)
        .map_err(|r| r.rule);
    (entropy, full)
}

/// A photo-like picture: gradients under grain, so that every block has AC coefficients.
fn pixels(width: usize, height: usize, channels: usize, seed: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32 ^ seed;
    let mut out = Vec::with_capacity(width * height * channels);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let grain = (state & 0x1f) as u8;
            for c in 0..channels {
                let ramp = ((x * (c + 1) / 5 + y * (3 - c % 3) / 7) % 256) as u8;
                out.push(ramp.wrapping_add(grain));
            }
        }
    }
    out
}

/// A JPEG from libjpeg-turbo's encoder, set up by `setup`.
fn turbo(
    (width, height): (usize, usize),
    format: PixelFormat,
    setup: impl FnOnce(&mut Compressor),
) -> Vec<u8> {
    let data = pixels(width, height, format.size(), width as u32);
    let mut compressor = Compressor::new().expect("compressor");
    compressor.set_quality(85).expect("quality");
    setup(&mut compressor);
    let image = Image {
        pixels: data.as_slice(),
        width,
        pitch: width * format.size(),
        height,
        format,
    };
    compressor.compress_to_vec(image).expect("compress")
}

/// Source images, all over the minimum size: the demo document (as the demo sends), the image
/// crate's encoder (as the bench sends), and libjpeg-turbo's baseline 4:2:2 with optimised
/// tables, progressive 4:2:0, grey and CMYK (YCCK).
fn originals() -> Vec<Vec<u8>> {
    vec![
        jpeg(1000, 700, 11),
        encoded(900, 620, image::ImageFormat::Jpeg),
        turbo((850, 610), PixelFormat::RGB, |c| {
            c.set_subsamp(Subsamp::Sub2x1).expect("4:2:2");
            c.set_optimize(true).expect("optimise");
        }),
        turbo((830, 640), PixelFormat::RGB, |c| {
            c.set_subsamp(Subsamp::Sub2x2).expect("4:2:0");
            c.set_progressive(true).expect("progressive");
        }),
        turbo((810, 605), PixelFormat::GRAY, |c| {
            c.set_subsamp(Subsamp::Gray).expect("grey");
        }),
        turbo((805, 600), PixelFormat::CMYK, |c| {
            c.set_colorspace(Colorspace::YCCK).expect("ycck");
        }),
    ]
}

/// Checks every damaged copy: whatever the full decode rejected, the entropy check rejects by the
/// same rule; what the full decode accepted, the entropy check accepts with the same size or
/// rejects as `image_corrupt`. Answers how many copies the full decode rejected, so that each
/// test can insist its damage is real.
fn compare(kind: &str, damaged: impl IntoIterator<Item = Vec<u8>>) -> usize {
    let (mut rejected, mut stricter, mut total) = (0, 0, 0);
    let mut weaker = Vec::new();
    for (i, data) in damaged.into_iter().enumerate() {
        let (entropy, full) = verdicts(&data);
        total += 1;
        match (&entropy, &full) {
            (_, Err(_)) => {
                rejected += 1;
                if entropy != full {
                    weaker.push(format!("#{i}: {entropy:?}, full decode {full:?}"));
                }
            }
            (Ok(_), Ok(_)) if entropy == full => {}
            (Err("image_corrupt"), Ok(_)) => stricter += 1,
            _ => weaker.push(format!("#{i}: {entropy:?}, full decode {full:?}")),
        }
    }
    println!(
        "{kind}: {total} copies; full decode rejected {rejected}; entropy check also rejected {stricter}"
    );
    assert!(weaker.is_empty(), "{kind}: {}", weaker.join("; "));
    rejected
}

/// Offset of the first scan's data (after the SOS header) and of the end-of-image marker.
fn scan_span(data: &[u8]) -> (usize, usize) {
    let (sos, _) = *segments(data).last().expect("segments");
    let len = usize::from(u16::from_be_bytes([data[sos + 2], data[sos + 3]]));
    let end = data
        .windows(2)
        .rposition(|w| w == [0xFF, 0xD9])
        .expect("EOI");
    (sos + 2 + len, end)
}

/// (offset, marker code) of every segment up to and including the first start of scan.
fn segments(data: &[u8]) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut pos = 2;
    while data[pos] == 0xFF {
        let marker = data[pos + 1];
        out.push((pos, marker));
        if marker == 0xDA {
            break;
        }
        pos += 2 + usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
    }
    out
}

/// Offset of the frame header (any SOFn).
fn frame_header(data: &[u8]) -> usize {
    segments(data)
        .into_iter()
        .find(|(_, m)| matches!(m, 0xC0..=0xC3))
        .expect("frame header")
        .0
}

/// The copy with the frame header's height (`field` 5) or width (`field` 7) set to `value`.
fn with_frame_field(data: &[u8], field: usize, value: u16) -> Vec<u8> {
    let sof = frame_header(data);
    let mut copy = data.to_vec();
    copy[sof + field..sof + field + 2].copy_from_slice(&value.to_be_bytes());
    copy
}

/// Deterministic positions and bytes.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn intact_files_pass_both_ways() {
    for (i, data) in originals().into_iter().enumerate() {
        let (entropy, full) = verdicts(&data);
        assert!(full.is_ok(), "original {i}: {full:?}");
        assert_eq!(entropy, full, "original {i}");
    }
}

#[test]
fn truncated_anywhere() {
    const CUTS: usize = 60;
    let damaged = originals().into_iter().flat_map(|data| {
        let step = data.len() / CUTS;
        (1..CUTS).flat_map(move |k| {
            let cut = data[..k * step + k % 7].to_vec();
            let mut padded = cut.clone();
            padded.extend_from_slice(&[0; 512]);
            [cut, padded]
        })
    });
    let rejected = compare("truncated", damaged);
    assert_eq!(rejected, 6 * (CUTS - 1) * 2, "every cut is a rejection");
}

#[test]
fn corrupt_entropy_data() {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut damaged = Vec::new();
    for data in originals() {
        let (start, end) = scan_span(&data);
        for _ in 0..50 {
            let mut copy = data.clone();
            // A burst of random bytes somewhere in the scans, as a bad sector or a bad transfer.
            let at = start + noise.below(end - start - 64);
            for b in &mut copy[at..at + 1 + noise.below(48)] {
                *b = noise.next() as u8;
            }
            damaged.push(copy);
        }
        for _ in 0..30 {
            let mut copy = data.clone();
            let at = start + noise.below(end - start);
            copy[at] ^= 1 << noise.below(8);
            damaged.push(copy);
        }
    }
    let rejected = compare("corrupt entropy data", damaged);
    assert!(rejected > 0, "no damage was found by the full decode");
}

#[test]
fn bad_markers() {
    let mut noise = Noise(0xD1B5_4A32_D192_ED03);
    let mut damaged = Vec::new();
    for data in originals() {
        // Each segment's marker replaced by another code: unknown, arithmetic or lossless frames,
        // a restart, a second start of image, an early end of image.
        for (pos, _) in segments(&data) {
            for code in [0x00, 0x01, 0xC3, 0xC9, 0xCC, 0xD0, 0xD8, 0xD9, 0xF0, 0xFE] {
                let mut copy = data.clone();
                copy[pos + 1] = code;
                damaged.push(copy);
            }
        }
        // Stray markers inside the scan data.
        let (start, end) = scan_span(&data);
        for code in [0xD9, 0xD8, 0xD3, 0xC4, 0xDA, 0xDB, 0xE1] {
            for _ in 0..4 {
                let mut copy = data.clone();
                let at = start + noise.below(end - start - 2);
                copy[at] = 0xFF;
                copy[at + 1] = code;
                damaged.push(copy);
            }
        }
    }
    let rejected = compare("bad markers", damaged);
    assert!(rejected > 0, "no damage was found by the full decode");
}

#[test]
fn wrong_declared_size() {
    let mut damaged = Vec::new();
    for data in originals() {
        let sof = frame_header(&data);
        // Height at +5, width at +7 (after marker, length and precision).
        for field in [5, 7] {
            let old = u16::from_be_bytes([data[sof + field], data[sof + field + 1]]);
            for new in [0, 1, old / 2, old - 8, old - 1, old + 1, old + 64, old * 2] {
                damaged.push(with_frame_field(&data, field, new));
            }
        }
    }
    let rejected = compare("wrong declared size", damaged);
    assert!(rejected > 0, "no damage was found by the full decode");
}

#[test]
fn huge_declared_dimensions_are_bombs_both_ways() {
    let limits = ValidationConfig::default();
    let mut damaged = Vec::new();
    for data in originals() {
        // Past max_dimension on either side, and (12,000 x 12,000) within it but past
        // max_decode_bytes.
        for (field, value) in [(5, 12_001), (7, 12_001), (5, 40_000), (7, u16::MAX)] {
            damaged.push(with_frame_field(&data, field, value));
        }
        damaged.push(with_frame_field(
            &with_frame_field(&data, 5, 12_000),
            7,
            12_000,
        ));
        // The header alone, declaring the largest size, with nothing after it.
        let (start, _) = scan_span(&data);
        let mut bare = with_frame_field(&with_frame_field(&data, 5, u16::MAX), 7, u16::MAX);
        bare.truncate(start);
        damaged.push(bare);
    }
    let count = damaged.len();
    for (i, data) in damaged.iter().enumerate() {
        let (entropy, full) = verdicts(data);
        assert_eq!(full, Err("decompression_bomb"), "bomb #{i}");
        assert_eq!(entropy, full, "bomb #{i}");
    }
    assert!(count >= 36);
    assert!(limits.max_dimension < 40_000 && 12_000u64 * 12_000 * 4 > limits.max_decode_bytes);
}

#[test]
fn corrupt_tables_and_headers() {
    let mut noise = Noise(0x2545_F491_4F6C_DD1D);
    let mut damaged = Vec::new();
    for data in originals() {
        // Random bytes inside the quantisation and Huffman tables, the frame and scan headers,
        // and their lengths.
        for (pos, marker) in segments(&data) {
            if !matches!(marker, 0xDB | 0xC4 | 0xC0..=0xC2 | 0xDA | 0xDD) {
                continue;
            }
            let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
            for _ in 0..12 {
                let mut copy = data.clone();
                let at = pos + 2 + noise.below(len);
                copy[at] = noise.next() as u8;
                damaged.push(copy);
            }
        }
    }
    let rejected = compare("corrupt tables and headers", damaged);
    assert!(rejected > 0, "no damage was found by the full decode");
}

#[test]
fn codings_the_full_decode_refuses_are_refused() {
    // Arithmetic coding and lossless JPEG decode with libjpeg-turbo, not with zune-jpeg: the full
    // decode refused them, so the entropy check must too.
    let refused = [
        turbo((820, 610), PixelFormat::RGB, |c| {
            c.set_arithmetic(true).expect("arithmetic");
        }),
        turbo((820, 610), PixelFormat::RGB, |c| {
            c.set_arithmetic(true).expect("arithmetic");
            c.set_progressive(true).expect("progressive");
        }),
        turbo((820, 610), PixelFormat::RGB, |c| {
            c.set_lossless(true).expect("lossless");
        }),
    ];
    let rejected = compare("arithmetic and lossless coding", refused);
    assert_eq!(rejected, 3, "the full decode refuses these codings");
}

#[test]
fn too_many_scans() {
    // A progressive file whose last scan is repeated: 150 scans in all, over the cap of 100.
    // The full decode (zune-jpeg, lenient mode) lets this one through; the entropy check refuses
    // it.
    let data = &originals()[3];
    let sos = data
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .expect("last scan");
    let end = data.len() - 2;
    let mut copy = data[..end].to_vec();
    let last_scan = &data[sos..end];
    let scans = data.windows(2).filter(|w| *w == [0xFF, 0xDA]).count();
    for _ in scans..150 {
        copy.extend_from_slice(last_scan);
    }
    copy.extend_from_slice(&[0xFF, 0xD9]);
    compare("too many scans", [copy.clone()]);
    assert_eq!(verdicts(&copy).0, Err("image_corrupt"));
}

#[test]
fn scans_without_their_huffman_tables_are_corrupt() {
    // Every table definition turned into a comment: libjpeg-turbo alone decodes such a file with
    // the standard tables (as for Motion-JPEG frames), the full decode refused it, and so does the
    // marker walk before the entropy check.
    let data = jpeg(1000, 700, 11);
    let mut copy = data.clone();
    for (pos, marker) in segments(&data) {
        if marker == 0xC4 {
            copy[pos + 1] = 0xFE;
        }
    }
    assert_eq!(super::jpeg::entropy_check(&copy, (1000, 700)), Ok(()));
    let (entropy, full) = verdicts(&copy);
    assert_eq!(full, Err("image_corrupt"));
    assert_eq!(entropy, full);
}
