//! The real console in a real terminal: a `tmux` server of our own on a private socket, with
//! one detached session of a fixed size. Keys go in with `send-keys`, the screen comes back
//! with `capture-pane -p`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of our own, killed with its session when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a detached 120x40 session.
    pub fn start(command: &str) -> Tmux {
        Tmux::start_sized(command, 120, 40)
    }

    /// Starts `command` in a detached session of `width` x `height`.
    pub fn start_sized(command: &str, width: u16, height: u16) -> Tmux {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmux = Tmux {
            socket: format!("idreview-test-{}-{nanos}", std::process::id()),
        };
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "-s",
            "console",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux (install it: apt-get install tmux)")
    }

    /// Presses keys by tmux name (`Enter`, `Space`, `Escape`, `C-u`, or a plain character).
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            let out = self.run(&["send-keys", "-t", "console", key]);
            assert!(out.status.success(), "send-keys {key}");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "console", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text}");
    }

    /// The screen with its colours and attributes as SGR escape sequences (`capture-pane -e`).
    pub fn screen_styled(&self) -> String {
        let out = self.run(&["capture-pane", "-e", "-p", "-t", "console"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "console"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows every one of `wanted` (30 s at most), or panics with the
    /// screen and the console's log.
    pub fn wait_for(&self, wanted: &[&str], data_dir: &Path) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if wanted.iter().all(|w| screen.contains(w)) {
                return screen;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(data_dir.join("idreview.log"));
                panic!(
                    "the console never showed {wanted:?}; screen:\n{screen}\nconsole log:\n{}",
                    log.unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
