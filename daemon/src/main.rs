//! `idreviewd`: the daemon binary. Parses flags, loads the config, installs logging and signal
//! handling, and runs the daemon or one of its helper commands.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use idreview_daemon::config::{Config, LogFormat};
use idreview_daemon::verify::local::LocalVerifier;
use tokio_util::sync::CancellationToken;

/// The idreview daemon: watches the inbox, validates and stores identity documents, keeps the
/// cards and serves the review console over a Unix socket.
///
/// Settings come from built-in defaults, then the config file, then environment variables
/// named IDREVIEW__<SECTION>__<KEY> (e.g. IDREVIEW__INBOX__RESCAN_SECS=2), then these flags.
#[derive(Parser, Debug)]
#[command(name = "idreviewd", version, about, long_about)]
struct Cli {
    /// Data dir holding the store, inbox/, rejected/, objects/ and the socket
    /// [default: $XDG_DATA_HOME/idreview or ~/.local/share/idreview]
    #[arg(long, global = true, env = "IDREVIEW_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Config file (see the documented config.toml)
    /// [default: $XDG_CONFIG_HOME/idreview/config.toml when it exists]
    #[arg(long, global = true, env = "IDREVIEW_CONFIG")]
    config: Option<PathBuf>,
    /// Unix socket path [default: DATA/idreviewd.sock]
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    /// Log filter, e.g. `info` or `idreview_daemon=debug` [default: config or info]
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the daemon (the default when no command is given)
    Run,
    /// Write valid synthetic submissions into the inbox, so a new user sees cards at once
    Demo {
        /// How many submissions
        #[arg(long, default_value_t = 20)]
        count: usize,
        /// Varies names and images between runs
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Do not wait for a running daemon to take the submissions in
        #[arg(long)]
        no_wait: bool,
    },
    /// Print the effective configuration (defaults + file + environment + flags) as TOML
    Config,
    /// Stop the daemon running on the data dir (SIGTERM to DATA/idreviewd.pid) and wait until
    /// it has finished the work in flight and flushed the store
    Stop {
        /// Give up waiting after this many seconds (the daemon drains for up to 15)
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        wait: u64,
    },
    /// Write synthetic cards straight into the store (stop the daemon first); for benchmarks
    #[command(hide = true)]
    Fill {
        /// How many cards
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// User ids are PREFIX-00001 and up
        #[arg(long, default_value = "bench")]
        prefix: String,
    },
    /// Manage bearer tokens for remote clients (over the socket when the daemon runs)
    #[command(subcommand)]
    Token(idreview_protocol::cli::TokenCommand),
    /// Remote reviewers: `remote invite NAME --role reviewer` writes the one file they need
    #[command(subcommand)]
    Remote(idreview_daemon::cli::remote::RemoteCommand),
    /// Generate a CA and a server certificate for the TLS listener
    GenCert {
        /// Folder for ca.pem, ca.key, server.pem and server.key
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Names and addresses the server is reached at [default: localhost 127.0.0.1]
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
    },
    /// Read the machine-readable zone of images with the local provider (outside the pipeline)
    ReadMrz {
        /// Image files (JPEG, PNG, GIF, WebP)
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// One JSON object per image instead of text
        #[arg(long)]
        json: bool,
    },
    /// Benchmark the local MRZ reader on a specimen folder (images/ + images_ground_truth.json)
    EvalMrz {
        /// The specimen folder
        dir: PathBuf,
        /// Also read degraded variants of the valid specimens (made in memory: 8-14 px
        /// characters, JPEG, blur, perspective, glare, rotation) and report them per harm
        #[arg(long)]
        stress: bool,
        /// With --stress: draw the per-harm rates into this PNG
        #[arg(long, value_name = "PNG", requires = "stress")]
        plot: Option<PathBuf>,
    },
    /// Check the configuration and what it points at (data dir, inbox, S3, verifier, TLS,
    /// socket); one line per check with a fix; exits non-zero when a check fails
    Doctor,
    /// Print a shell completion script (e.g. `idreviewd completions bash > /etc/bash_completion.d/idreviewd`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the man pages (roff): to stdout, or idreviewd.1 and one page per command into DIR
    Man {
        /// Folder for the pages
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Back up every card, token record (hashes only) and audit event as JSON lines: a
    /// consistent snapshot, taken over the socket while the daemon runs
    Export {
        /// The file to write (mode 0600: it holds personal data)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore an export into an empty data dir (no daemon running on it)
    Import {
        /// A file written by `idreviewd export`
        file: PathBuf,
    },
}

/// The config file in force: `--config`, else the default one when it exists.
fn config_file(cli: &Cli) -> Option<PathBuf> {
    cli.config.clone().or_else(Config::default_file)
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = Config::load(config_file(cli).as_deref())?;
    if let Some(dir) = &cli.data_dir {
        config.daemon.data_dir = Some(dir.clone());
    }
    if let Some(socket) = &cli.socket {
        config.rpc.socket = Some(socket.clone());
    }
    if let Some(log) = &cli.log {
        config.daemon.log = log.clone();
    }
    Ok(config)
}

fn main() -> std::process::ExitCode {
    match run_command() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "idreviewd: {}",
                idreview_protocol::error::one_line(e.as_ref())
            );
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_command() -> Result<()> {
    idreview_daemon::memory::tune();
    let cli = Cli::parse();
    // Generated from the flags alone: no config needed (packaging runs these at build time).
    let mut command = <Cli as clap::CommandFactory>::command();
    match &cli.command {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(*shell, &mut command, "idreviewd", &mut std::io::stdout());
            return Ok(());
        }
        Some(Command::Man { out: Some(dir) }) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            return clap_mangen::generate_to(command, dir)
                .with_context(|| format!("writing man pages into {}", dir.display()));
        }
        Some(Command::Man { out: None }) => {
            return clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .context("writing the man page");
        }
        _ => {}
    }
    let config = load_config(&cli)?;
    let file = config_file(&cli);
    match cli.command.unwrap_or(Command::Run) {
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
        Command::Doctor => doctor(&config, file.as_deref()),
        Command::Stop { wait } => {
            use idreview_daemon::cli::stop::{Stopped, stop};
            let pid_file = config.pid_file();
            match stop(&pid_file, std::time::Duration::from_secs(wait))? {
                Stopped::Stopped(pid) => println!("idreviewd (pid {pid}) stopped"),
                Stopped::NotRunning => println!(
                    "no idreviewd runs on {} (nothing to stop)",
                    config.data_dir().display()
                ),
            }
            Ok(())
        }
        Command::Config => {
            print!(
                "{}",
                toml::to_string_pretty(&config).context("rendering the config")?
            );
            Ok(())
        }
        Command::Demo {
            count,
            seed,
            no_wait,
        } => {
            let report = idreview_daemon::cli::demo_run::run(&config, count, seed, !no_wait)
                .with_context(|| {
                    format!(
                        "writing demo submissions into {}",
                        config.inbox_dir().display()
                    )
                })?;
            // The console must look at the same data dir.
            let console = match &cli.data_dir {
                Some(dir) => format!("idreview --data-dir {}", dir.display()),
                None => "idreview".to_string(),
            };
            println!(
                "wrote {} demo submissions into {}",
                report.written,
                report.inbox.display()
            );
            match report.outcome {
                None => println!(
                    "start idreviewd on this data dir to take them in, then open the console with `{console}`"
                ),
                Some(o) => {
                    let mut said = format!("{} became cards", o.cards);
                    if !o.rejected.is_empty() {
                        said.push_str(&format!(
                            ", {} were rejected (`idreview rejected` says why)",
                            o.rejected.len()
                        ));
                    }
                    if o.pending > 0 {
                        said.push_str(&format!(", {} are still being taken in", o.pending));
                    }
                    println!("{said}; open the console with `{console}`");
                }
            }
            Ok(())
        }
        Command::Fill { count, prefix } => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let started = std::time::Instant::now();
            let written = runtime.block_on(async {
                let store = idreview_daemon::store::Store::open(
                    &config.store_dir(),
                    config.verification.confidence_threshold,
                )
                .context("opening the store (is idreviewd running on this data dir?)")?;
                let progress = idreview_daemon::cli::progress::bar(count as u64, "fill");
                let written = idreview_daemon::cli::fill::fill_with_progress(
                    &store, count, &prefix, &progress,
                )
                .await
                .context("filling the store");
                progress.finish_and_clear();
                written
            })?;
            println!(
                "wrote {written} cards into {} in {:.1}s",
                config.store_dir().display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Run => run(config),
        Command::Token(command) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(idreview_daemon::cli::tokens::run(
                &config,
                command,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            ))?;
            Ok(())
        }
        Command::Remote(idreview_daemon::cli::remote::RemoteCommand::Invite(args)) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            let (name, role) = (args.name.clone(), args.role);
            let made = runtime.block_on(idreview_daemon::cli::remote::invite(&config, args))?;
            println!(
                "wrote {} for {name}: role {role}, token {}, address {}, trusted by {}. It holds \
                 the token: hand it over privately. On {name}'s machine: `idreview remote add {}`, \
                 then `idreview --remote {name}`.",
                made.file.display(),
                made.token_id,
                made.address,
                made.trust,
                made.file.display(),
            );
            Ok(())
        }
        Command::GenCert { out, hosts } => {
            let made = idreview_daemon::cli::certs::generate(&out, &hosts)?;
            println!(
                "CA certificate (give to clients, --ca): {}",
                made.ca_cert.display()
            );
            println!(
                "server certificate ([rpc] tls_cert):   {}",
                made.server_cert.display()
            );
            println!(
                "server key ([rpc] tls_key):            {}",
                made.server_key.display()
            );
            println!(
                "server fingerprint (--pin):            {}",
                made.fingerprint
            );
            Ok(())
        }
        Command::ReadMrz { images, json } => {
            init_logging(&config)?;
            let reader = LocalVerifier::new(&config.verification.local)?;
            let mut out = std::io::stdout().lock();
            Ok(idreview_daemon::cli::read_mrz::run(
                &reader, &images, json, &mut out,
            )?)
        }
        Command::Export { out } => backup(|| async {
            let started = std::time::Instant::now();
            let header = idreview_daemon::cli::backup::export(&config, &out).await?;
            let lines = header.cards + header.tokens + header.audit_events;
            eprintln!(
                "exported {} cards, {} tokens, {} audit events (up to seq {}) to {} in {:.1}s ({:.0} lines/s)",
                header.cards,
                header.tokens,
                header.audit_events,
                header.audit_high_seq,
                out.display(),
                started.elapsed().as_secs_f64(),
                lines as f64 / started.elapsed().as_secs_f64().max(1e-6),
            );
            Ok(())
        }),
        Command::Import { file } => backup(|| async {
            let started = std::time::Instant::now();
            let n = idreview_daemon::cli::backup::import(&config, &file).await?;
            eprintln!(
                "imported {} cards, {} tokens, {} audit events into {} in {:.1}s; start idreviewd on it",
                n.cards,
                n.tokens,
                n.audit_events,
                config.store_dir().display(),
                started.elapsed().as_secs_f64(),
            );
            Ok(())
        }),
        Command::EvalMrz { dir, stress, plot } => {
            use idreview_daemon::verify::local::{eval, plot as plotting, stress as stressing};
            init_logging(&config)?;
            let reader = LocalVerifier::new(&config.verification.local)?;
            let report = eval::evaluate(&reader, &dir)
                .with_context(|| format!("evaluating on {}", dir.display()))?;
            print!("{}", report.to_markdown());
            if stress {
                let report = stressing::stress(&reader, &dir)
                    .with_context(|| format!("stress benchmark on {}", dir.display()))?;
                print!("\n{}", report.to_markdown());
                if let Some(path) = plot {
                    plotting::plot(&report, &path)?;
                    eprintln!("plot written to {}", path.display());
                }
            }
            Ok(())
        }
    }
}

/// Prints one line per check; fails (exit status 1) when any check failed.
fn doctor(config: &Config, file: Option<&std::path::Path>) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let checks = runtime.block_on(idreview_daemon::cli::doctor::run(config, file));
    for check in &checks {
        println!("{check}");
    }
    if idreview_daemon::cli::doctor::passed(&checks) {
        Ok(())
    } else {
        std::process::exit(1);
    }
}

/// Runs an export or import on a runtime of its own.
fn backup<F, Fut>(work: F) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), idreview_daemon::cli::backup::BackupCliError>>,
{
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(work())?;
    Ok(())
}

fn init_logging(config: &Config) -> Result<()> {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| config.daemon.log.clone());
    let filter =
        tracing_subscriber::EnvFilter::try_new(&filter).context("parsing the log filter")?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.daemon.log_format {
        // One object per line, the event's fields at the top level beside time and level.
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => {
            // Colour only for a person at a terminal: journald, files and pipes get plain text.
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            logs.with_ansi(colour).init();
        }
    }
    Ok(())
}

fn run(config: Config) -> Result<()> {
    init_logging(&config)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let signals = shutdown.clone();
        tokio::spawn(async move {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        return;
                    }
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("shutdown requested");
            signals.cancel();
        });
        Ok(idreview_daemon::run(config, shutdown).await?)
    })
}
