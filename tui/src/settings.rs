//! Console settings: the few keys of the shared `config.toml` the console reads (`[daemon]
//! data_dir`, `[rpc] socket`, `[console] ...`), layered as the daemon layers its own: defaults,
//! the file (`--config`, else `$XDG_CONFIG_HOME/idreview/config.toml` when it exists), the
//! `IDREVIEW__<SECTION>__<KEY>` environment (figment), then flags; resolved into one
//! [`Settings`] value. Unknown keys and sections belong to the daemon and are ignored here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::keys::{Binding, custom};

/// The parts of `config.toml` the console cares about.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    /// `[daemon]`.
    pub daemon: DaemonSection,
    /// `[rpc]`.
    pub rpc: RpcSection,
    /// `[console]`.
    pub console: ConsoleConfig,
}

/// `[daemon]`: only where the data lives.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DaemonSection {
    /// Where the daemon keeps its data.
    pub data_dir: Option<PathBuf>,
}

/// `[rpc]`: only where the socket is.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RpcSection {
    /// The daemon's socket, if not in the data dir.
    pub socket: Option<PathBuf>,
}

/// `[console]`: how the console looks and behaves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Confidence below the first value is red, below the second yellow, else green.
    pub confidence_bands: [f32; 2],
    /// Rows per page; 0 fits the page to the window.
    pub page_size: u32,
    /// Seconds between clock ticks: ages redraw and a broken change feed is retried.
    pub refresh_secs: u64,
    /// Seconds to wait for a daemon the console started itself.
    pub spawn_wait_secs: u64,
    /// Deadline of one RPC, in seconds.
    pub rpc_timeout_secs: u64,
    /// A remote daemon's `host:port` to connect to over TLS instead of the local socket.
    pub connect: Option<String>,
    /// CA certificate (PEM) the remote daemon's certificate must chain to.
    pub ca: Option<PathBuf>,
    /// SHA-256 fingerprint the remote daemon's certificate must have (instead of `ca`).
    pub pin: Option<String>,
    /// File holding the bearer token for the remote daemon.
    pub token_file: Option<PathBuf>,
    /// How document images are drawn: `auto` asks the terminal (kitty, sixel, iTerm2, else
    /// half blocks); `halfblocks` skips the question.
    pub image_protocol: String,
    /// `[console.keys]`: action name -> its keys, replacing the defaults.
    pub keys: BTreeMap<String, KeyList>,
    /// After deciding the open card: `next` opens the next card of the list (in the review
    /// queue, the next card waiting), `stay` keeps the decided card open.
    pub after_decision: AfterDecision,
    /// Reasons offered in the reason prompts (Tab steps through them; any text still goes).
    pub reasons: Vec<String>,
}

/// What the console does after deciding the open card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterDecision {
    /// Open the next card of the list.
    Next,
    /// Keep the decided card open.
    Stay,
}

/// One key or several, as `[console.keys]` takes them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl ConsoleConfig {
    /// The key table in force: the defaults with `[console.keys]` applied.
    pub fn key_table(&self) -> Result<Vec<Binding>, String> {
        let overrides = self
            .keys
            .iter()
            .map(|(name, keys)| {
                let keys = match keys {
                    KeyList::One(k) => vec![k.clone()],
                    KeyList::Many(ks) => ks.clone(),
                };
                (name.clone(), keys)
            })
            .collect();
        custom::customized(&overrides)
    }
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            confidence_bands: [0.5, 0.8],
            page_size: 0,
            refresh_secs: 2,
            spawn_wait_secs: 10,
            rpc_timeout_secs: 10,
            image_protocol: "auto".into(),
            keys: BTreeMap::new(),
            connect: None,
            ca: None,
            pin: None,
            token_file: None,
            after_decision: AfterDecision::Next,
            reasons: [
                "document expired",
                "photo unreadable",
                "data does not match the document",
                "document altered or not genuine",
                "not an accepted document",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl ConfigFile {
    /// Reads `path`; a missing file is an error since the user named it.
    pub fn load(path: &Path) -> Result<ConfigFile, Error> {
        let err = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        ConfigFile::parse(&text).map_err(err)
    }

    /// The daemon's layering (figment): defaults, then `path` (named, so it must exist),
    /// then `IDREVIEW__<SECTION>__<KEY>` variables (`IDREVIEW__CONSOLE__PAGE_SIZE=30`).
    /// Flags are applied over this by [`Settings`].
    pub fn layered(path: Option<&Path>) -> Result<ConfigFile, Error> {
        use figment::Figment;
        use figment::providers::{Env, Format, Toml};
        let shown = path.map_or_else(|| PathBuf::from("(environment)"), Path::to_path_buf);
        let err = |message: String| Error::Config {
            path: shown.clone(),
            message,
        };
        let mut figment = Figment::new();
        if let Some(path) = path {
            if !path.is_file() {
                return Err(err("no such file".into()));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("IDREVIEW__").split("__"));
        let file: ConfigFile = figment.extract().map_err(|e| err(e.to_string()))?;
        file.check().map_err(err)?;
        Ok(file)
    }

    /// Parses the TOML text of a config file.
    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.check()?;
        Ok(file)
    }

    /// The rules serde cannot say.
    fn check(&self) -> Result<(), String> {
        let [low, high] = self.console.confidence_bands;
        if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low > high {
            return Err(format!(
                "[console] confidence_bands must be two numbers in 0..1, low first; got [{low}, {high}]"
            ));
        }
        if !matches!(self.console.image_protocol.as_str(), "auto" | "halfblocks") {
            return Err(format!(
                "[console] image_protocol must be \"auto\" or \"halfblocks\"; got {:?}",
                self.console.image_protocol
            ));
        }
        self.console.key_table()?;
        Ok(())
    }
}

/// Everything resolved: flags over environment over the config file over defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The daemon's data dir.
    pub data_dir: PathBuf,
    /// The daemon's socket.
    pub socket: PathBuf,
    /// The config file in force (named, or the default one when it exists), passed on to a
    /// daemon the console starts.
    pub config_file: Option<PathBuf>,
    /// Bearer token; local socket clients may go without.
    pub token: Option<String>,
    /// The `[console]` settings in force.
    pub console: ConsoleConfig,
    /// `NO_COLOR` is set (to anything non-empty).
    pub no_color: bool,
    /// A remote daemon over TLS, when one is named.
    pub remote: Option<Remote>,
}

/// A remote daemon and how its certificate is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    /// `host:port`.
    pub addr: String,
    /// A CA file or a pinned fingerprint.
    pub trust: idreview_protocol::tls::Trust,
}

/// The remote-access flags, before they are resolved against the config file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteFlags {
    /// `--connect HOST:PORT`.
    pub connect: Option<String>,
    /// `--ca FILE`.
    pub ca: Option<PathBuf>,
    /// `--pin SHA256`.
    pub pin: Option<String>,
    /// `--token-file FILE`.
    pub token_file: Option<PathBuf>,
    /// `--remote NAME`: a remote stored with `idreview remote add`.
    pub remote: Option<String>,
}

impl Settings {
    /// Resolves settings from flags (already merged with env by clap) and the config file.
    pub fn resolve(
        data_dir: Option<PathBuf>,
        socket: Option<PathBuf>,
        config_file: Option<PathBuf>,
        token: Option<String>,
    ) -> Result<Settings, Error> {
        Self::resolve_remote(data_dir, socket, config_file, token, RemoteFlags::default())
    }

    /// [`Settings::resolve`] with the remote-access flags: `--connect` (or `[console]
    /// connect`) with `--ca` or `--pin`, and the token from `--token`/`IDREVIEW_TOKEN` or
    /// `--token-file`.
    pub fn resolve_remote(
        data_dir: Option<PathBuf>,
        socket: Option<PathBuf>,
        config_file: Option<PathBuf>,
        token: Option<String>,
        flags: RemoteFlags,
    ) -> Result<Settings, Error> {
        // Like the daemon: the named file, else `$XDG_CONFIG_HOME/idreview/config.toml` when
        // it exists; then the environment.
        let config_file = config_file.or_else(|| {
            let default = idreview_protocol::paths::default_config_file();
            default.is_file().then_some(default)
        });
        let file = ConfigFile::layered(config_file.as_deref())?;
        let data_dir = data_dir
            .or(file.daemon.data_dir)
            .unwrap_or_else(idreview_protocol::paths::default_data_dir);
        let socket = socket
            .or(file.rpc.socket)
            .unwrap_or_else(|| idreview_protocol::paths::socket_path(&data_dir));
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let console = file.console;
        let token = match (token, flags.token_file.or(console.token_file.clone())) {
            (Some(token), _) => Some(token),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| Error::Usage(format!("token file {}: {e}", path.display())))?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        let stored = match &flags.remote {
            Some(name) => Some(crate::remotes::load(
                name,
                &idreview_protocol::paths::remotes_dir(),
            )?),
            None => None,
        };
        // A stored remote brings its token; --token / IDREVIEW_TOKEN still win.
        let token = match &stored {
            Some(invite) => token.or_else(|| Some(invite.token.clone())),
            None => token,
        };
        let stored = stored.and_then(|invite| {
            let trust = invite.trust()?;
            Some(Remote {
                addr: invite.address,
                trust,
            })
        });
        let remote = match flags.connect.or(console.connect.clone()) {
            _ if stored.is_some() => stored,
            None => None,
            Some(addr) => {
                use idreview_protocol::tls::Trust;
                let trust = match (
                    flags.pin.or(console.pin.clone()),
                    flags.ca.or(console.ca.clone()),
                ) {
                    (Some(pin), _) => Trust::Pin(pin),
                    (None, Some(ca)) => Trust::Ca(ca),
                    (None, None) => {
                        return Err(Error::Usage(format!(
                            "--connect {addr} needs --ca FILE or --pin SHA256 to check the daemon's certificate"
                        )));
                    }
                };
                Some(Remote { addr, trust })
            }
        };
        Ok(Settings {
            data_dir,
            socket,
            config_file,
            token,
            console,
            no_color,
            remote,
        })
    }

    /// The deadline of one RPC.
    pub fn rpc_timeout(&self) -> Duration {
        Duration::from_secs(self.console.rpc_timeout_secs.max(1))
    }

    /// Where the console remembers its filter and sort between runs.
    pub fn state_file(&self) -> PathBuf {
        self.data_dir.join("console-state.toml")
    }

    /// The console's own log file.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("idreview.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_its_keys_and_ignores_the_daemons() {
        let file = ConfigFile::parse(
            "[daemon]\ndata_dir = \"/d\"\nlog = \"info\"\n[inbox]\nrescan_sec = 3\n\
             [rpc]\nsocket = \"/s.sock\"\n[console]\nconfidence_bands = [0.4, 0.9]\npage_size = 20\n",
        )
        .expect("parses");
        assert_eq!(file.daemon.data_dir, Some(PathBuf::from("/d")));
        assert_eq!(file.rpc.socket, Some(PathBuf::from("/s.sock")));
        assert_eq!(file.console.confidence_bands, [0.4, 0.9]);
        assert_eq!(file.console.page_size, 20);
        assert_eq!(file.console.refresh_secs, 2);
    }

    #[test]
    fn key_bindings_come_from_the_keys_table() {
        let file =
            ConfigFile::parse("[console.keys]\napprove = \"P\"\ndown = [\"j\", \"ctrl-n\"]\n")
                .expect("parses");
        let table = file.console.key_table().expect("valid");
        assert!(table.iter().any(|b| b.key == crate::keys::Key::Char('P')));
        let err = ConfigFile::parse("[console.keys]\napprove = \"q\"\n").expect_err("clash");
        assert!(err.contains("quit"), "{err}");
    }

    #[test]
    fn the_shipped_config_documents_the_console_defaults() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.toml");
        let file = ConfigFile::load(&shipped).expect("the shipped config.toml parses");
        assert_eq!(file.console, ConsoleConfig::default());
    }

    #[test]
    fn refuses_bands_out_of_order() {
        let err = ConfigFile::parse("[console]\nconfidence_bands = [0.9, 0.4]\n").expect_err("bad");
        assert!(err.contains("confidence_bands"), "{err}");
        assert!(ConfigFile::parse("[console]\nbogus = 1\n").is_err());
        assert!(ConfigFile::parse("[console]\nimage_protocol = \"sixel\"\n").is_err());
    }

    #[test]
    fn flags_win_over_the_file_and_the_socket_follows_the_data_dir() {
        let s = Settings::resolve(Some("/x".into()), None, None, None).expect("resolves");
        assert_eq!(s.socket, PathBuf::from("/x/idreviewd.sock"));
        let s = Settings::resolve(Some("/x".into()), Some("/y.sock".into()), None, None)
            .expect("resolves");
        assert_eq!(s.socket, PathBuf::from("/y.sock"));
    }
}
