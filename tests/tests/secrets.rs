//! Secrets never print. Every secret setting (the list is the daemon's own,
//! `Config::secrets`) is set to a recognisable value through its environment variable; then
//! `idreviewd config`, `idreviewd doctor`, the daemon's log at debug level while it uses every
//! secret (a provider call, a webhook delivery), and the console's JSON outputs are searched
//! for those values. Logs written to a file carry no colour codes.

use std::process::{Command, Output};
use std::time::Duration;

use idreview_daemon::config::Config;
use idreview_protocol::{DecideRequest, Decision};
use idreview_tests::fixtures::{jpeg, manifest, write_submission};
use idreview_tests::{Daemon, any_version, binary, card_of, wait_for};
use tarpc::context;

/// Each secret setting with the environment variable that sets it and a value to look for.
fn secrets() -> Vec<(&'static str, String, String)> {
    Config::default()
        .secrets()
        .into_iter()
        .map(|(name, _)| {
            let var = format!("IDREVIEW__{}", name.replace('.', "__").to_ascii_uppercase());
            let value = format!("s3cr3t-{}-value", name.replace(['.', '_'], "-"));
            (name, var, value)
        })
        .collect()
}

/// Settings that make the daemon use every secret, against peers that refuse at once.
fn environment() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = secrets()
        .into_iter()
        .map(|(_, var, value)| (var, value))
        .collect();
    for (k, v) in [
        ("IDREVIEW__VERIFICATION__PROVIDER", "idanalyzer"),
        (
            "IDREVIEW__VERIFICATION__IDANALYZER__BASE_URL",
            "http://127.0.0.1:9",
        ),
        ("IDREVIEW__VERIFICATION__IDANALYZER__ATTEMPTS", "1"),
        ("IDREVIEW__STORAGE__ACCESS_KEY_ID", "AKIDTEST"),
        ("IDREVIEW__WEBHOOKS__URLS", "[\"http://127.0.0.1:9/hook\"]"),
    ] {
        env.push((k.into(), v.into()));
    }
    env
}

fn assert_no_secret(what: &str, text: &str) {
    for (name, _, value) in secrets() {
        assert!(
            !text.contains(&value),
            "{what} shows the secret {name}:\n{text}"
        );
    }
}

fn run(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .envs(environment())
        .output()
        .expect("run idreviewd")
}

#[test]
fn the_secret_settings_are_listed() {
    let names: Vec<&str> = secrets().iter().map(|(name, _, _)| *name).collect();
    assert_eq!(
        names,
        [
            "verification.idanalyzer.api_key",
            "webhooks.secret",
            "storage.secret_access_key",
            "store.url"
        ]
    );
}

#[test]
fn config_and_doctor_redact_every_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = run(&["config"], dir.path());
    assert!(config.status.success(), "{config:?}");
    let text = String::from_utf8_lossy(&config.stdout);
    assert_no_secret("idreviewd config", &text);
    assert_eq!(
        text.matches("= \"[redacted]\"").count(),
        secrets().len(),
        "each set secret shows as [redacted]:\n{text}"
    );

    let doctor = run(&["doctor"], dir.path());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&doctor.stdout),
        String::from_utf8_lossy(&doctor.stderr)
    );
    assert!(
        text.contains("idanalyzer"),
        "doctor checked the provider: {text}"
    );
    assert_no_secret("idreviewd doctor", &text);

    // The placeholder copied back into a file is refused, not sent as a key.
    let file = dir.path().join("copied.toml");
    std::fs::write(&file, "[webhooks]\nsecret = \"[redacted]\"\n").expect("config file");
    let out = Command::new(binary("idreviewd"))
        .arg("--config")
        .arg(&file)
        .arg("config")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("webhooks.secret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_json_outputs_show_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = environment();
    env.push(("RUST_LOG".into(), "debug".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut daemon = Daemon::start_with(dir.path(), &env).await;
    let client = daemon.client().await;
    write_submission(
        &daemon.inbox(),
        "sam-1",
        Some(&manifest("sam", "passport")),
        &[("front.jpg", jpeg(1000, 700))],
    );
    // The provider is down: the card goes to review, after a call that carried the API key.
    let card = wait_for(Duration::from_secs(60), "sam's card in review", || async {
        card_of(&client, "sam")
            .await
            .filter(|c| c.status == idreview_protocol::Status::NeedsReview)
    })
    .await;
    // A decision queues a signed webhook, delivered (and failing) at once.
    let request = DecideRequest {
        cards: vec![any_version(card.id)],
        decision: Decision::Reject,
        reason: "test".into(),
        override_doubts: false,
    };
    let results = client
        .decide(context::current(), request)
        .await
        .expect("rpc");
    assert!(results[0].result.is_ok(), "{results:?}");
    wait_for(Duration::from_secs(20), "a webhook attempt", || async {
        daemon.log().contains("127.0.0.1:9/hook").then_some(())
    })
    .await;

    let id = card.id.to_string();
    let console = |args: &[&str]| {
        let out = Command::new(binary("idreview"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .envs(environment())
            .output()
            .expect("run idreview");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in [
        vec!["list", "--json"],
        vec!["show", id.as_str(), "--json"],
        vec!["token", "list", "--json"],
        vec!["audit", "export", "--since", "0"],
    ] {
        assert_no_secret(&format!("idreview {}", args.join(" ")), &console(&args));
    }

    assert!(daemon.stop());
    let log = daemon.log();
    assert!(log.contains("DEBUG"), "the log is at debug level");
    assert_no_secret("the daemon's log", &log);
    assert!(
        !log.contains('\u{1b}'),
        "a log written to a file has no colour codes"
    );
}
