//! `idreviewd remote invite NAME --role ROLE`: the daemon's half of a remote set-up in one
//! step. It makes a token for NAME and writes one private file (mode 0600) with everything a
//! console needs (the address, how to trust the daemon's certificate, the token); the reviewer
//! stores it with `idreview remote add FILE`. The token is never printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use idreview_protocol::invite::{Invite, InviteError, valid_name};
use idreview_protocol::{Role, TokenSpec};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::tokens::{self, TokenCliError};
use crate::config::Config;

/// `idreviewd remote ...`.
#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum RemoteCommand {
    /// Make a token for NAME and write an invite file (address, certificate trust, token; mode
    /// 0600) for `idreview remote add FILE` on their machine. The token is not printed
    Invite(InviteArgs),
}

/// `remote invite`.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct InviteArgs {
    /// Who the invite is for: the token's name and the console's name for this daemon
    /// (`idreview --remote NAME`)
    pub name: String,
    /// reviewer or admin (submitter tokens also need --user)
    #[arg(long)]
    pub role: Role,
    /// host:port the reviewer reaches the TLS listener at [default: the running daemon's
    /// bound address, else [rpc] tcp_listen]
    #[arg(long, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Put this CA certificate (PEM) in the invite instead of the fingerprint of [rpc]
    /// tls_cert (a CA outlives a renewed server certificate; the address must be in it)
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The token stops working after this many days
    #[arg(long, value_name = "D")]
    pub expires_days: Option<u32>,
    /// Submitter tokens: the only user id the token acts for
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<String>,
    /// The file to write [default: NAME.invite in the current folder]; never replaced
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Why no invite was written.
#[derive(Debug, thiserror::Error)]
pub enum RemoteCliError {
    #[error("{0:?} cannot name an invite: use letters, digits, '.', '_' or '-'")]
    Name(String),
    #[error(
        "remote access is off: set [rpc] tcp_listen, tls_cert and tls_key (`idreviewd gen-cert` makes a certificate)"
    )]
    NoListener,
    #[error(
        "the daemon listens on {0}, which is no address to reach it at; pass --address HOST:PORT"
    )]
    Unspecified(String),
    #[error(
        "remote access needs TLS: set [rpc] tls_cert and tls_key (`idreviewd gen-cert`), or pass --ca"
    )]
    NoCertificate,
    #[error("{path}: {message}")]
    Certificate { path: PathBuf, message: String },
    #[error("{0} exists; remove it or pass --out")]
    Exists(PathBuf),
    #[error(transparent)]
    Token(#[from] TokenCliError),
    #[error(
        "token {token_id} was made, but the invite could not be written ({source}); revoke it with `idreviewd token revoke {token_id}`"
    )]
    Write {
        token_id: String,
        source: InviteError,
    },
}

/// What `remote invite` did, for its message.
#[derive(Debug, Clone, PartialEq)]
pub struct Invited {
    pub file: PathBuf,
    pub token_id: String,
    pub address: String,
    /// `a CA certificate` or `a certificate fingerprint`.
    pub trust: &'static str,
}

/// Makes the token and writes the invite.
pub async fn invite(config: &Config, args: InviteArgs) -> Result<Invited, RemoteCliError> {
    if !valid_name(&args.name) {
        return Err(RemoteCliError::Name(args.name));
    }
    let address = match args.address {
        Some(address) => address,
        None => listening_address(config)?,
    };
    let (ca, fingerprint) = match &args.ca {
        Some(path) => (Some(read_ca(path)?), None),
        None => {
            let cert = config
                .rpc
                .tls_cert
                .as_deref()
                .ok_or(RemoteCliError::NoCertificate)?;
            (None, Some(fingerprint(cert)?))
        }
    };
    let file = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.invite", args.name)));
    // Checked before the token is made, so that a refusal leaves no token behind.
    if file.exists() {
        return Err(RemoteCliError::Exists(file));
    }
    let spec = TokenSpec {
        name: args.name.clone(),
        role: args.role,
        expires_days: args.expires_days,
        user_id: args.user,
        // The person is the invite's name (four eyes counts one person's tokens once).
        person: None,
    };
    let new = tokens::create(config, spec).await?;
    let trust = if ca.is_some() {
        "a CA certificate"
    } else {
        "a certificate fingerprint"
    };
    let invite = Invite {
        name: args.name,
        address: address.clone(),
        ca,
        fingerprint,
        token: new.token,
    };
    invite
        .write_new(&file)
        .map_err(|source| RemoteCliError::Write {
            token_id: new.info.id.clone(),
            source,
        })?;
    Ok(Invited {
        file,
        token_id: new.info.id,
        address,
        trust,
    })
}

/// The running daemon's bound TLS address (`DATA/idreviewd.addr`), else `[rpc] tcp_listen`;
/// refused when it is a wildcard address, which no remote machine can dial.
fn listening_address(config: &Config) -> Result<String, RemoteCliError> {
    let bound = std::fs::read_to_string(config.addr_file())
        .ok()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    let address = bound
        .or_else(|| config.rpc.tcp_listen.clone())
        .ok_or(RemoteCliError::NoListener)?;
    match address.parse::<SocketAddr>() {
        Ok(addr) if addr.ip().is_unspecified() => Err(RemoteCliError::Unspecified(address)),
        _ => Ok(address),
    }
}

/// The PEM text of a CA file, checked to hold a certificate.
fn read_ca(path: &Path) -> Result<String, RemoteCliError> {
    let bad = |message: String| RemoteCliError::Certificate {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    match CertificateDer::pem_slice_iter(text.as_bytes()).next() {
        Some(Ok(_)) => Ok(text),
        Some(Err(e)) => Err(bad(e.to_string())),
        None => Err(bad("holds no certificate".into())),
    }
}

/// The SHA-256 fingerprint of the first certificate in a PEM file (the server's own).
fn fingerprint(path: &Path) -> Result<String, RemoteCliError> {
    let bad = |message: String| RemoteCliError::Certificate {
        path: path.to_path_buf(),
        message,
    };
    let first = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("holds no certificate".into()))?
        .map_err(|e| bad(e.to_string()))?;
    Ok(idreview_protocol::tls::fingerprint(&first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listener_needs_an_address_to_put_in_the_invite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.daemon.data_dir = Some(dir.path().to_path_buf());
        assert!(matches!(
            listening_address(&config),
            Err(RemoteCliError::NoListener)
        ));
        config.rpc.tcp_listen = Some("0.0.0.0:7443".into());
        let err = listening_address(&config).expect_err("a wildcard");
        assert!(err.to_string().contains("--address"), "{err}");
        config.rpc.tcp_listen = Some("review.example.org:7443".into());
        assert_eq!(
            listening_address(&config).expect("a name"),
            "review.example.org:7443"
        );
        std::fs::write(config.addr_file(), "127.0.0.1:40001\n").expect("addr");
        assert_eq!(
            listening_address(&config).expect("bound"),
            "127.0.0.1:40001"
        );
    }
}
