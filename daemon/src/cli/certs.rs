//! `idreviewd gen-cert`: a private CA and a server certificate signed by it (rcgen), so that a
//! remote set-up takes one command. The console trusts the CA (`--ca ca.pem`) or pins the
//! server certificate's fingerprint (`--pin`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// What `gen-cert` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedCerts {
    /// The CA certificate to give to clients (`--ca`).
    pub ca_cert: PathBuf,
    /// The server certificate (`[rpc] tls_cert`).
    pub server_cert: PathBuf,
    /// The server's private key (`[rpc] tls_key`), mode 0600.
    pub server_key: PathBuf,
    /// SHA-256 of the server certificate, for `--pin`.
    pub fingerprint: String,
}

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot generate a certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), CertError> {
    let err = |source| CertError::Write {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(path, text).map_err(err)?;
    if private {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(())
}

/// Writes `ca.pem`, `ca.key`, `server.pem` and `server.key` into `out` for a server reachable
/// as `hosts` (names or IP addresses; `localhost` and `127.0.0.1` when empty).
pub fn generate(out: &Path, hosts: &[String]) -> Result<GeneratedCerts, CertError> {
    std::fs::create_dir_all(out).map_err(|source| CertError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let hosts = if hosts.is_empty() {
        vec!["localhost".to_string(), "127.0.0.1".to_string()]
    } else {
        hosts.to_vec()
    };
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "idreview CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(hosts.clone())?;
    params
        .distinguished_name
        .push(DnType::CommonName, hosts[0].as_str());
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params.signed_by(&server_key, &issuer)?;

    let generated = GeneratedCerts {
        ca_cert: out.join("ca.pem"),
        server_cert: out.join("server.pem"),
        server_key: out.join("server.key"),
        fingerprint: idreview_protocol::tls::fingerprint(server_cert.der()),
    };
    write(&generated.ca_cert, &ca_cert.pem(), false)?;
    write(&out.join("ca.key"), &ca_key.serialize_pem(), true)?;
    write(&generated.server_cert, &server_cert.pem(), false)?;
    write(&generated.server_key, &server_key.serialize_pem(), true)?;
    Ok(generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_ca_and_a_server_certificate_that_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = generate(dir.path(), &[]).expect("generate");
        assert_eq!(made.fingerprint.len(), 64);
        crate::rpc::tls::server_config(&made.server_cert, &made.server_key).expect("loads");
        idreview_protocol::tls::client_config(&idreview_protocol::tls::Trust::Ca(made.ca_cert))
            .expect("the CA loads");
        let mode = std::fs::metadata(&made.server_key)
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
