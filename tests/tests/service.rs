//! Running as a service: readiness reaches systemd's `NOTIFY_SOCKET` once the socket listens,
//! the shipped unit file passes `systemd-analyze verify` (where that tool exists), and both
//! binaries generate shell completions and man pages naming every command.

use std::process::Command;
use std::time::Duration;

use idreview_protocol::transport::connect_unix;
use idreview_tests::{Daemon, binary};

#[tokio::test]
async fn readiness_is_sent_to_notify_socket_once_the_socket_listens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notify = dir.path().join("notify.sock");
    let systemd = tokio::net::UnixDatagram::bind(&notify).expect("bind the notify socket");
    let data = dir.path().join("data");
    let notify_path = notify.display().to_string();
    let daemon = Daemon::start_with(
        &data,
        &[
            ("NOTIFY_SOCKET", notify_path.as_str()),
            ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
        ],
    )
    .await;
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(30), systemd.recv(&mut buf))
        .await
        .expect("READY=1 within 30 s")
        .expect("receive");
    let message = String::from_utf8_lossy(&buf[..n]);
    assert!(message.lines().any(|l| l == "READY=1"), "{message:?}");
    assert!(
        connect_unix(&daemon.socket(), None).await.is_ok(),
        "the socket answers once readiness is reported"
    );
}

#[test]
fn the_unit_file_verifies_where_systemd_analyze_exists() {
    let unit = include_str!("../../daemon/dist/idreviewd.service");
    for needed in [
        "Type=notify",
        "User=idreview",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "StateDirectory=idreview",
        "ReadWritePaths=/var/lib/idreview",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ] {
        assert!(unit.lines().any(|l| l == needed), "the unit sets {needed}");
    }
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed; skipping the verify step");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("idreviewd.service");
    let here = binary("idreviewd").display().to_string();
    std::fs::write(&path, unit.replace("/usr/local/bin/idreviewd", &here)).expect("write unit");
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("run systemd-analyze");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && said.trim().is_empty(), "{said}");
}

/// Runs a binary of the workspace, which must succeed; returns its output.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(binary(program))
        .args(args)
        .env("IDREVIEW_DATA_DIR", "/nonexistent/idreview-docs")
        .output()
        .expect("run");
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn completions_and_man_pages_name_every_command() {
    let commands: [(&str, &[&str]); 2] = [
        (
            "idreviewd",
            &[
                "run",
                "demo",
                "config",
                "token",
                "gen-cert",
                "read-mrz",
                "eval-mrz",
                "doctor",
                "completions",
                "man",
            ],
        ),
        (
            "idreview",
            &[
                "list",
                "show",
                "decide",
                "audit",
                "token",
                "completions",
                "man",
            ],
        ),
    ];
    for (program, subcommands) in commands {
        let bash = run(program, &["completions", "bash"]);
        assert!(bash.contains(&format!("complete -F _{program}")), "{bash}");
        let man = run(program, &["man"]);
        assert!(man.contains(".SH NAME"), "{man}");
        assert!(
            man.contains(&format!("{program} \\- ")),
            "NAME names the program"
        );
        for sub in subcommands {
            assert!(
                bash.contains(sub),
                "bash completion of {program} lacks {sub}"
            );
            assert!(
                man.contains(&format!("{program}\\-{}(1)", sub.replace('-', "\\-"))),
                "man page of {program} lacks {sub}"
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().display().to_string();
        run(program, &["man", "--out", &out]);
        assert!(dir.path().join(format!("{program}.1")).is_file());
        assert!(
            dir.path()
                .join(format!("{program}-{}.1", subcommands[0]))
                .is_file()
        );
    }
}
