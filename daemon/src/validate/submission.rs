//! A whole submission: the folder listing, the manifest, the required roles, and every file's
//! content, checked in that order.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use idreview_protocol::card::FileRole;

use super::Rejection;
use super::folder::list_folder;
use super::manifest::{Manifest, parse_manifest};
use super::media::{Inspected, inspect_file};
use crate::config::ValidationConfig;

/// The manifest's file name; its presence marks a submission as complete.
pub const MANIFEST_FILE: &str = "submission.toml";
/// A manifest is a few lines; anything bigger is not one.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// One accepted document file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidFile {
    pub role: FileRole,
    /// The file name inside the submission folder.
    pub name: String,
    pub path: PathBuf,
    pub inspected: Inspected,
}

/// An accepted submission: its manifest and its files, front first, then back, selfie, and
/// extras sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSubmission {
    pub manifest: Manifest,
    pub files: Vec<ValidFile>,
}

/// Validates a submission folder, stopping at the first rule that fails.
/// Order: folder entries (`unreadable`, `symlink`, `file_name`, `unexpected_directory`,
/// `too_many_files`, `duplicate_role`), the manifest (`manifest_missing`, `manifest_malformed`,
/// `unknown_document_type`), required roles (`front_missing`, `back_missing`), then each file's
/// content (see [`inspect_file`]).
pub fn validate_submission(
    dir: &Path,
    limits: &ValidationConfig,
) -> Result<ValidSubmission, Rejection> {
    let listing = list_folder(dir)?;
    if !listing.has_manifest {
        return Err(Rejection::new(
            "manifest_missing",
            format!(
                "{MANIFEST_FILE} is missing; add it with user_id and document_type, last, once every file is in place"
            ),
        ));
    }
    let manifest = parse_manifest(&read_manifest(&dir.join(MANIFEST_FILE))?)?;

    let roles = listing.files;
    if !roles.iter().any(|(role, _)| *role == FileRole::Front) {
        return Err(Rejection::new(
            "front_missing",
            "the front image is missing; add a photo of the document's front named front.jpg (or .png, .gif, .webp)",
        ));
    }
    if manifest.document_type.requires_back() && !roles.iter().any(|(r, _)| *r == FileRole::Back) {
        return Err(Rejection::new(
            "back_missing",
            format!(
                "a {} has data on both sides but the back image is missing; add a photo of the back named back.jpg",
                manifest.document_type
            ),
        ));
    }

    let files = roles
        .into_iter()
        .map(|(role, name)| {
            let path = dir.join(&name);
            let inspected = inspect_file(&path, role, limits)?;
            Ok(ValidFile {
                role,
                name,
                path,
                inspected,
            })
        })
        .collect::<Result<Vec<_>, Rejection>>()?;
    Ok(ValidSubmission { manifest, files })
}

/// Reads the manifest, bounded so that a huge file is not loaded.
fn read_manifest(path: &Path) -> Result<String, Rejection> {
    let malformed = |why: String| Rejection::file("manifest_malformed", MANIFEST_FILE, why);
    let file = fs::File::open(path)
        .map_err(|e| malformed(format!("{MANIFEST_FILE} could not be read ({e})")))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| malformed(format!("{MANIFEST_FILE} could not be read ({e})")))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(malformed(format!(
            "{MANIFEST_FILE} is larger than {} KiB; it should hold only user_id, document_type and country",
            MAX_MANIFEST_BYTES / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        malformed(format!(
            "{MANIFEST_FILE} is not UTF-8 text; save it as UTF-8"
        ))
    })
}

#[cfg(test)]
mod tests {
    use idreview_protocol::card::DocumentType;

    use super::*;
    use crate::validate::fixtures::{jpeg, manifest, mp4, png, write_submission};

    fn validate(dir: &Path) -> Result<ValidSubmission, Rejection> {
        validate_submission(dir, &ValidationConfig::default())
    }

    fn rule(dir: &Path) -> &'static str {
        validate(dir).expect_err("should be refused").rule
    }

    #[test]
    fn passport_with_front_only_is_valid() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let front = jpeg(1000, 700, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("front.jpg", &front)],
        );
        let valid = validate(tmp.path()).expect("valid");
        assert_eq!(valid.manifest.document_type, DocumentType::Passport);
        assert_eq!(valid.manifest.country.as_deref(), Some("NL"));
        assert_eq!(valid.files.len(), 1);
        assert_eq!(valid.files[0].role, FileRole::Front);
        assert_eq!(valid.files[0].path, tmp.path().join("front.jpg"));
    }

    #[test]
    fn national_id_with_everything_is_ordered() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (front, back) = (jpeg(1000, 700, 1), png(900, 650));
        let pdf = b"%PDF-1.4\n%%EOF\n".as_slice();
        write_submission(
            tmp.path(),
            Some(&manifest("national_id")),
            &[
                ("z-proof.pdf", pdf),
                ("selfie.mp4", &mp4()),
                ("a-proof.jpg", &front),
                ("BACK.PNG", &back),
                ("front.jpg", &front),
            ],
        );
        // A manifest temp file left behind by the writer is not a document.
        fs::write(tmp.path().join("submission.toml.tmp"), "x").expect("tmp");
        let valid = validate(tmp.path()).expect("valid");
        let got: Vec<(FileRole, &str, &str)> = valid
            .files
            .iter()
            .map(|f| (f.role, f.name.as_str(), f.inspected.media_type))
            .collect();
        assert_eq!(
            got,
            [
                (FileRole::Front, "front.jpg", "image/jpeg"),
                (FileRole::Back, "BACK.PNG", "image/png"),
                (FileRole::Selfie, "selfie.mp4", "video/mp4"),
                (FileRole::Extra, "a-proof.jpg", "image/jpeg"),
                (FileRole::Extra, "z-proof.pdf", "application/pdf"),
            ]
        );
    }

    #[test]
    fn passport_may_have_a_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        let files: [(&str, &[u8]); 2] = [("front.jpg", &img), ("back.jpg", &img)];
        write_submission(tmp.path(), Some(&manifest("passport")), &files);
        assert_eq!(
            validate(tmp.path()).expect("valid").files[1].role,
            FileRole::Back
        );
    }

    #[test]
    fn missing_back_for_national_id() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("national_id")),
            &[("front.jpg", &img)],
        );
        assert_eq!(rule(tmp.path()), "back_missing");
    }

    #[test]
    fn missing_front() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("back.jpg", &img)],
        );
        assert_eq!(rule(tmp.path()), "front_missing");
    }

    #[test]
    fn manifest_problems() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        write_submission(tmp.path(), None, &[("front.jpg", &img)]);
        assert_eq!(rule(tmp.path()), "manifest_missing");
        fs::write(tmp.path().join(MANIFEST_FILE), "user_id = [").expect("write");
        assert_eq!(rule(tmp.path()), "manifest_malformed");
        fs::write(tmp.path().join(MANIFEST_FILE), manifest("selfie_stick")).expect("write");
        assert_eq!(rule(tmp.path()), "unknown_document_type");
        fs::write(tmp.path().join(MANIFEST_FILE), "# x\n".repeat(20_000)).expect("write");
        assert_eq!(rule(tmp.path()), "manifest_malformed");
    }

    #[test]
    fn truncated_front_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        let half = &img[..img.len() / 2];
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("front.jpg", half)],
        );
        assert_eq!(rule(tmp.path()), "image_corrupt");
    }

    #[test]
    fn small_front_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(640, 480, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("front.jpg", &img)],
        );
        let r = validate(tmp.path()).expect_err("small");
        assert_eq!(r.rule, "image_too_small");
        assert_eq!(
            r.message,
            "front.jpg is 640x480; images must be at least 800x600, so take the photo closer or at a higher resolution"
        );
    }
}
