//! A generated corpus of hostile submissions: random bytes behind valid magic numbers, real
//! images cut at every segment or chunk boundary, huge declared dimensions, deeply nested
//! containers and manifests, names with control characters. Every entry must be rejected.

use crate::fixtures::{jpeg, manifest, png, png_bomb};

/// One hostile submission: folder name, manifest text (None: no manifest), files.
pub struct Hostile {
    pub name: String,
    pub manifest: Option<String>,
    pub files: Vec<(String, Vec<u8>)>,
}

/// Deterministic noise.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Offsets where a JPEG's segments start (markers before the entropy-coded data), and the
/// end of the file.
fn jpeg_boundaries(data: &[u8]) -> Vec<usize> {
    let mut cuts = vec![2];
    let mut pos = 2;
    while pos + 4 <= data.len() && data[pos] == 0xFF {
        let marker = data[pos + 1];
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        pos += 2 + len;
        cuts.push(pos);
        if marker == 0xDA {
            break; // start of scan: the rest is entropy-coded data
        }
    }
    cuts.push(data.len() - 2); // the end-of-image marker cut off
    cuts
}

/// Offsets where a PNG's chunks start.
fn png_boundaries(data: &[u8]) -> Vec<usize> {
    let mut cuts = vec![8];
    let mut pos = 8;
    while pos + 8 <= data.len() {
        let len = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]);
        pos += 12 + len as usize;
        if pos < data.len() {
            cuts.push(pos);
        }
    }
    cuts
}

/// An ISO-BMFF box.
fn bmff(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// The corpus; the front image of a submission is the hostile file unless said otherwise.
pub fn corpus() -> Vec<Hostile> {
    let mut out = Vec::new();
    let passport = manifest("hostile", "passport");
    let mut add = |name: String, manifest: Option<String>, files: Vec<(String, Vec<u8>)>| {
        // Each submission has its own user, so none is refused only for an active card.
        let manifest = manifest.map(|m| m.replace("hostile", &format!("hostile-{}", out.len())));
        out.push(Hostile {
            name,
            manifest,
            files,
        });
    };
    let front = |bytes: Vec<u8>| vec![("front.jpg".to_string(), bytes)];

    let good_jpeg = jpeg(800, 600);
    for (i, cut) in jpeg_boundaries(&good_jpeg).into_iter().enumerate() {
        add(
            format!("jpeg-cut-{i}"),
            Some(passport.clone()),
            front(good_jpeg[..cut].to_vec()),
        );
    }
    let good_png = png(800, 600);
    for (i, cut) in png_boundaries(&good_png).into_iter().enumerate() {
        add(
            format!("png-cut-{i}"),
            Some(passport.clone()),
            front(good_png[..cut].to_vec()),
        );
    }
    let magics: [&[u8]; 8] = [
        &[0xFF, 0xD8, 0xFF, 0xE0],
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"RIFF\0\0\0\0WEBPVP8 ",
        b"\0\0\0\x18ftypisom",
        b"\x1a\x45\xdf\xa3",
        b"RIFF\0\0\0\0AVI LIST",
        b"%PDF-1.7\n",
    ];
    for (i, magic) in magics.iter().enumerate() {
        for (j, len) in [16usize, 4096, 300_000].into_iter().enumerate() {
            let mut bytes = magic.to_vec();
            bytes.extend(noise((i * 10 + j) as u64 + 7, len));
            add(
                format!("magic-{i}-{j}"),
                Some(passport.clone()),
                front(bytes),
            );
        }
    }
    for (i, (w, h)) in [
        (100_000, 100_000),
        (u32::MAX, 1),
        (12_001, 700),
        (1, u32::MAX),
    ]
    .into_iter()
    .enumerate()
    {
        add(
            format!("huge-{i}"),
            Some(passport.clone()),
            front(png_bomb(w, h)),
        );
    }
    // A selfie video nested 2000 boxes deep, whose outermost box claims more than the file.
    let mut nested = bmff(b"free", b"");
    for _ in 0..2000 {
        nested = bmff(b"moov", &nested);
    }
    nested[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut mp4 = bmff(b"ftyp", b"isom\0\0\0\0isom");
    mp4.extend(nested);
    add(
        "nested-mp4".into(),
        Some(passport.clone()),
        vec![
            ("front.jpg".into(), good_jpeg.clone()),
            ("selfie.mp4".into(), mp4),
        ],
    );
    // EBML elements nested deep with unknown sizes, then cut.
    let mut ebml = vec![
        0x1A, 0x45, 0xDF, 0xA3, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
    for _ in 0..3000 {
        ebml.extend([
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
    }
    add(
        "nested-webm".into(),
        Some(passport.clone()),
        vec![
            ("front.jpg".into(), good_jpeg.clone()),
            ("selfie.webm".into(), ebml),
        ],
    );
    // Manifests: deeply nested TOML, a huge one, an empty one, binary.
    let deep = format!(
        "user_id = {}1{}\ndocument_type = \"passport\"\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    add("deep-toml".into(), Some(deep), front(good_jpeg.clone()));
    let deep_table = format!(
        "{}\nuser_id = \"x\"\n",
        "[a]\n".repeat(2000) + &"a.".repeat(3000) + "b = 1"
    );
    add(
        "deep-table-toml".into(),
        Some(deep_table),
        front(good_jpeg.clone()),
    );
    add(
        "huge-toml".into(),
        Some(format!("{passport}# {}\n", "x".repeat(200_000))),
        front(good_jpeg.clone()),
    );
    add(
        "empty-toml".into(),
        Some(String::new()),
        front(good_jpeg.clone()),
    );
    add(
        "binary-toml".into(),
        Some(String::from_utf8_lossy(&noise(99, 500)).into_owned()),
        front(good_jpeg.clone()),
    );
    // Names with control characters, on the folder and on files.
    add(
        "ctl-\u{1}-\u{7f}-\t-name".into(),
        Some(passport.clone()),
        front(b"not an image".to_vec()),
    );
    add(
        "ctl-file".into(),
        Some(passport.clone()),
        vec![
            ("front.jpg".into(), good_jpeg.clone()),
            (
                "extra\n\u{1b}[31m.pdf".into(),
                b"%PDF-1.4\n%%EOF\n".to_vec(),
            ),
        ],
    );
    add(
        "empty-front".into(),
        Some(passport.clone()),
        front(Vec::new()),
    );
    out
}
