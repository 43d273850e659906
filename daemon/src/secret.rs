//! [`Secret`]: a setting that is read like any other (file, environment) but never shown. Its
//! `Debug` and `Serialize` print a marker instead of the value, so `idreviewd config`, logs,
//! `doctor` and any JSON built from settings cannot leak it; code that needs the value asks
//! for it by name with [`Secret::expose`].

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// What a secret prints as when it is set.
pub const REDACTED: &str = "[redacted]";

/// A secret string setting (an API key, a signing key, a password).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that uses it (a header, a signature, a client).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no value is set (blank counts as unset).
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Whether the value is the marker `idreviewd config` prints: a copied output, not a key.
    pub fn is_marker(&self) -> bool {
        self.0.trim() == REDACTED
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.is_empty() {
            true => f.write_str("\"\""),
            false => f.write_str(REDACTED),
        }
    }
}

/// An unset secret serialises as empty (so the defaults stay empty), a set one as the marker.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.is_empty() {
            true => serializer.serialize_str(""),
            false => serializer.serialize_str(REDACTED),
        }
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_secret_never_prints() {
        let key = Secret::new("sk_live_123");
        assert_eq!(format!("{key:?}"), REDACTED);
        assert_eq!(
            serde_json::to_string(&key).expect("json"),
            format!("\"{REDACTED}\"")
        );
        assert_eq!(key.expose(), "sk_live_123");
        assert_eq!(
            serde_json::to_string(&Secret::default()).expect("json"),
            "\"\""
        );
        let read: Secret = serde_json::from_str("\"abc\"").expect("reads as a plain string");
        assert_eq!(read.expose(), "abc");
        assert!(Secret::new(REDACTED).is_marker());
    }
}
