//! The `idreview` binary: parse flags, log to `DATA/idreview.log`, run the command or the
//! console, and turn the outcome into an exit code with a readable message.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use idreview_tui::cli::{self, Cli};
use idreview_tui::settings::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "idreview: {}",
                idreview_protocol::error::one_line(e.as_ref())
            );
            // 2 for a command line that makes no sense, as clap's own errors.
            match e.downcast_ref::<idreview_tui::error::Error>() {
                Some(idreview_tui::error::Error::Usage(_)) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let settings = cli.settings()?;
    init_logging(&settings, cli.command.is_none());
    Ok(cli::run(cli, &settings).await?)
}

/// Logs to the data dir's `idreview.log`, never to the screen. The console creates the data
/// dir (it may start a daemon there); a command only logs if the dir is already there.
fn init_logging(settings: &Settings, console: bool) {
    let file = || -> anyhow::Result<std::fs::File> {
        if console {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating {}", settings.data_dir.display()))?;
        }
        let path = settings.log_file();
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))
    };
    let Ok(file) = file() else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDREVIEW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
}
