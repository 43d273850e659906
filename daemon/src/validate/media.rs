//! One document file: its size checked from metadata, then read once into memory and hashed,
//! its type sniffed from its first bytes, and its content checked for its role. The digest and
//! the file's fingerprint travel on to storage, which does not hash the file again.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use idreview_protocol::card::FileRole;
use sha2::{Digest, Sha256};

use super::Rejection;
use super::images::check_image;
use super::sniff::{Class, HEAD_LEN, Sniffed, sniff, what_it_looks_like};
use super::video::check_video;
use crate::config::ValidationConfig;
use crate::objects::Fingerprint;

/// What inspecting an accepted file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// By content: `image/jpeg`, `image/png`, `image/gif`, `image/webp`, `video/mp4`,
    /// `video/webm`, `video/quicktime`, `video/x-msvideo` or `application/pdf`.
    pub media_type: &'static str,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Width and height, for images.
    pub dimensions: Option<(u32, u32)>,
    /// The file as it was when read (taken before the first byte), so that storing it can
    /// tell that it has not changed since without hashing it again.
    pub fingerprint: Fingerprint,
}

/// Checks one file for the given role and describes it.
/// The file is read once: its first bytes decide the type and so the size limit, which is checked
/// against the metadata before the rest is read, so an oversized file is never loaded. Rules:
/// `symlink`, `unreadable`, `empty_file`, `file_type`, `image_too_large`, `video_too_large`,
/// `file_too_large`, `decompression_bomb`, `image_corrupt`, `image_too_small` (front and back
/// only), `video_corrupt`, `pdf_corrupt`.
pub fn inspect_file(
    path: &Path,
    role: FileRole,
    limits: &ValidationConfig,
) -> Result<Inspected, Rejection> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let unreadable = |e: std::io::Error| {
        Rejection::file(
            "unreadable",
            &name,
            format!("{name} could not be read ({e}); check its permissions and resubmit"),
        )
    };
    let meta = path.symlink_metadata().map_err(unreadable)?;
    if meta.file_type().is_symlink() {
        return Err(Rejection::file(
            "symlink",
            &name,
            format!("{name} is a symbolic link; put the file itself in the folder"),
        ));
    }
    if !meta.is_file() {
        return Err(Rejection::file(
            "file_type",
            &name,
            format!("{name} is not a regular file; put only document files in the folder"),
        ));
    }
    if meta.len() == 0 {
        return Err(Rejection::file(
            "empty_file",
            &name,
            format!("{name} is empty (0 bytes); copy the file again and resubmit"),
        ));
    }

    let mut file = File::open(path).map_err(unreadable)?;
    // Before reading: a write at any point after this moves the modification time.
    let fingerprint = Fingerprint::of(&file.metadata().map_err(unreadable)?);
    let mut data = Vec::with_capacity(HEAD_LEN);
    (&mut file)
        .take(HEAD_LEN as u64)
        .read_to_end(&mut data)
        .map_err(unreadable)?;
    let kind = sniff(&data);
    check_role(&name, role, kind, &data)?;
    let max = size_limit(&name, kind, meta.len(), limits)?;

    // Read the rest, never past the limit even if the file grows meanwhile.
    let room = max.saturating_sub(data.len() as u64);
    data.reserve(usize::try_from(meta.len()).unwrap_or(0).min(max as usize));
    (&mut file)
        .take(room + 1)
        .read_to_end(&mut data)
        .map_err(unreadable)?;
    size_limit(&name, kind, data.len() as u64, limits)?;

    let dimensions = match kind.class() {
        Class::Image => {
            let min_size = matches!(role, FileRole::Front | FileRole::Back);
            Some(check_image(&name, &data, kind, limits, min_size)?)
        }
        Class::Video => {
            check_video(&name, &data, kind)?;
            None
        }
        Class::Pdf => {
            check_pdf(&name, &data)?;
            None
        }
        Class::Other => None,
    };
    Ok(Inspected {
        media_type: kind.media_type(),
        size: data.len() as u64,
        sha256: hex::encode(Sha256::digest(&data)),
        dimensions,
        fingerprint,
    })
}

/// Front and back must be images; a selfie an image or a video; extras may also be PDFs.
fn check_role(name: &str, role: FileRole, kind: Sniffed, head: &[u8]) -> Result<(), Rejection> {
    let (allowed, wanted): (&[Class], &str) = match role {
        FileRole::Front | FileRole::Back => (&[Class::Image], "a JPEG, PNG, GIF or WebP photo"),
        FileRole::Selfie => (
            &[Class::Image, Class::Video],
            "a JPEG, PNG, GIF or WebP photo, or an MP4, MOV, WebM or AVI video",
        ),
        FileRole::Extra => (
            &[Class::Image, Class::Video, Class::Pdf],
            "an image (JPEG, PNG, GIF, WebP), a video (MP4, MOV, WebM, AVI) or a PDF",
        ),
    };
    if allowed.contains(&kind.class()) {
        return Ok(());
    }
    let is = match kind {
        Sniffed::Unknown => what_it_looks_like(head).map_or_else(
            || kind.describe().to_string(),
            |it| format!("{it}, not accepted"),
        ),
        _ => kind.describe().to_string(),
    };
    Err(Rejection::file(
        "file_type",
        name,
        format!("{name} is {is} by its content; the {role} must be {wanted}"),
    ))
}

/// The size limit for this kind of file, or the rejection when `size` is over it.
fn size_limit(
    name: &str,
    kind: Sniffed,
    size: u64,
    limits: &ValidationConfig,
) -> Result<u64, Rejection> {
    let (max, rule, what) = match kind.class() {
        Class::Image => (limits.max_image_bytes, "image_too_large", "images"),
        Class::Video => (limits.max_video_bytes, "video_too_large", "videos"),
        _ => (limits.max_other_bytes, "file_too_large", "documents"),
    };
    if size > max {
        return Err(Rejection::file(
            rule,
            name,
            format!(
                "{name} is {}; {what} may be at most {}, so compress or shorten it and resubmit",
                human_size(size),
                human_size(max)
            ),
        ));
    }
    Ok(max)
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// A PDF must carry its end-of-file marker near the end; a cut-off upload does not.
fn check_pdf(name: &str, data: &[u8]) -> Result<(), Rejection> {
    let tail = &data[data.len().saturating_sub(1024)..];
    if tail.windows(5).any(|w| w == b"%%EOF") {
        return Ok(());
    }
    Err(Rejection::file(
        "pdf_corrupt",
        name,
        format!("{name} is a PDF without its end marker; it looks truncated, so export it again"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::fixtures::{jpeg, mp4, noise_png, webm};

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }

    fn rule(path: &Path, role: FileRole, limits: &ValidationConfig) -> &'static str {
        inspect_file(path, role, limits).expect_err("refused").rule
    }

    #[test]
    fn a_jpeg_front_is_described() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = jpeg(1000, 700, 1);
        let path = write(dir.path(), "front.png", &bytes);
        let got = inspect_file(&path, FileRole::Front, &ValidationConfig::default()).expect("ok");
        assert_eq!(got.media_type, "image/jpeg", "by content, not by extension");
        assert_eq!(got.size, bytes.len() as u64);
        assert_eq!(got.dimensions, Some((1000, 700)));
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(got.sha256.len(), 64);
    }

    #[test]
    fn text_named_jpg_is_wrong_type() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "front.jpg", b"this is not a photo at all\n");
        let r = inspect_file(&path, FileRole::Front, &ValidationConfig::default()).expect_err("no");
        assert_eq!(r.rule, "file_type");
        assert_eq!(r.file.as_deref(), Some("front.jpg"));
    }

    #[test]
    fn empty_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "front.jpg", b"");
        assert_eq!(
            rule(&path, FileRole::Front, &ValidationConfig::default()),
            "empty_file"
        );
    }

    #[test]
    fn image_over_the_configured_limit_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "front.jpg", &jpeg(1000, 700, 2));
        let limits = ValidationConfig {
            max_image_bytes: 10 * 1024,
            ..ValidationConfig::default()
        };
        assert_eq!(rule(&path, FileRole::Front, &limits), "image_too_large");
    }

    #[test]
    fn real_image_over_ten_megabytes_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes = noise_png(1800, 1500);
        assert!(bytes.len() > 10 * 1024 * 1024, "{} bytes", bytes.len());
        let path = write(dir.path(), "front.png", &bytes);
        let r =
            inspect_file(&path, FileRole::Front, &ValidationConfig::default()).expect_err("big");
        assert_eq!(r.rule, "image_too_large");
        assert!(r.message.contains("10.0 MiB"), "{}", r.message);
    }

    #[test]
    fn video_over_fifty_megabytes_is_refused_unread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "selfie.mp4", &mp4());
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        file.set_len(51 * 1024 * 1024).expect("sparse");
        assert_eq!(
            rule(&path, FileRole::Selfie, &ValidationConfig::default()),
            "video_too_large"
        );
    }

    #[test]
    fn selfie_video_is_accepted_and_fake_video_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = ValidationConfig::default();
        let good = write(dir.path(), "selfie.webm", &webm(b"webm"));
        let got = inspect_file(&good, FileRole::Selfie, &limits).expect("webm");
        assert_eq!((got.media_type, got.dimensions), ("video/webm", None));
        let fake = write(dir.path(), "selfie.mp4", b"#!/bin/sh\necho not a video\n");
        assert_eq!(rule(&fake, FileRole::Selfie, &limits), "file_type");
        let pdf = write(dir.path(), "selfie2.mp4", b"%PDF-1.4\n%%EOF\n");
        assert_eq!(rule(&pdf, FileRole::Selfie, &limits), "file_type");
    }

    #[test]
    fn selfie_image_has_no_minimum_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "selfie.jpg", &jpeg(400, 300, 3));
        let got = inspect_file(&path, FileRole::Selfie, &ValidationConfig::default()).expect("ok");
        assert_eq!(got.dimensions, Some((400, 300)));
    }

    #[test]
    fn extras_may_be_pdf_but_front_may_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = ValidationConfig::default();
        let pdf = write(
            dir.path(),
            "bill.pdf",
            b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
        );
        let got = inspect_file(&pdf, FileRole::Extra, &limits).expect("pdf");
        assert_eq!(got.media_type, "application/pdf");
        assert_eq!(rule(&pdf, FileRole::Front, &limits), "file_type");
        let cut = write(dir.path(), "cut.pdf", b"%PDF-1.7\n1 0 obj\n<<");
        assert_eq!(rule(&cut, FileRole::Extra, &limits), "pdf_corrupt");
        let zip = write(dir.path(), "x.zip", b"PK\x03\x04rest of a zip");
        assert_eq!(rule(&zip, FileRole::Extra, &limits), "file_type");
    }

    #[test]
    fn an_unaccepted_format_is_named_in_the_refusal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = ValidationConfig::default();
        let rar = write(
            dir.path(),
            "scan.jpg",
            b"Rar!\x1a\x07\x01\x00rest of an archive",
        );
        let refused = inspect_file(&rar, FileRole::Front, &limits).expect_err("a RAR archive");
        assert_eq!(refused.rule, "file_type");
        assert!(refused.message.contains("rar"), "{}", refused.message);
        let text = write(dir.path(), "notes.jpg", b"plain words, no magic");
        let refused = inspect_file(&text, FileRole::Front, &limits).expect_err("text");
        assert!(
            refused.message.contains("not a recognised"),
            "{}",
            refused.message
        );
    }
}
