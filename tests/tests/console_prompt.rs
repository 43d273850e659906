//! The console's first minutes and its filter bar, in the real binary in tmux at 80x24 against
//! the real daemon: a daemon the console started is reaped when it stops; an empty daemon says
//! where to drop files; a mistyped key is refused with the closest one; the cursor edits
//! mid-line; Tab completes a key; Up brings back an earlier filter, also after a restart;
//! `user:` matches one user exactly.

use idreview_tests::tmux::Tmux;
use idreview_tests::{Daemon, binary, fill};

fn console(dir: &std::path::Path) -> Tmux {
    let command = format!(
        "env NO_COLOR=1 {} --data-dir {} --no-spawn",
        binary("idreview").display(),
        dir.display()
    );
    Tmux::start_sized(&command, 80, 24)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_the_console_started_is_reaped_when_it_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let command = format!(
        "env NO_COLOR=1 {} --data-dir {}",
        binary("idreview").display(),
        dir.path().display()
    );
    let tmux = Tmux::start_sized(&command, 80, 24);
    tmux.wait_for(&["no cards yet"], dir.path());
    let pid = std::fs::read_to_string(dir.path().join("idreviewd.pid")).expect("pid file");
    let proc = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    assert!(proc.exists(), "the console started a daemon");
    let out = std::process::Command::new(binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("stop")
        .output()
        .expect("run idreviewd stop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Its parent, the console, waits for it: no zombie is left while the console runs.
    idreview_tests::wait_for(
        std::time::Duration::from_secs(10),
        "the daemon reaped",
        || {
            let gone = !proc.exists();
            async move { gone.then_some(()) }
        },
    )
    .await;
    drop(tmux);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_console_says_where_to_drop_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _daemon = Daemon::start(dir.path()).await;
    let tmux = console(dir.path());
    // The path wraps at 80 columns: look for its pieces.
    let screen = tmux.wait_for(&["no cards yet: drop a submission folder"], dir.path());
    assert!(screen.contains("idreviewd demo"), "{screen}");
    let flat: String = screen.split_whitespace().collect();
    let inbox: String = format!("{}/inbox", dir.path().display())
        .split_whitespace()
        .collect();
    assert!(flat.contains(&inbox), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_bar_edits_completes_remembers_and_refuses_unknown_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    fill(dir.path(), 12, "bar");
    let _daemon = Daemon::start(dir.path()).await;
    let tmux = console(dir.path());
    tmux.wait_for(&["of 12"], dir.path());

    // A mistyped key: refused, the bar stays open with the text.
    tmux.keys(&["/", "C-u"]);
    tmux.type_text("stauts:needs_review");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["did you mean status:?"], dir.path());

    // Fix it in place: Home, then delete the two swapped letters and type them right.
    tmux.keys(&["Home", "Right", "Right", "Right", "DC", "DC"]);
    tmux.type_text("tu");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["filter: status:needs_review"], dir.path());

    // Tab completes a key; `user:` is exact (bar-00003 is not a prefix match of bar-0000).
    tmux.keys(&["/", "C-u"]);
    tmux.type_text("use");
    tmux.keys(&["Tab"]);
    tmux.wait_for(&["filter: user:"], dir.path());
    tmux.type_text("bar-00003");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["filter: user:bar-00003", "rows 1-1 of 1"], dir.path());

    // Up walks back through the filters applied.
    tmux.keys(&["/", "C-u", "Up", "Up", "Enter"]);
    tmux.wait_for(&["filter: status:needs_review"], dir.path());

    // The history outlives the console.
    tmux.keys(&["q"]);
    drop(tmux);
    let tmux = console(dir.path());
    tmux.wait_for(&["filter: status:needs_review"], dir.path());
    tmux.keys(&["/", "C-u", "Up", "Up", "Enter"]);
    tmux.wait_for(&["filter: user:bar-00003", "rows 1-1 of 1"], dir.path());
}
