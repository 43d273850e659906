//! `idreviewd doctor`: checks the configuration and the world it points at (data dir, inbox,
//! object store, verification provider, TLS certificate, socket, metrics address, HTTP API), one line per
//! check with a hint on how to fix what failed. Nothing here changes the daemon's state: probes
//! write only their own short-lived files and objects and remove them again.

mod http;
mod local;
mod remote;

use std::fmt;

use crate::config::Config;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What was checked, e.g. `data dir` or `s3`.
    pub name: &'static str,
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// How to fix it; only for warnings and failures.
    pub hint: Option<String>,
}

impl Check {
    pub(crate) fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            level: Level::Ok,
            detail: detail.into(),
            hint: None,
        }
    }

    pub(crate) fn warn(
        name: &'static str,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name,
            level: Level::Warn,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    pub(crate) fn fail(
        name: &'static str,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            name,
            level: Level::Fail,
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<4}  {:<10} {}", self.level, self.name, self.detail)?;
        if let Some(hint) = &self.hint {
            write!(f, " -- fix: {hint}")?;
        }
        Ok(())
    }
}

/// Runs every check that applies to `config` (read from `file`, if one), in the order a
/// reader fixes them.
pub async fn run(config: &Config, file: Option<&std::path::Path>) -> Vec<Check> {
    let mut checks = vec![
        source(file),
        local::data_dir(config),
        local::daemon_lock(config).await,
        local::socket(config),
        local::inbox(config).await,
    ];
    checks.push(remote::storage(config).await);
    checks.push(remote::verifier(config).await);
    checks.extend(remote::tls(config));
    checks.extend(local::metrics(config));
    checks.extend(http::http(config).await);
    checks
}

/// Where the settings came from: the file, and which environment variables override it (by
/// name only: values may be secrets).
fn source(file: Option<&std::path::Path>) -> Check {
    let mut env: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("IDREVIEW__"))
        .collect();
    env.sort();
    let base = match file {
        Some(file) => format!("{} over the built-in defaults", file.display()),
        None => "built-in defaults (no --config file)".to_string(),
    };
    match env.as_slice() {
        [] => Check::ok("config", base),
        names => Check::ok(
            "config",
            format!("{base}, overridden by {}", names.join(", ")),
        ),
    }
}

/// Whether the report lets the daemon start: no check failed.
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.level != Level::Fail)
}
