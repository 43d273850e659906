//! Remote set-up in one step per side, with the real binaries over TLS on 127.0.0.1:
//! `idreviewd remote invite NAME --role reviewer` writes one private file and prints no
//! secret, `idreview remote add FILE` stores it in the console's config dir, and from then on
//! `idreview --remote NAME` is served as NAME, trusting the daemon by the certificate's
//! fingerprint or, with `--ca`, by the CA.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use idreview_protocol::Role;
use idreview_protocol::invite::Invite;
use idreview_tests::binary;
use idreview_tests::remote::TlsDaemon;
use tarpc::context::current as ctx;

/// `idreviewd` on the test daemon's data dir and certificate, as its admin would run it.
fn idreviewd(d: &TlsDaemon, args: &[&str]) -> Output {
    Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(&d.daemon.data_dir)
        .env("IDREVIEW__RPC__TLS_CERT", d.certs.dir.join("server.pem"))
        .env("IDREVIEW__RPC__TLS_KEY", d.certs.dir.join("server.key"))
        .args(args)
        .output()
        .expect("run idreviewd")
}

/// `idreview` as the reviewer on another machine: its own config and data dirs.
fn idreview(home: &Path, args: &[&str]) -> Output {
    Command::new(binary("idreview"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("IDREVIEW_DATA_DIR")
        .env_remove("IDREVIEW_TOKEN")
        .env_remove("IDREVIEW_CONNECT")
        .args(args)
        .output()
        .expect("run idreview")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

#[tokio::test]
async fn an_invite_takes_one_command_per_side_and_connects_over_tls() {
    let root = tempfile::tempdir().expect("tempdir");
    let d = TlsDaemon::start(root.path(), &[]).await;
    let reviewer = root.path().join("reviewer");

    // The admin's side: one command, one private file, no secret on the screen.
    let file = root.path().join("alice.invite");
    let file_arg = file.to_string_lossy();
    let said = ok(&idreviewd(
        &d,
        &[
            "remote", "invite", "alice", "--role", "reviewer", "--out", &file_arg,
        ],
    ));
    assert_eq!(mode(&file), 0o600);
    let invite = Invite::read(&file).expect("an invite");
    assert_eq!(invite.address, d.addr);
    assert_eq!(
        invite.fingerprint.as_deref(),
        Some(d.certs.fingerprint.as_str())
    );
    assert!(
        !said.contains(&invite.token),
        "the token was printed: {said}"
    );
    assert!(said.contains("idreview remote add"), "{said}");
    // The same file is never overwritten (and no second token is made for it).
    let again = idreviewd(
        &d,
        &[
            "remote", "invite", "alice", "--role", "reviewer", "--out", &file_arg,
        ],
    );
    assert!(!again.status.success());

    // The reviewer's side: one command to store it, then a name to connect with.
    let said = ok(&idreview(&reviewer, &["remote", "add", &file_arg]));
    assert!(!said.contains(&invite.token), "{said}");
    let stored = reviewer.join("config/idreview/remotes/alice.invite");
    assert_eq!(mode(&stored), 0o600);
    let listed = ok(&idreview(&reviewer, &["remote", "list"]));
    assert_eq!(listed.trim(), format!("alice  {}", d.addr));
    let cards = ok(&idreview(
        &reviewer,
        &["--remote", "alice", "list", "--json"],
    ));
    assert!(
        cards.trim_start().starts_with('{') || cards.trim_start().starts_with('['),
        "{cards}"
    );

    // The daemon served the invite's token, a reviewer named alice.
    let admin = d.daemon.client().await;
    let tokens = admin
        .list_tokens(ctx())
        .await
        .expect("rpc")
        .expect("tokens");
    let alice: Vec<_> = tokens.iter().filter(|t| t.name == "alice").collect();
    assert_eq!(alice.len(), 1, "{tokens:?}");
    assert_eq!(alice[0].role, Role::Reviewer);
    assert!(alice[0].last_used.is_some(), "the console used it");

    // With --ca the invite carries the CA instead of a pin, and it connects the same way.
    let ca = d.certs.ca();
    let bob_file = root.path().join("bob.invite");
    ok(&idreviewd(
        &d,
        &[
            "remote",
            "invite",
            "bob",
            "--role",
            "reviewer",
            "--ca",
            &ca.to_string_lossy(),
            "--out",
            &bob_file.to_string_lossy(),
        ],
    ));
    let bob = Invite::read(&bob_file).expect("an invite");
    assert!(bob.ca.is_some() && bob.fingerprint.is_none(), "{bob:?}");
    ok(&idreview(
        &reviewer,
        &["remote", "add", &bob_file.to_string_lossy()],
    ));
    ok(&idreview(&reviewer, &["--remote", "bob", "list", "--json"]));

    // A revoked token stops the stored remote.
    let bob_id = admin
        .list_tokens(ctx())
        .await
        .expect("rpc")
        .expect("tokens")
        .into_iter()
        .find(|t| t.name == "bob")
        .expect("bob's token")
        .id;
    ok(&idreviewd(&d, &["token", "revoke", &bob_id]));
    let refused = idreview(&reviewer, &["--remote", "bob", "list", "--json"]);
    assert!(!refused.status.success());
    let unknown = idreview(&reviewer, &["--remote", "carol", "list"]);
    let why = String::from_utf8_lossy(&unknown.stderr);
    assert!(why.contains("idreview remote add"), "{why}");
}
