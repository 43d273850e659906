//! Harness for remote access: certificates from `idreviewd gen-cert`, a daemon with its TLS
//! listener on 127.0.0.1 port 0, tokens made over the local socket, and TLS clients.

use std::path::{Path, PathBuf};
use std::process::Command;

use idreview_protocol::tls::{Trust, connect_tls};
use idreview_protocol::transport::{TransportError, Welcome};
use idreview_protocol::{IdReviewClient, Role, TokenSpec};

use crate::{Daemon, binary};

/// What `idreviewd gen-cert` wrote.
pub struct Certs {
    pub dir: PathBuf,
    pub fingerprint: String,
}

impl Certs {
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn trust(&self) -> Trust {
        Trust::Ca(self.ca())
    }
}

/// Runs `idreviewd gen-cert --out DIR`.
pub fn gen_cert(dir: &Path) -> Certs {
    let out = Command::new(binary("idreviewd"))
        .arg("gen-cert")
        .arg("--out")
        .arg(dir)
        .output()
        .expect("run gen-cert");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let fingerprint = text
        .lines()
        .find(|l| l.contains("--pin"))
        .and_then(|l| l.split_whitespace().last())
        .expect("fingerprint line")
        .to_string();
    Certs {
        dir: dir.to_path_buf(),
        fingerprint,
    }
}

/// A daemon with a TLS listener, plus the certificates it serves.
pub struct TlsDaemon {
    pub daemon: Daemon,
    pub certs: Certs,
    pub addr: String,
}

impl TlsDaemon {
    /// Starts a daemon in `root/data` with certificates in `root/certs` and extra env overrides.
    pub async fn start(root: &Path, env: &[(&str, &str)]) -> TlsDaemon {
        let certs = gen_cert(&root.join("certs"));
        let cert = certs.dir.join("server.pem");
        let key = certs.dir.join("server.key");
        let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
        let mut all: Vec<(&str, &str)> = vec![
            ("IDREVIEW__RPC__TCP_LISTEN", "127.0.0.1:0"),
            ("IDREVIEW__RPC__TLS_CERT", &cert),
            ("IDREVIEW__RPC__TLS_KEY", &key),
        ];
        all.extend_from_slice(env);
        let daemon = Daemon::start_with(&root.join("data"), &all).await;
        let addr = daemon.tcp_addr();
        TlsDaemon {
            daemon,
            certs,
            addr,
        }
    }

    /// Connects over TLS, trusting the generated CA.
    pub async fn connect(
        &self,
        token: Option<&str>,
    ) -> Result<(IdReviewClient, Welcome), TransportError> {
        connect_tls(&self.addr, &self.certs.trust(), token.map(str::to_string)).await
    }

    /// A client for `token`, which must be accepted.
    pub async fn client(&self, token: &str) -> IdReviewClient {
        self.connect(Some(token)).await.expect("connect over TLS").0
    }

    /// A fresh token made over the local socket (as the local admin).
    pub async fn token(&self, name: &str, role: Role, user: Option<&str>) -> String {
        self.token_with(name, role, user, None).await
    }

    /// [`TlsDaemon::token`] with an expiry in days.
    pub async fn token_with(
        &self,
        name: &str,
        role: Role,
        user: Option<&str>,
        expires_days: Option<u32>,
    ) -> String {
        self.daemon.token(name, role, user, expires_days).await
    }
}

impl Daemon {
    /// A fresh token made over the local socket (as the local admin).
    pub async fn token(
        &self,
        name: &str,
        role: Role,
        user: Option<&str>,
        expires_days: Option<u32>,
    ) -> String {
        let spec = TokenSpec {
            name: name.into(),
            role,
            expires_days,
            user_id: user.map(str::to_string),
            person: None,
        };
        self.client()
            .await
            .create_token(tarpc::context::current(), spec)
            .await
            .expect("rpc")
            .expect("token created")
            .token
    }
}

impl Daemon {
    /// The TCP listener's address, as the daemon wrote it to `DATA/idreviewd.addr`.
    pub fn tcp_addr(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("idreviewd.addr"))
            .expect("the daemon wrote idreviewd.addr")
            .trim()
            .to_string()
    }
}
