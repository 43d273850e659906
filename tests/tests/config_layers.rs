//! One configuration story for both binaries, with the real binaries: each reads
//! `$XDG_CONFIG_HOME/idreview/config.toml` when no file is named, and layers it the same way,
//! file < `IDREVIEW__<SECTION>__<KEY>` < flags; `log_format = "json"` makes the daemon log one
//! JSON object per line.

use std::path::Path;
use std::process::{Command, Output};

use idreview_tests::{Daemon, binary};

/// A binary with only this test's config and data dirs (and none of the caller's settings).
fn run(name: &str, xdg: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(binary(name));
    cmd.env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("XDG_DATA_HOME", xdg.join("data"));
    for (key, _) in std::env::vars() {
        if key.starts_with("IDREVIEW") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied()).args(args);
    cmd.output().expect("run")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn both_binaries_read_the_default_file_under_the_environment_under_flags() {
    let xdg = tempfile::tempdir().expect("tempdir");
    let (from_file, from_env, from_flag) = (
        xdg.path().join("from-file"),
        xdg.path().join("from-env"),
        xdg.path().join("from-flag"),
    );
    std::fs::create_dir_all(xdg.path().join("config/idreview")).expect("config dir");
    std::fs::write(
        xdg.path().join("config/idreview/config.toml"),
        format!(
            "[daemon]\ndata_dir = {:?}\n[inbox]\nrescan_secs = 7\n[console]\nrpc_timeout_secs = 3\n",
            from_file.display().to_string()
        ),
    )
    .expect("config");
    let env_dir = from_env.display().to_string();
    let flag_dir = from_flag.display().to_string();

    // The daemon: the file, then the environment over it, then the flag over both.
    let shown = |env: &[(&str, &str)], args: &[&str]| {
        let out = run("idreviewd", xdg.path(), env, args);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let config = shown(&[], &["config"]);
    assert!(config.contains("rescan_secs = 7"), "{config}");
    assert!(config.contains(&format!("data_dir = {:?}", from_file.display().to_string())));
    let config = shown(&[("IDREVIEW__INBOX__RESCAN_SECS", "9")], &["config"]);
    assert!(config.contains("rescan_secs = 9"), "{config}");
    let env = [("IDREVIEW__DAEMON__DATA_DIR", env_dir.as_str())];
    assert!(shown(&env, &["config"]).contains(&format!("data_dir = {env_dir:?}")));
    let flagged = shown(&env, &["--data-dir", &flag_dir, "config"]);
    assert!(
        flagged.contains(&format!("data_dir = {flag_dir:?}")),
        "{flagged}"
    );

    // The console, the same way: with no daemon, its error names the socket it looked for.
    let looked_in = |env: &[(&str, &str)], args: &[&str]| {
        let mut all = args.to_vec();
        all.push("list");
        let out = run("idreview", xdg.path(), env, &all);
        assert!(!out.status.success(), "no daemon runs");
        stderr(&out)
    };
    let said = looked_in(&[], &[]);
    assert!(
        said.contains(&format!("{}/idreviewd.sock", from_file.display())),
        "{said}"
    );
    let said = looked_in(&env, &[]);
    assert!(
        said.contains(&format!("{env_dir}/idreviewd.sock")),
        "{said}"
    );
    let said = looked_in(&env, &["--data-dir", &flag_dir]);
    assert!(
        said.contains(&format!("{flag_dir}/idreviewd.sock")),
        "{said}"
    );
    // Console keys come from IDREVIEW__CONSOLE__*, checked like the file's.
    let said = looked_in(&[("IDREVIEW__CONSOLE__PAGE_SIZ", "3")], &[]);
    assert!(
        said.contains("page_siz"),
        "an unknown console key is refused: {said}"
    );
    let said = looked_in(
        &[("IDREVIEW__CONSOLE__CONFIDENCE_BANDS", "[0.9, 0.1]")],
        &[],
    );
    assert!(said.contains("confidence_bands"), "{said}");
}

#[tokio::test]
async fn log_format_json_makes_the_daemon_log_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = Daemon::start_with(dir.path(), &[("IDREVIEW__DAEMON__LOG_FORMAT", "json")]).await;
    let log = daemon.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "the daemon logged at start");
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    for event in &events {
        assert!(
            event["level"].is_string() && event["timestamp"].is_string(),
            "{event}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["message"].is_string() && e["level"] == "INFO"),
        "{log}"
    );
}
