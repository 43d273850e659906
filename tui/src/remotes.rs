//! The remote daemons this console knows: invites from `idreviewd remote invite`, stored by
//! `idreview remote add` in the config dir (`remotes/NAME.invite`, mode 0600, in a 0700
//! folder) and read back by `idreview --remote NAME`, which connects over TLS with the
//! invite's address, certificate trust and token.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use idreview_protocol::invite::{Invite, valid_name};

use crate::error::Error;

fn usage(e: impl std::fmt::Display) -> Error {
    Error::Usage(e.to_string())
}

/// Checks `file` and stores it as `dir/NAME.invite` (0600, in a 0700 folder), replacing an
/// earlier invite of that name.
pub fn add(
    file: &Path,
    name: Option<String>,
    dir: &Path,
) -> Result<(String, PathBuf, Invite), Error> {
    let mut invite = Invite::read(file).map_err(usage)?;
    if let Some(name) = name {
        if !valid_name(&name) {
            return Err(usage(format!(
                "{name:?} cannot name a remote: use letters, digits, '.', '_' or '-'"
            )));
        }
        invite.name = name;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let stored = dir.join(format!("{}.invite", invite.name));
    invite.write_over(&stored).map_err(usage)?;
    Ok((invite.name.clone(), stored, invite))
}

/// Every stored remote, by name.
pub fn list(dir: &Path) -> Result<Vec<(String, Invite)>, Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut all = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".invite"))
        else {
            continue;
        };
        all.push((name.to_string(), Invite::read(&path).map_err(usage)?));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(all)
}

/// The stored remote `name`.
pub fn load(name: &str, dir: &Path) -> Result<Invite, Error> {
    let path = dir.join(format!("{name}.invite"));
    if !valid_name(name) || !path.exists() {
        return Err(usage(format!(
            "no remote named {name:?} in {}; add one with `idreview remote add FILE`",
            dir.display()
        )));
    }
    Invite::read(&path).map_err(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_invite_is_private_and_loads_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("alice.invite");
        let invite = Invite {
            name: "alice".into(),
            address: "127.0.0.1:7443".into(),
            ca: None,
            fingerprint: Some("cd".repeat(32)),
            token: "idr_x_secret".into(),
        };
        invite.write_new(&file).expect("write");
        let remotes = dir.path().join("config/remotes");
        let (name, stored, _) = add(&file, Some("work".into()), &remotes).expect("add");
        assert_eq!(name, "work");
        let mode = std::fs::metadata(&stored)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = load("work", &remotes).expect("load");
        assert_eq!(loaded.address, "127.0.0.1:7443");
        assert_eq!(loaded.token, "idr_x_secret");
        assert_eq!(list(&remotes).expect("list").len(), 1);
        let err = load("nobody", &remotes).expect_err("not added");
        assert!(err.to_string().contains("idreview remote add"), "{err}");
    }
}
