//! File type by content: magic bytes at the start of a file, never the extension.
//!
//! The formats we accept are recognised here, more strictly than the `infer` crate does (it
//! takes any `\x89PNG` as PNG, `GIF` without a version as GIF, `WEBP` at offset 8 without
//! `RIFF`, a bare `moov`/`mdat` box as QuickTime, and names a WebM only from 257 bytes on), and
//! their content is then checked by `images.rs`/`video.rs`. What we do not accept is named with
//! `infer`'s much wider table ([`what_it_looks_like`]), so a refusal says "a RAR archive"
//! rather than only "not recognised".

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sniffed {
    Jpeg,
    Png,
    Gif,
    WebP,
    Mp4,
    QuickTime,
    WebM,
    Avi,
    Pdf,
    /// A format we recognise but do not accept; the text names it for the message.
    Refused(&'static str),
    Unknown,
}

/// The broad class of a sniffed file, which decides its size limit and its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Image,
    Video,
    Pdf,
    Other,
}

/// How many leading bytes [`sniff`] looks at (and [`what_it_looks_like`]: infer needs up to
/// 262 for some formats, e.g. a tar archive).
pub(super) const HEAD_LEN: usize = 512;

/// ISO-BMFF brands that are still images or audio, not video.
const NON_VIDEO_BRANDS: &[(&[u8; 4], &str)] = &[
    (b"heic", "a HEIC image"),
    (b"heix", "a HEIC image"),
    (b"mif1", "a HEIF image"),
    (b"msf1", "a HEIF image sequence"),
    (b"avif", "an AVIF image"),
    (b"avis", "an AVIF image sequence"),
    (b"M4A ", "an M4A audio file"),
    (b"M4B ", "an M4B audio book"),
    (b"crx ", "a Canon raw photo"),
];

/// Identifies a file from its first bytes (at least [`HEAD_LEN`] when the file has them).
pub(super) fn sniff(head: &[u8]) -> Sniffed {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        Sniffed::Jpeg
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Sniffed::Png
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Sniffed::Gif
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Sniffed::WebP
    } else if at(0, b"RIFF") && at(8, b"AVI ") {
        Sniffed::Avi
    } else if at(4, b"ftyp") {
        let brand = head.get(8..12).unwrap_or_default();
        if brand == b"qt  " {
            Sniffed::QuickTime
        } else if let Some((_, what)) = NON_VIDEO_BRANDS.iter().find(|(b, _)| &b[..] == brand) {
            Sniffed::Refused(what)
        } else {
            Sniffed::Mp4
        }
    } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        Sniffed::WebM
    } else if at(0, b"%PDF-") {
        Sniffed::Pdf
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Sniffed::Refused("a TIFF image")
    } else if at(0, b"BM") {
        Sniffed::Refused("a BMP image")
    } else if at(0, b"PK\x03\x04") {
        Sniffed::Refused("a ZIP archive")
    } else {
        Sniffed::Unknown
    }
}

/// What `infer` makes of a file we do not accept ("a rar file (application/vnd.rar)"), for
/// a refusal's message; `None` when it does not know either.
pub(super) fn what_it_looks_like(head: &[u8]) -> Option<String> {
    let kind = infer::get(head)?;
    Some(format!(
        "a .{} file ({})",
        kind.extension(),
        kind.mime_type()
    ))
}

impl Sniffed {
    /// The class that decides size limit and checks.
    pub(super) fn class(self) -> Class {
        match self {
            Sniffed::Jpeg | Sniffed::Png | Sniffed::Gif | Sniffed::WebP => Class::Image,
            Sniffed::Mp4 | Sniffed::QuickTime | Sniffed::WebM | Sniffed::Avi => Class::Video,
            Sniffed::Pdf => Class::Pdf,
            Sniffed::Refused(_) | Sniffed::Unknown => Class::Other,
        }
    }

    /// The IANA media type of an accepted format.
    pub(super) fn media_type(self) -> &'static str {
        match self {
            Sniffed::Jpeg => "image/jpeg",
            Sniffed::Png => "image/png",
            Sniffed::Gif => "image/gif",
            Sniffed::WebP => "image/webp",
            Sniffed::Mp4 => "video/mp4",
            Sniffed::QuickTime => "video/quicktime",
            Sniffed::WebM => "video/webm",
            Sniffed::Avi => "video/x-msvideo",
            Sniffed::Pdf => "application/pdf",
            Sniffed::Refused(_) | Sniffed::Unknown => "application/octet-stream",
        }
    }

    /// A phrase naming what the content is, for messages ("a PDF document").
    pub(super) fn describe(self) -> &'static str {
        match self {
            Sniffed::Jpeg => "a JPEG image",
            Sniffed::Png => "a PNG image",
            Sniffed::Gif => "a GIF image",
            Sniffed::WebP => "a WebP image",
            Sniffed::Mp4 => "an MP4 video",
            Sniffed::QuickTime => "a QuickTime video",
            Sniffed::WebM => "a WebM video",
            Sniffed::Avi => "an AVI video",
            Sniffed::Pdf => "a PDF document",
            Sniffed::Refused(what) => what,
            Sniffed::Unknown => "not a recognised image, video or PDF",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_accepted_formats() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Sniffed::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Sniffed::Png);
        assert_eq!(sniff(b"GIF89a"), Sniffed::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Sniffed::WebP);
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), Sniffed::Avi);
        assert_eq!(sniff(b"\0\0\0\x18ftypisom"), Sniffed::Mp4);
        assert_eq!(sniff(b"\0\0\0\x14ftypqt  "), Sniffed::QuickTime);
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]), Sniffed::WebM);
        assert_eq!(sniff(b"%PDF-1.7"), Sniffed::Pdf);
    }

    #[test]
    fn unknown_content_is_named_by_infer_when_it_can() {
        let rar = b"Rar!\x1a\x07\x01\x00rest of the archive";
        assert_eq!(sniff(rar), Sniffed::Unknown);
        let named = what_it_looks_like(rar).expect("infer knows RAR");
        assert!(named.contains("rar"), "{named}");
        assert_eq!(what_it_looks_like(b"hello, this is a text file"), None);
    }

    #[test]
    fn refuses_lookalikes_and_text() {
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic"),
            Sniffed::Refused("a HEIC image")
        );
        assert_eq!(sniff(b"hello, this is a text file"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(&[0xFF, 0xD8]), Sniffed::Unknown);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Sniffed::Unknown);
    }
}
