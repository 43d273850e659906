//! The entries of a submission folder: which names are allowed and which role each file plays.
//! Nothing here reads file contents; it only lists the folder.

use std::fs;
use std::path::Path;

use idreview_protocol::card::FileRole;

use super::Rejection;
use super::submission::MANIFEST_FILE;

/// Where a writer puts the manifest before renaming it; ignored if left behind.
pub(super) const MANIFEST_TMP: &str = "submission.toml.tmp";
/// More files than this is not an identity submission.
const MAX_FILES: usize = 32;

/// What a submission folder holds.
pub(super) struct Listing {
    /// Whether `submission.toml` is present.
    pub has_manifest: bool,
    /// Every document file with its role, in stored order: front, back, selfie, then extras by
    /// name.
    pub files: Vec<(FileRole, String)>,
}

/// Lists a submission folder. Rules: `unreadable`, `symlink`, `file_name`,
/// `unexpected_directory`, `too_many_files`, `duplicate_role`.
pub(super) fn list_folder(dir: &Path) -> Result<Listing, Rejection> {
    let unreadable = |e: std::io::Error| {
        Rejection::new(
            "unreadable",
            format!("the submission folder could not be read ({e}); check its permissions"),
        )
    };
    if dir
        .symlink_metadata()
        .map_err(unreadable)?
        .file_type()
        .is_symlink()
    {
        return Err(Rejection::new(
            "symlink",
            "the submission folder is a symbolic link; put a real folder in the inbox",
        ));
    }
    let mut names = Vec::new();
    let mut has_manifest = false;
    for entry in fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            let shown = os_name.to_string_lossy();
            return Err(Rejection::file(
                "file_name",
                shown.as_ref(),
                format!(
                    "the file name {shown:?} is not valid UTF-8; rename it using plain letters and digits"
                ),
            ));
        };
        let kind = entry.file_type().map_err(unreadable)?;
        if kind.is_symlink() {
            return Err(Rejection::file(
                "symlink",
                name,
                format!("{name} is a symbolic link; put the file itself in the folder"),
            ));
        }
        if kind.is_dir() {
            return Err(Rejection::file(
                "unexpected_directory",
                name,
                format!("{name} is a folder; put all files directly in the submission folder"),
            ));
        }
        match name {
            MANIFEST_FILE => has_manifest = true,
            MANIFEST_TMP => {}
            _ => {
                check_name(name)?;
                names.push(name.to_owned());
            }
        }
    }
    if names.len() > MAX_FILES {
        return Err(Rejection::new(
            "too_many_files",
            format!(
                "the submission holds {} files; at most {MAX_FILES} are accepted, so keep only the documents asked for",
                names.len()
            ),
        ));
    }
    names.sort();
    Ok(Listing {
        has_manifest,
        files: assign_roles(names)?,
    })
}

/// Names that could escape the folder, hide, or be half-written are refused.
fn check_name(name: &str) -> Result<(), Rejection> {
    let problem = if name.contains("..") {
        Some("contains \"..\"")
    } else if name.starts_with('.') {
        Some("is hidden (starts with a dot)")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters")
    } else if name.ends_with(".tmp") || name.ends_with(".part") {
        Some("looks like an unfinished upload")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Rejection::file(
            "file_name",
            name,
            format!("the file name {name:?} {problem}; rename or remove it and resubmit"),
        )),
        None => Ok(()),
    }
}

/// The role a name claims: the part before the first dot, case-insensitively.
fn role_of(name: &str) -> FileRole {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
    match stem.as_str() {
        "front" => FileRole::Front,
        "back" => FileRole::Back,
        "selfie" => FileRole::Selfie,
        _ => FileRole::Extra,
    }
}

/// Pairs each (sorted) name with its role, in stored order: front, back, selfie, extras.
fn assign_roles(names: Vec<String>) -> Result<Vec<(FileRole, String)>, Rejection> {
    let mut roles: Vec<(FileRole, String)> = Vec::with_capacity(names.len());
    for name in names {
        let role = role_of(&name);
        if role != FileRole::Extra
            && let Some((_, first)) = roles.iter().find(|(r, _)| *r == role)
        {
            return Err(Rejection::file(
                "duplicate_role",
                &name,
                format!("{first} and {name} are both the {role}; keep only one of them"),
            ));
        }
        roles.push((role, name));
    }
    // Stable: extras keep their name order.
    roles.sort_by_key(|(role, _)| *role);
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::*;
    use crate::config::ValidationConfig;
    use crate::validate::fixtures::{jpeg, manifest, png, write_submission};
    use crate::validate::validate_submission;

    fn validate(dir: &Path) -> Result<crate::validate::ValidSubmission, Rejection> {
        validate_submission(dir, &ValidationConfig::default())
    }

    fn rule(dir: &Path) -> &'static str {
        validate(dir).expect_err("should be refused").rule
    }

    #[test]
    fn two_fronts_are_a_duplicate() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (a, b) = (jpeg(1000, 700, 1), png(900, 650));
        let files: [(&str, &[u8]); 2] = [("front.jpg", &a), ("front.png", &b)];
        write_submission(tmp.path(), Some(&manifest("passport")), &files);
        let r = validate(tmp.path()).expect_err("duplicate");
        assert_eq!(r.rule, "duplicate_role");
        assert!(
            r.message.contains("front.jpg and front.png"),
            "{}",
            r.message
        );
    }

    #[test]
    fn symlinks_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("real.jpg", &img)],
        );
        std::os::unix::fs::symlink(tmp.path().join("real.jpg"), tmp.path().join("front.jpg"))
            .expect("symlink");
        assert_eq!(rule(tmp.path()), "symlink");
        let link = tmp.path().with_extension("link");
        std::os::unix::fs::symlink(tmp.path(), &link).expect("symlink dir");
        assert_eq!(rule(&link), "symlink");
        fs::remove_file(&link).expect("cleanup");
    }

    #[test]
    fn bad_names_are_refused() {
        let img = jpeg(1000, 700, 1);
        for name in ["front..jpg", ".hidden.jpg", "extra.jpg.tmp"] {
            let tmp = tempfile::tempdir().expect("tempdir");
            let files: [(&str, &[u8]); 2] = [("front.jpg", &img), (name, &img)];
            write_submission(tmp.path(), Some(&manifest("passport")), &files);
            assert_eq!(rule(tmp.path()), "file_name", "{name}");
        }
    }

    #[test]
    fn non_utf8_name_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("front.jpg", &img)],
        );
        let name = std::ffi::OsStr::from_bytes(b"scan-\xff\xfe.jpg");
        fs::write(tmp.path().join(name), &img).expect("write");
        assert_eq!(rule(tmp.path()), "file_name");
    }

    #[test]
    fn subdirectory_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = jpeg(1000, 700, 1);
        write_submission(
            tmp.path(),
            Some(&manifest("passport")),
            &[("front.jpg", &img)],
        );
        fs::create_dir(tmp.path().join("more")).expect("mkdir");
        assert_eq!(rule(tmp.path()), "unexpected_directory");
    }

    #[test]
    fn too_many_files_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        write_submission(tmp.path(), Some(&manifest("passport")), &[]);
        for i in 0..=MAX_FILES {
            fs::write(tmp.path().join(format!("extra-{i}.pdf")), "%PDF-").expect("write");
        }
        assert_eq!(rule(tmp.path()), "too_many_files");
    }
}
