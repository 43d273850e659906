//! Proof that the entropy-only JPEG check rejects what the full decode rejected: one test per
//! kind of damage, each comparing the rule of [`check_image`] (1/8-scale entropy decode) with
//! the rule of the same checks ending in a full decode, on many damaged copies of real JPEGs.
//! The entropy check is allowed to be stricter: zune-jpeg, behind the full decode, conceals some
//! damage (an invalid Huffman code, a stray marker) by filling blocks with grey, and such a file
//! is not an undamaged image; `jpeg-decoder` refuses it.

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

/// Source images: the demo document (4:2:0, as the bench and the demo send) and a gradient from
/// the image crate's encoder, both over the minimum size.
fn originals() -> Vec<Vec<u8>> {
    vec![
        jpeg(1000, 700, 11),
        jpeg(820, 640, 12),
        encoded(900, 620, image::ImageFormat::Jpeg),
    ]
}

/// Checks every damaged copy: whatever the full decode rejected, the entropy check rejects by the
/// same rule; what the full decode accepted, the entropy check accepts with the same size or
/// rejects as `image_corrupt`. Answers how many copies the full decode rejected, so that each
/// test can insist its damage is real.
fn compare(kind: &str, damaged: impl IntoIterator<Item = Vec<u8>>) -> usize {
    let (mut rejected, mut stricter) = (0, 0);
    for (i, data) in damaged.into_iter().enumerate() {
        let (entropy, full) = verdicts(&data);
        match (&entropy, &full) {
            (_, Err(_)) => {
                assert_eq!(entropy, full, "{kind} #{i}: rejected by another rule");
                rejected += 1;
            }
            (Ok(_), Ok(_)) => assert_eq!(entropy, full, "{kind} #{i}: another size"),
            (Err(rule), Ok(_)) => {
                assert_eq!(*rule, "image_corrupt", "{kind} #{i}");
                stricter += 1;
            }
        }
    }
    println!("{kind}: full decode rejected {rejected}; entropy check also rejected {stricter}");
    rejected
}

/// Offset of the first scan's data (after the SOS header) and of the end-of-image marker.
fn scan_span(data: &[u8]) -> (usize, usize) {
    let mut pos = 2;
    loop {
        let marker = data[pos + 1];
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        pos += 2 + len;
        if marker == 0xDA {
            let end = data
                .windows(2)
                .rposition(|w| w == [0xFF, 0xD9])
                .expect("EOI");
            return (pos, end);
        }
    }
}

/// (offset, marker code) of every segment before the scan data.
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
    for data in originals() {
        let (entropy, full) = verdicts(&data);
        assert!(full.is_ok(), "{full:?}");
        assert_eq!(entropy, full);
    }
}

#[test]
fn truncated_anywhere() {
    let damaged = originals().into_iter().flat_map(|data| {
        let step = data.len() / 150;
        (1..150).flat_map(move |k| {
            let cut = data[..k * step].to_vec();
            let mut padded = cut.clone();
            padded.extend_from_slice(&[0; 512]);
            [cut, padded]
        })
    });
    let rejected = compare("truncated", damaged);
    assert_eq!(rejected, 3 * 149 * 2, "every cut is a rejection");
}

#[test]
fn corrupt_entropy_data() {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut damaged = Vec::new();
    for data in originals() {
        let (start, end) = scan_span(&data);
        for _ in 0..120 {
            let mut copy = data.clone();
            // A burst of random bytes somewhere in the scan, as a bad sector or a bad transfer.
            let at = start + noise.below(end - start - 64);
            for b in &mut copy[at..at + 1 + noise.below(48)] {
                *b = noise.next() as u8;
            }
            damaged.push(copy);
        }
        for _ in 0..60 {
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
            for _ in 0..6 {
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
        let (sof, _) = *segments(&data)
            .iter()
            .find(|(_, m)| *m == 0xC0)
            .expect("baseline frame");
        // Height at +5, width at +7 (after marker, length and precision).
        for field in [5, 7] {
            let old = u16::from_be_bytes([data[sof + field], data[sof + field + 1]]);
            for new in [
                0,
                1,
                old / 2,
                old - 8,
                old + 1,
                old + 64,
                old * 2,
                12_000,
                u16::MAX,
            ] {
                let mut copy = data.clone();
                copy[sof + field..sof + field + 2].copy_from_slice(&new.to_be_bytes());
                damaged.push(copy);
            }
        }
    }
    let rejected = compare("wrong declared size", damaged);
    assert!(rejected > 0, "no damage was found by the full decode");
}

#[test]
fn corrupt_tables_and_headers() {
    let mut noise = Noise(0x2545_F491_4F6C_DD1D);
    let mut damaged = Vec::new();
    for data in originals() {
        // Random bytes inside the quantisation and Huffman tables, the frame and scan headers,
        // and their lengths.
        for (pos, marker) in segments(&data) {
            if !matches!(marker, 0xDB | 0xC4 | 0xC0 | 0xDA) {
                continue;
            }
            let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
            for _ in 0..25 {
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
