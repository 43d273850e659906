//! The command line's shape: the global flags ([`Cli`]), the scriptable commands
//! ([`CliCommand`]) and their arguments, and the settings the flags name.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use idreview_protocol::cli::TokenCommand;
use idreview_protocol::{CardId, SortKey};

use crate::error::Error;
use crate::settings::{RemoteFlags, Settings};

/// `idreview`: review identity documents in a terminal console or from scripts.
#[derive(Debug, Parser)]
#[command(name = "idreview", version, about)]
pub struct Cli {
    /// The daemon's data dir; its socket is DIR/idreviewd.sock
    #[arg(long, global = true, env = "IDREVIEW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The daemon's socket, if not in the data dir
    #[arg(long, global = true, env = "IDREVIEW_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The shared config.toml ([daemon] data_dir, [rpc] socket and [console] are read)
    /// [default: $XDG_CONFIG_HOME/idreview/config.toml when it exists]
    #[arg(long, global = true, env = "IDREVIEW_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Bearer token; local socket users may go without
    #[arg(long, global = true, env = "IDREVIEW_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A remote daemon's host:port, reached over TLS (needs --ca or --pin and a token)
    #[arg(
        long,
        global = true,
        env = "IDREVIEW_CONNECT",
        value_name = "HOST:PORT"
    )]
    pub connect: Option<String>,
    /// File holding the bearer token (instead of --token / IDREVIEW_TOKEN)
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// CA certificate (PEM) the remote daemon's certificate must chain to
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// SHA-256 fingerprint the remote daemon's certificate must have (hex)
    #[arg(long, global = true, value_name = "SHA256")]
    pub pin: Option<String>,
    /// A remote daemon stored with `idreview remote add`: its address, trust and token
    #[arg(
        long,
        global = true,
        env = "IDREVIEW_REMOTE",
        value_name = "NAME",
        conflicts_with = "connect"
    )]
    pub remote: Option<String>,
    /// Do not start a local daemon when none answers (console only)
    #[arg(long)]
    pub no_spawn: bool,
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// The scriptable commands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// List cards matching a filter
    List(ListArgs),
    /// Show one card in full, with its audit history
    Show(ShowArgs),
    /// Approve or reject cards
    Decide(DecideArgs),
    /// The audit log (admin)
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bearer tokens (admin)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print a shell completion script (e.g. `idreview completions bash > ~/.local/share/bash-completion/completions/idreview`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the man pages (roff): to stdout, or idreview.1 and one page per command into DIR
    Man {
        /// Folder for the pages
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Erase one person's cards and files, leaving audit tombstones (admin)
    Erase(EraseArgs),
    /// Take a decided card back into review, with a reason (admin; audited)
    Reopen(ReopenArgs),
    /// Submissions the inbox refused (in DATA/rejected/), newest first, with the rule each broke
    Rejected(RejectedArgs),
    /// The dashboard's numbers: cards per status and type, the queue, decisions per reviewer,
    /// the auto-verified share, the confidence histogram and the last day hour by hour
    Stats {
        /// JSON output (README "JSON output" shows the shape)
        #[arg(long)]
        json: bool,
    },
    /// Named views (a filter and sort under a name, kept by the daemon): list, save, delete
    Views(ViewsArgs),
    /// Remote daemons: `remote add FILE` stores an invite from `idreviewd remote invite`
    #[command(subcommand)]
    Remote(super::remote::RemoteCommand),
}

/// `idreview views`: lists the views without a subcommand.
#[derive(Debug, Args)]
pub struct ViewsArgs {
    #[command(subcommand)]
    pub command: Option<ViewsCommand>,
    /// JSON output of the list: `[{"name", "filter", "sort", "descending", "team", "saved_by", "saved_at"}]`
    #[arg(long)]
    pub json: bool,
}

/// What `idreview views` does besides listing.
#[derive(Debug, Subcommand)]
pub enum ViewsCommand {
    /// Save (or replace) a view
    Save(SaveViewArgs),
    /// Delete one of your views (admins: with --team, a team view)
    Delete {
        /// The view's name
        name: String,
        /// The team view of that name (admin)
        #[arg(long)]
        team: bool,
    },
}

/// `idreview views save`.
#[derive(Debug, Args)]
pub struct SaveViewArgs {
    /// The view's name
    pub name: String,
    /// A query such as `status:needs_review type:passport` (default: every card)
    #[arg(long, short, value_name = "QUERY")]
    pub filter: Option<String>,
    /// created, updated, user, type, country, status, confidence or assignee
    #[arg(long, value_parser = SortKey::parse, default_value = "created")]
    pub sort: SortKey,
    /// Ascending order (default: descending)
    #[arg(long)]
    pub asc: bool,
    /// Publish it for every reviewer (admin)
    #[arg(long)]
    pub team: bool,
}

/// `idreview rejected`.
#[derive(Debug, Args)]
pub struct RejectedArgs {
    /// Show at most this many (0 = all)
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: u64,
    /// JSON output: `{"total": N, "submissions": [{"folder", "rule", "file", "message", "rejected_at"}]}`
    #[arg(long)]
    pub json: bool,
}

/// `idreview reopen`.
#[derive(Debug, Args)]
pub struct ReopenArgs {
    /// The card's id
    #[arg(value_parser = parse_card_id, value_name = "CARD_ID")]
    pub card: CardId,
    /// Why it is reopened (kept in the audit log)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

/// `idreview erase`.
#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The user id whose data goes
    #[arg(long, value_name = "USER")]
    pub user: String,
    /// Why (kept in the audit tombstones; write no personal data here)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Erase without asking (the question is asked on a terminal; elsewhere --yes is required)
    #[arg(long, conflicts_with = "dry_run")]
    pub yes: bool,
    /// Show what would be erased and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// `idreview audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print every audit event as JSON lines, oldest first
    Export {
        /// Only events after this sequence number
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        since: u64,
    },
}

/// `idreview list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A query such as `status:needs_review type:passport conf:<0.8 smith`
    #[arg(long, short, value_name = "QUERY")]
    pub filter: Option<String>,
    /// The filter and sort of a named view (`idreview views` lists them)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["filter", "sort", "asc"])]
    pub view: Option<String>,
    /// At most this many cards (default: every match)
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<u64>,
    /// created, updated, user, type, country, status, confidence or assignee
    #[arg(long, value_parser = SortKey::parse, default_value = "created")]
    pub sort: SortKey,
    /// Ascending order (default: descending)
    #[arg(long)]
    pub asc: bool,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// `idreview show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The card's id
    #[arg(value_parser = parse_card_id, value_name = "CARD_ID")]
    pub card: CardId,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// `idreview decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The cards' ids
    #[arg(required = true, value_parser = parse_card_id, value_name = "CARD_ID")]
    pub cards: Vec<CardId>,
    #[command(flatten)]
    pub verdict: Verdict,
    /// Why; required to reject and to override doubts, "approved" when approving without one
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Approve cards even with doubts (fields below the confidence threshold, findings of
    /// severity error); needs --reason, and the audit log names the doubts overridden.
    /// Without it such cards are refused and listed with their doubts
    #[arg(long, requires = "reason", conflicts_with = "reject")]
    pub override_doubts: bool,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// Exactly one of `--approve` and `--reject`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Verdict {
    /// Approve the cards
    #[arg(long)]
    pub approve: bool,
    /// Reject the cards
    #[arg(long)]
    pub reject: bool,
}

fn parse_card_id(s: &str) -> Result<CardId, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not a card id (a number, e.g. 42)"))
}

impl Cli {
    /// The settings these flags and their config file name.
    pub fn settings(&self) -> Result<Settings, Error> {
        Settings::resolve_remote(
            self.data_dir.clone(),
            self.socket.clone(),
            self.config.clone(),
            self.token.clone(),
            RemoteFlags {
                connect: self.connect.clone(),
                ca: self.ca.clone(),
                pin: self.pin.clone(),
                token_file: self.token_file.clone(),
                remote: self.remote.clone(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn decide_needs_exactly_one_verdict() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        assert!(parse(&["idreview", "decide", "1", "--approve"]).is_ok());
        assert!(
            parse(&[
                "idreview", "decide", "1", "2", "--reject", "--reason", "blurry"
            ])
            .is_ok()
        );
        assert!(parse(&["idreview", "decide", "1"]).is_err());
        assert!(parse(&["idreview", "decide", "1", "--approve", "--reject"]).is_err());
        assert!(parse(&["idreview", "decide", "--approve"]).is_err());
        assert!(parse(&["idreview", "decide", "x", "--approve"]).is_err());
    }

    #[test]
    fn list_flags_and_globals_parse() {
        let cli = Cli::try_parse_from([
            "idreview",
            "list",
            "--filter",
            "status:needs_review",
            "--limit",
            "5",
            "--sort",
            "confidence",
            "--asc",
            "--data-dir",
            "/d",
        ])
        .expect("parses");
        assert_eq!(cli.data_dir, Some(PathBuf::from("/d")));
        let Some(CliCommand::List(args)) = cli.command else {
            panic!("not list")
        };
        assert_eq!(
            (args.limit, args.sort, args.asc),
            (Some(5), SortKey::Confidence, true)
        );
        assert!(Cli::try_parse_from(["idreview", "list", "--sort", "nope"]).is_err());
        let view = Cli::try_parse_from(["idreview", "list", "--view", "mine", "--json"]);
        assert!(view.is_ok(), "the sort's default is no conflict: {view:?}");
        let both = Cli::try_parse_from(["idreview", "list", "--view", "mine", "--filter", "x"]);
        assert!(both.is_err(), "a view brings its own filter");
        assert!(Cli::try_parse_from(["idreview", "views", "--json"]).is_ok());
        assert!(Cli::try_parse_from(["idreview", "views", "save", "q", "--team"]).is_ok());
        assert!(Cli::try_parse_from(["idreview", "views", "delete", "q"]).is_ok());
        assert!(Cli::try_parse_from(["idreview", "--no-spawn"]).is_ok_and(|c| c.command.is_none()));
    }
}
