//! Cheap structural checks of video containers already in memory: the top-level layout must be
//! consistent and fit in the file. Nothing is decoded.

use super::Rejection;
use super::sniff::Sniffed;

/// Checks a video container's structure.
pub(super) fn check_video(name: &str, data: &[u8], kind: Sniffed) -> Result<(), Rejection> {
    let result = match kind {
        Sniffed::Mp4 | Sniffed::QuickTime => iso_bmff(data),
        Sniffed::WebM => webm(data),
        _ => avi(data),
    };
    result.map_err(|problem| match problem {
        Problem::Corrupt(why) => Rejection::file(
            "video_corrupt",
            name,
            format!(
                "{name} is {} that is damaged ({why}); record or export it again and resubmit",
                kind.describe()
            ),
        ),
        Problem::Matroska => Rejection::file(
            "file_type",
            name,
            format!("{name} is a Matroska (MKV) video; send MP4, MOV, WebM or AVI"),
        ),
    })
}

enum Problem {
    Corrupt(String),
    /// An EBML file whose doc type is Matroska rather than WebM.
    Matroska,
}

fn corrupt<T>(why: impl Into<String>) -> Result<T, Problem> {
    Err(Problem::Corrupt(why.into()))
}

fn be_u32(b: &[u8]) -> u64 {
    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// MP4 and QuickTime: top-level boxes tile the file exactly; a `moov` or `moof` box is present.
fn iso_bmff(data: &[u8]) -> Result<(), Problem> {
    let len = data.len() as u64;
    let mut pos: u64 = 0;
    let mut has_movie = false;
    while pos < len {
        let at = pos as usize;
        let Some(header) = data.get(at..at + 8) else {
            return corrupt(format!("{} stray bytes at the end", len - pos));
        };
        let kind = &header[4..8];
        if !kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return corrupt(format!("unreadable box at byte {pos}"));
        }
        let (size, header_len) = match be_u32(header) {
            0 => (len - pos, 8),
            1 => match data.get(at + 8..at + 16) {
                Some(b) => {
                    let size = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                    (size, 16)
                }
                None => return corrupt("the file ends inside a box header"),
            },
            size => (size, 8),
        };
        let name = String::from_utf8_lossy(kind);
        if size < header_len {
            return corrupt(format!("box '{name}' has an impossible size"));
        }
        if size > len - pos {
            return corrupt(format!(
                "box '{name}' runs past the end of the file; it looks truncated"
            ));
        }
        has_movie |= kind == b"moov" || kind == b"moof";
        pos += size;
    }
    if !has_movie {
        return corrupt("it has no movie header (moov)");
    }
    Ok(())
}

/// Reads an EBML variable-length integer; `keep_marker` for element ids. Returns the value (None
/// for the reserved "unknown size") and its length in bytes.
fn vint(data: &[u8], pos: usize, keep_marker: bool) -> Result<(Option<u64>, usize), Problem> {
    let Some(&first) = data.get(pos) else {
        return corrupt("the file ends inside an element header");
    };
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return corrupt("an element header is malformed");
    }
    let Some(bytes) = data.get(pos..pos + len) else {
        return corrupt("the file ends inside an element header");
    };
    let marker = 1u64 << (7 * len);
    let mut value = bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
    if !keep_marker {
        value &= marker - 1;
        if value == marker - 1 {
            return Ok((None, len));
        }
    }
    Ok((Some(value), len))
}

/// WebM: an EBML header with doc type `webm`, followed by a Segment that fits in the file.
fn webm(data: &[u8]) -> Result<(), Problem> {
    const EBML: u64 = 0x1A45_DFA3;
    const DOC_TYPE: u64 = 0x4282;
    const SEGMENT: u64 = 0x1853_8067;
    let (id, id_len) = vint(data, 0, true)?;
    let (size, size_len) = vint(data, id_len, false)?;
    let (Some(EBML), Some(size)) = (id, size) else {
        return corrupt("the EBML header is malformed");
    };
    let body = id_len + size_len;
    let end = usize::try_from(size)
        .ok()
        .and_then(|s| body.checked_add(s))
        .filter(|&e| e <= data.len());
    let Some(end) = end else {
        return corrupt("the EBML header runs past the end of the file");
    };
    let mut pos = body;
    let mut doc_type = None;
    while pos < end {
        let (id, id_len) = vint(data, pos, true)?;
        let (size, size_len) = vint(data, pos + id_len, false)?;
        let start = pos + id_len + size_len;
        let next = size
            .and_then(|s| usize::try_from(s).ok())
            .and_then(|s| start.checked_add(s))
            .filter(|&n| n <= end);
        let Some(next) = next else {
            return corrupt("an EBML header element is malformed");
        };
        if id == Some(DOC_TYPE) {
            doc_type = Some(&data[start..next]);
        }
        pos = next;
    }
    match doc_type.map(|d| d.strip_suffix(&[0]).unwrap_or(d)) {
        Some(b"webm") => {}
        Some(b"matroska") => return Err(Problem::Matroska),
        _ => return corrupt("the EBML header does not say webm"),
    }
    let (id, id_len) = vint(data, end, true)?;
    if id != Some(SEGMENT) {
        return corrupt("no Segment follows the EBML header");
    }
    let (size, size_len) = vint(data, end + id_len, false)?;
    if let Some(size) = size
        && size > (data.len() - end - id_len - size_len) as u64
    {
        return corrupt("the Segment runs past the end of the file; it looks truncated");
    }
    Ok(())
}

/// AVI: the RIFF size fits in the file and the first chunk is the `hdrl` list.
fn avi(data: &[u8]) -> Result<(), Problem> {
    let le_u32 = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let Some(head) = data.get(..24) else {
        return corrupt("the file is too short to hold an AVI header");
    };
    let riff_size = le_u32(&head[4..8]);
    if riff_size < 16 || riff_size + 8 > data.len() as u64 {
        return corrupt("the RIFF size does not match the file; it looks truncated");
    }
    if &head[12..16] != b"LIST" || &head[20..24] != b"hdrl" {
        return corrupt("the AVI header list (hdrl) is missing");
    }
    if le_u32(&head[16..20]) + 20 > riff_size + 8 {
        return corrupt("the AVI header list runs past the end of the file");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::fixtures::{avi, mp4, webm};

    fn rule(name: &str, data: &[u8], kind: Sniffed) -> &'static str {
        check_video(name, data, kind).expect_err("refused").rule
    }

    #[test]
    fn well_formed_containers_pass() {
        check_video("s.mp4", &mp4(), Sniffed::Mp4).expect("mp4");
        check_video("s.webm", &webm(b"webm"), Sniffed::WebM).expect("webm");
        check_video("s.avi", &avi(), Sniffed::Avi).expect("avi");
    }

    #[test]
    fn truncated_containers_are_corrupt() {
        let m = mp4();
        assert_eq!(
            rule("s.mp4", &m[..m.len() - 10], Sniffed::Mp4),
            "video_corrupt"
        );
        let w = webm(b"webm");
        assert_eq!(
            rule("s.webm", &w[..w.len() - 10], Sniffed::WebM),
            "video_corrupt"
        );
        let a = avi();
        assert_eq!(
            rule("s.avi", &a[..a.len() - 10], Sniffed::Avi),
            "video_corrupt"
        );
    }

    #[test]
    fn mp4_without_moov_is_corrupt() {
        let only_ftyp = &mp4()[..24];
        assert_eq!(rule("s.mp4", only_ftyp, Sniffed::Mp4), "video_corrupt");
    }

    #[test]
    fn garbage_after_boxes_is_corrupt() {
        let mut m = mp4();
        m.extend_from_slice(b"\xff\xfe\x00garbage!");
        assert_eq!(rule("s.mp4", &m, Sniffed::Mp4), "video_corrupt");
    }

    #[test]
    fn matroska_is_not_webm() {
        assert_eq!(
            rule("s.webm", &webm(b"matroska"), Sniffed::WebM),
            "file_type"
        );
    }
}
