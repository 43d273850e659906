//! The token commands' flags, defined once for both binaries: `idreviewd token ...` (on the
//! daemon's host, over the socket or straight into a stopped daemon's store) and
//! `idreview token ...` (over RPC, also remotely). Only with the `clap` feature.

use crate::{Role, TokenSpec};

/// `token create|list|revoke`: bearer tokens, for admins.
#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (shown only now; it is stored hashed) on standard output
    Create(NewTokenArgs),
    /// List tokens (never their secrets)
    List {
        /// JSON output
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token; open connections using it fail their next call
    Revoke {
        /// The token's id (the part after `idr_`)
        id: String,
    },
}

/// `token create`: what the new token is called and may do.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct NewTokenArgs {
    /// A name for lists and the audit log, e.g. alice-laptop
    #[arg(long)]
    pub name: String,
    /// submitter, reviewer or admin
    #[arg(long)]
    pub role: Role,
    /// The token stops working after this many days
    #[arg(long, value_name = "D")]
    pub expires_days: Option<u32>,
    /// Submitter tokens: the only user id the token acts for
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<String>,
    /// The person the token belongs to (default: its name); one person's tokens count once
    /// where two reviewers are needed (four eyes)
    #[arg(long, value_name = "NAME")]
    pub person: Option<String>,
}

impl From<NewTokenArgs> for TokenSpec {
    fn from(args: NewTokenArgs) -> TokenSpec {
        TokenSpec {
            name: args.name,
            role: args.role,
            expires_days: args.expires_days,
            user_id: args.user,
            person: args.person,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        token: TokenCommand,
    }

    #[test]
    fn flags_parse_into_a_spec() {
        let cli = Cli::try_parse_from([
            "t",
            "create",
            "--name",
            "app",
            "--role",
            "submitter",
            "--user",
            "alice-42",
            "--expires-days",
            "90",
        ])
        .expect("parses");
        let TokenCommand::Create(args) = cli.token else {
            panic!("not create: {cli:?}")
        };
        let spec = TokenSpec::from(args);
        assert_eq!(
            (spec.role, spec.user_id.as_deref(), spec.expires_days),
            (Role::Submitter, Some("alice-42"), Some(90))
        );
        let list = Cli::try_parse_from(["t", "list", "--json"]).expect("parses");
        assert_eq!(list.token, TokenCommand::List { json: true });
        assert!(Cli::try_parse_from(["t", "create", "--name", "x", "--role", "boss"]).is_err());
        assert!(Cli::try_parse_from(["t", "revoke"]).is_err());
    }
}
