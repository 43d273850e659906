//! `idreviewd token create|list|revoke`: managing bearer tokens from the daemon's host. When a
//! daemon answers on the socket the command asks it over RPC (the store is locked while it
//! runs); otherwise it opens the store directly (sled only: with PostgreSQL the command
//! needs a running daemon). Either way the change is audited.

use std::io::Write;

use idreview_protocol::cli::TokenCommand;
use idreview_protocol::transport::connect_unix;
use idreview_protocol::{IdReviewClient, NewToken, RpcError, TokenInfo, TokenSpec};

use crate::config::Config;
use crate::store::Store;
use crate::store::tokens::TokenError;

/// Why a token command failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenCliError {
    #[error("the daemon refused: {0}")]
    Rpc(#[from] RpcError),
    #[error("talking to the daemon: {0}")]
    Call(String),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("no idreviewd answers on {0}: {1}; start one first")]
    NoDaemon(std::path::PathBuf, crate::backend::NotOnPostgres),
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// What the command does to tokens, wherever they live.
enum Target {
    Daemon(IdReviewClient),
    Store(Store),
}

impl Target {
    /// The running daemon over its socket or, when none answers, the store itself.
    async fn open(config: &Config) -> Result<Target, TokenCliError> {
        Ok(match connect_unix(&config.socket_path(), None).await {
            Ok((client, _)) => Target::Daemon(client),
            Err(_) if config.store.backend == crate::config::StoreBackend::Postgres => {
                let without = crate::backend::NotOnPostgres("managing tokens without a daemon");
                return Err(TokenCliError::NoDaemon(config.socket_path(), without));
            }
            Err(_) => Target::Store(Store::open(
                &config.store_dir(),
                config.verification.confidence_threshold,
            )?),
        })
    }

    async fn create(&self, spec: TokenSpec) -> Result<NewToken, TokenCliError> {
        Ok(match self {
            Target::Daemon(c) => c
                .create_token(tarpc::context::current(), spec)
                .await
                .map_err(call)??,
            Target::Store(s) => s.create_token(&spec, &actor()).await?,
        })
    }
}

/// Who acts in the audit log when the store is opened directly.
fn actor() -> String {
    format!(
        "local:{}",
        std::env::var("USER").unwrap_or_else(|_| "cli".into())
    )
}

fn call(e: tarpc::client::RpcError) -> TokenCliError {
    TokenCliError::Call(e.to_string())
}

/// Creates one token (for `remote invite`), through the daemon or the store like `run`.
pub async fn create(config: &Config, spec: TokenSpec) -> Result<NewToken, TokenCliError> {
    let target = Target::open(config).await?;
    let new = target.create(spec).await?;
    finish(target).await?;
    Ok(new)
}

/// Runs `command` against the running daemon or, when none answers, the store itself.
pub async fn run(
    config: &Config,
    command: TokenCommand,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), TokenCliError> {
    let target = Target::open(config).await?;
    let actor = actor();
    let ctx = tarpc::context::current;
    match command {
        TokenCommand::Create(args) => {
            let new = target.create(TokenSpec::from(args)).await?;
            writeln!(
                err,
                "created token {} ({}, role {}); it is shown only now:",
                new.info.id, new.info.name, new.info.role
            )?;
            writeln!(out, "{}", new.token)?;
        }
        TokenCommand::List { json } => {
            let all: Vec<TokenInfo> = match &target {
                Target::Daemon(c) => c.list_tokens(ctx()).await.map_err(call)??,
                Target::Store(s) => s.list_tokens(),
            };
            if json {
                serde_json::to_writer_pretty(&mut *out, &all)?;
                writeln!(out)?;
                return finish(target).await;
            }
            writeln!(
                out,
                "{:<12}  {:<20}  {:<9}  {:<12}  {:<10}  {:<10}  {:<16}  state",
                "id", "name", "role", "user", "created", "expires", "last used"
            )?;
            let now = chrono::Utc::now();
            for t in all {
                let day = |d: Option<chrono::DateTime<chrono::Utc>>| {
                    d.map_or("-".to_string(), |d| d.format("%Y-%m-%d").to_string())
                };
                let state = t.unusable(now).map_or("active", |_| {
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "expired"
                    }
                });
                writeln!(
                    out,
                    "{:<12}  {:<20}  {:<9}  {:<12}  {:<10}  {:<10}  {:<16}  {state}",
                    t.id,
                    t.name,
                    t.role.as_str(),
                    t.user_id.as_deref().unwrap_or("-"),
                    day(Some(t.created_at)),
                    day(t.expires_at),
                    t.last_used
                        .map_or("-".to_string(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
                )?;
            }
        }
        TokenCommand::Revoke { id } => {
            let info = match &target {
                Target::Daemon(c) => c.revoke_token(ctx(), id).await.map_err(call)??,
                Target::Store(s) => s.revoke_token(&id, &actor).await?,
            };
            writeln!(out, "revoked token {} ({})", info.id, info.name)?;
        }
    }
    finish(target).await
}

/// Flushes a store opened for the command.
async fn finish(target: Target) -> Result<(), TokenCliError> {
    if let Target::Store(s) = target {
        s.flush().await?;
    }
    Ok(())
}
