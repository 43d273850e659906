//! What goes wrong talking to PostgreSQL. No message here shows the store URL: it may hold a
//! password.

use tokio_postgres::error::SqlState;

use crate::store::StoreError;
use crate::store::tokens::TokenError;

/// A failure of the database or of the way to it.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("[store] url is not a PostgreSQL connection string: {0}")]
    Url(#[source] tokio_postgres::Error),
    #[error("PostgreSQL: {}", chain(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("PostgreSQL: no connection: {}", chain(.0))]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("PostgreSQL connection pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    #[error("PostgreSQL schema migration: {0}")]
    Migrate(#[from] refinery::Error),
    #[error("a row in PostgreSQL does not decode: {0}")]
    Decode(#[from] serde_json::Error),
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Database(PgError::Db(e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Database(PgError::Pool(e))
    }
}

/// `e` and every error below it, as one line: tokio-postgres says only "db error" and keeps
/// the server's words ("FATAL: terminating connection due to administrator command") in its
/// source.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut below = e.source();
    while let Some(cause) = below {
        let said = cause.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        below = cause.source();
    }
    text
}

/// Whether `e` is a unique violation of the index or constraint `name`.
pub(super) fn violates(e: &tokio_postgres::Error, name: &str) -> bool {
    e.as_db_error()
        .is_some_and(|db| *db.code() == SqlState::UNIQUE_VIOLATION && db.constraint() == Some(name))
}

impl From<PgError> for TokenError {
    fn from(e: PgError) -> Self {
        TokenError::Store(StoreError::Database(e))
    }
}

impl From<tokio_postgres::Error> for TokenError {
    fn from(e: tokio_postgres::Error) -> Self {
        TokenError::Store(e.into())
    }
}
