//! The dashboard and named views end to end, with the real daemon and the real console in
//! tmux: `idreview stats --json` counts decisions as they are made, views are saved, listed,
//! refused with an unknown filter key and used by `list --view`; in the console `d` opens the
//! dashboard, which follows decisions made elsewhere, and `p` picks a view.

use std::path::Path;
use std::process::{Command, Output};

use idreview_tests::tmux::Tmux;
use idreview_tests::{Daemon, binary, fill};
use serde_json::Value;

fn idreview(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary("idreview"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run idreview")
}

/// Runs a command that must succeed; its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = idreview(dir, args);
    assert!(
        out.status.success(),
        "idreview {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(dir, args)).expect("JSON output")
}

/// Approves the first `n` cards waiting for review, as the local admin.
fn approve(dir: &Path, n: usize) {
    let page = json(
        dir,
        &[
            "list",
            "--filter",
            "status:needs_review",
            "--limit",
            &n.to_string(),
            "--json",
        ],
    );
    let ids: Vec<String> = page["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(ids.len(), n);
    let mut args = vec!["decide"];
    args.extend(ids.iter().map(String::as_str));
    args.extend([
        "--approve",
        "--override-doubts",
        "--reason",
        "checked by phone",
    ]);
    ok(dir, &args);
}

fn console(dir: &Path, cols: u16, rows: u16) -> Tmux {
    let command = format!(
        "env NO_COLOR=1 {} --data-dir {} --no-spawn",
        binary("idreview").display(),
        dir.display()
    );
    Tmux::start_sized(&command, cols, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_named_views_from_scripts_and_the_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    fill(dir, 40, "dash");
    let _daemon = Daemon::start(dir).await;

    let before = json(dir, &["stats", "--json"]);
    assert_eq!(before["cards"], 40);
    assert_eq!(
        before["reviewers"],
        serde_json::json!([]),
        "imports are no decisions"
    );
    let queue = before["queue"]["cards"].as_u64().expect("queue");
    assert_eq!(before["by_status"]["needs_review"].as_u64(), Some(queue));
    assert!(queue >= 10, "{before}");
    assert!(before["queue"]["oldest_age_secs"].as_i64() > Some(0));
    let rated: u64 = before["confidence"]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(
        rated + before["confidence"]["unrated"].as_u64().unwrap_or(0),
        40
    );

    approve(dir, 3);
    let after = json(dir, &["stats", "--json"]);
    let me = &after["reviewers"][0];
    assert!(
        me["reviewer"]
            .as_str()
            .is_some_and(|r| r.starts_with("local:")),
        "{after}"
    );
    assert_eq!(
        (me["today"].as_u64(), me["week"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(after["decisions_per_hour"][23], 3, "this hour: {after}");
    assert_eq!(after["queue"]["cards"].as_u64(), Some(queue - 3));
    let table = ok(dir, &["stats"]);
    assert!(
        table.contains("review queue") && table.contains("local:"),
        "{table}"
    );

    // Views: one's own, a team view (the local socket is an admin), and a typo refused.
    ok(
        dir,
        &[
            "views",
            "save",
            "mine",
            "--filter",
            "status:needs_review",
            "--sort",
            "confidence",
            "--asc",
        ],
    );
    ok(
        dir,
        &[
            "views",
            "save",
            "passports",
            "--filter",
            "type:passport",
            "--team",
        ],
    );
    let typo = idreview(
        dir,
        &["views", "save", "typo", "--filter", "stauts:needs_review"],
    );
    assert!(!typo.status.success());
    let why = String::from_utf8_lossy(&typo.stderr);
    assert!(why.contains("did you mean status:?"), "{why}");
    let views = json(dir, &["views", "--json"]);
    let listed: Vec<(&str, bool)> = views
        .as_array()
        .expect("views")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or(""),
                v["team"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(listed, [("mine", false), ("passports", true)]);
    assert_eq!(views[0]["sort"], "confidence");
    assert_eq!(views[0]["descending"], false);

    let mine = json(dir, &["list", "--view", "mine", "--json"]);
    assert_eq!(mine["total"].as_u64(), Some(queue - 3));
    let confidences: Vec<f64> = mine["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .filter_map(|c| c["confidence"].as_f64())
        .collect();
    assert!(
        confidences.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {confidences:?}"
    );
    let missing = idreview(dir, &["list", "--view", "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no view named \"nope\""));

    // The console at 80x24: the dashboard, following decisions made elsewhere.
    let tmux = console(dir, 80, 24);
    tmux.wait_for(&["of 40"], dir);
    tmux.keys(&["d"]);
    tmux.wait_for(
        &["Dashboard", "(3 in all)", "Queue and types", "Esc back"],
        dir,
    );
    approve(dir, 2);
    let screen = tmux.wait_for(&["(5 in all)"], dir);
    let remaining = format!("{} cards", queue - 5);
    assert!(
        screen.contains(&remaining),
        "the queue moved too:\n{screen}"
    );

    // The picker: own views first; Enter shows the list through one.
    tmux.keys(&["Escape", "p"]);
    tmux.wait_for(&["Named views: 2", "mine", "team (local:"], dir);
    tmux.keys(&["Enter"]);
    let rows = format!("of {}", queue - 5);
    tmux.wait_for(
        &[
            "view mine: filter: status:needs_review",
            "sort: confidence asc",
            &rows,
        ],
        dir,
    );
    drop(tmux);

    // At 200x50 every box has room of its own; the console comes back with the view it showed.
    let wide = console(dir, 200, 50);
    wide.wait_for(&[&rows], dir);
    wide.keys(&["d"]);
    wide.wait_for(
        &[
            "Cards by type",
            "Review queue",
            "Decisions per hour, last 24 h (5 in all)",
        ],
        dir,
    );
}
