//! A remote set-up in one file: `idreviewd remote invite NAME` writes it on the daemon's host
//! (the address, how to trust the daemon's certificate, a new token), and `idreview remote add
//! FILE` stores it on the reviewer's machine, after which `idreview --remote NAME` connects.
//! The file holds a bearer token: it is written with mode 0600 and its text never printed.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::tls::Trust;

/// The invite file's contents.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// What the console calls the daemon (`idreview --remote NAME`); also the token's name.
    pub name: String,
    /// `host:port` of the daemon's TLS listener, as the reviewer reaches it.
    pub address: String,
    /// The CA certificate (PEM) the daemon's certificate chains to; or else
    pub ca: Option<String>,
    /// the SHA-256 fingerprint (hex) the daemon's certificate must have.
    pub fingerprint: Option<String>,
    /// The bearer token.
    pub token: String,
}

impl std::fmt::Debug for Invite {
    /// Everything but the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invite")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("ca", &self.ca.as_ref().map(|_| "(PEM)"))
            .field("fingerprint", &self.fingerprint)
            .field("token", &"(secret)")
            .finish()
    }
}

/// Why an invite could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an idreview invite: {message}")]
    Invalid { path: String, message: String },
}

const HEADER: &str = "# An idreview remote invite. It holds a bearer token: keep it private, and \
delete it once\n# `idreview remote add THIS_FILE` has stored it.\n";

impl Invite {
    /// How the console checks the daemon's certificate: the CA when there is one, else the pin.
    pub fn trust(&self) -> Option<Trust> {
        match (&self.ca, &self.fingerprint) {
            (Some(pem), _) => Some(Trust::CaPem(pem.clone())),
            (None, Some(pin)) => Some(Trust::Pin(pin.clone())),
            (None, None) => None,
        }
    }

    /// Reads and checks the invite at `path`.
    pub fn read(path: &Path) -> Result<Invite, InviteError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| InviteError::Io {
            path: shown.clone(),
            source,
        })?;
        let invalid = |message: String| InviteError::Invalid {
            path: shown.clone(),
            message,
        };
        let invite: Invite = toml::from_str(&text).map_err(|e| invalid(e.message().into()))?;
        invite.check().map_err(invalid)?;
        Ok(invite)
    }

    /// What makes an invite usable: a plain name, an address, a way to trust, a token.
    pub fn check(&self) -> Result<(), String> {
        if !valid_name(&self.name) {
            return Err(format!(
                "the name {:?} must be letters, digits, '.', '_' or '-'",
                self.name
            ));
        }
        if !self.address.contains(':') {
            return Err(format!("the address {:?} is not host:port", self.address));
        }
        if self.trust().is_none() {
            return Err("it names neither a CA certificate nor a fingerprint".into());
        }
        if self.token.trim().is_empty() {
            return Err("it holds no token".into());
        }
        Ok(())
    }

    /// Writes the invite to `path` with mode 0600, refusing to replace an existing file.
    pub fn write_new(&self, path: &Path) -> Result<(), InviteError> {
        self.write(path, false)
    }

    /// Writes the invite to `path` with mode 0600, replacing what was there.
    pub fn write_over(&self, path: &Path) -> Result<(), InviteError> {
        self.write(path, true)
    }

    fn write(&self, path: &Path, replace: bool) -> Result<(), InviteError> {
        let io = |source| InviteError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = toml::to_string(self).map_err(|e| InviteError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).mode(0o600);
        if replace {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        let mut file = options.open(path).map_err(io)?;
        // An existing file keeps its mode when opened; make sure it is private.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
        file.write_all(HEADER.as_bytes()).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }
}

/// A name usable as a file name and on the command line.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Invite {
        Invite {
            name: "alice".into(),
            address: "review.example.org:7443".into(),
            ca: None,
            fingerprint: Some("ab".repeat(32)),
            token: "idr_secret".into(),
        }
    }

    #[test]
    fn an_invite_round_trips_privately_and_never_shows_its_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("alice.invite");
        invite().write_new(&path).expect("write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Invite::read(&path).expect("read"), invite());
        assert!(
            invite().write_new(&path).is_err(),
            "never replaced silently"
        );
        assert!(!format!("{:?}", invite()).contains("idr_secret"));
    }

    #[test]
    fn an_invite_without_trust_or_token_is_refused() {
        let mut bad = invite();
        bad.fingerprint = None;
        assert!(bad.check().is_err());
        let mut bad = invite();
        bad.token = " ".into();
        assert!(bad.check().is_err());
        let mut bad = invite();
        bad.name = "../x".into();
        assert!(bad.check().is_err());
    }
}
