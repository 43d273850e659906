//! Connecting to the daemon ([`Endpoint`]) and thin typed calls with a deadline each
//! ([`Rpc`]): the commands' and the worker's one way to it.

use std::path::PathBuf;
use std::time::Duration;

use idreview_protocol::transport::{self, TransportError, Welcome};
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, CardRef, Changes, DecideRequest, ErasureReport,
    FieldCorrection, Health, IdReviewClient, ItemResult, ListQuery, NamedView, NewToken, RpcError,
    Stats, StatsQuery, TokenInfo, TokenSpec, ViewSpec,
};

use crate::error::Error;
use crate::message::CallError;
use crate::settings::{Remote, Settings};

/// Where and how to connect: enough to reconnect after the daemon restarts.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The daemon's Unix socket.
    pub socket: PathBuf,
    /// The daemon's data dir, named in errors.
    pub data_dir: PathBuf,
    /// Bearer token for the handshake.
    pub token: Option<String>,
    /// Deadline of each call.
    pub timeout: Duration,
    /// A remote daemon over TLS instead of the socket.
    pub remote: Option<Remote>,
}

impl Endpoint {
    /// The endpoint the settings name.
    pub fn new(settings: &Settings) -> Endpoint {
        Endpoint {
            socket: settings.socket.clone(),
            data_dir: settings.data_dir.clone(),
            token: settings.token.clone(),
            timeout: settings.rpc_timeout(),
            remote: settings.remote.clone(),
        }
    }

    /// Connects and handshakes; nothing listening is [`Error::NoDaemon`].
    pub async fn connect(&self) -> Result<(Rpc, Welcome), Error> {
        if let Some(remote) = &self.remote {
            let (client, welcome) = idreview_protocol::tls::connect_tls(
                &remote.addr,
                &remote.trust,
                self.token.clone(),
            )
            .await
            .map_err(|e| Error::Remote {
                addr: remote.addr.clone(),
                message: e.to_string(),
            })?;
            let rpc = Rpc {
                client,
                timeout: self.timeout,
            };
            return Ok((rpc, welcome));
        }
        match transport::connect_unix(&self.socket, self.token.clone()).await {
            Ok((client, welcome)) => Ok((
                Rpc {
                    client,
                    timeout: self.timeout,
                },
                welcome,
            )),
            Err(TransportError::Connect { .. }) => Err(Error::NoDaemon {
                socket: self.socket.clone(),
                data_dir: self.data_dir.clone(),
            }),
            Err(e) => Err(Error::Handshake {
                socket: self.socket.clone(),
                message: e.to_string(),
            }),
        }
    }
}

/// A connected client whose every call carries a deadline. Cheap to clone.
#[derive(Clone)]
pub struct Rpc {
    client: IdReviewClient,
    /// The deadline of each call; the worker stretches it for the change feed's long poll.
    pub(super) timeout: Duration,
}

impl Rpc {
    /// The same client with a longer deadline, for bulk calls.
    pub fn with_timeout(&self, timeout: Duration) -> Rpc {
        Rpc {
            client: self.client.clone(),
            timeout,
        }
    }

    fn ctx(&self) -> tarpc::context::Context {
        transport::context_with_timeout(self.timeout)
    }

    fn flat<T>(
        &self,
        r: Result<Result<T, RpcError>, tarpc::client::RpcError>,
    ) -> Result<T, CallError> {
        r.map_err(|e| call_error(e, self.timeout))?
            .map_err(CallError::Daemon)
    }

    /// Versions, identity and counts per status.
    pub async fn health(&self) -> Result<Health, CallError> {
        self.client
            .health(self.ctx())
            .await
            .map_err(|e| call_error(e, self.timeout))
    }

    /// One page of cards.
    pub async fn list_cards(&self, query: ListQuery) -> Result<CardPage, CallError> {
        self.flat(self.client.list_cards(self.ctx(), query).await)
    }

    /// The ids and versions of the cards a list would show, from its offset.
    pub async fn list_refs(&self, query: ListQuery) -> Result<Vec<CardRef>, CallError> {
        self.flat(self.client.list_refs(self.ctx(), query).await)
    }

    /// The whole card.
    pub async fn get_card(&self, id: CardId) -> Result<Card, CallError> {
        self.flat(self.client.get_card(self.ctx(), id).await)
    }

    /// The card's audit history, oldest first.
    pub async fn audit_events(&self, id: CardId) -> Result<Vec<AuditEvent>, CallError> {
        self.flat(self.client.audit_events(self.ctx(), id).await)
    }

    /// Admin: creates a token; the answer holds its secret, shown only now.
    pub async fn create_token(&self, spec: TokenSpec) -> Result<NewToken, CallError> {
        self.flat(self.client.create_token(self.ctx(), spec).await)
    }

    /// Admin: every token, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, CallError> {
        self.flat(self.client.list_tokens(self.ctx()).await)
    }

    /// Admin: revokes a token by id.
    pub async fn revoke_token(&self, id: String) -> Result<TokenInfo, CallError> {
        self.flat(self.client.revoke_token(self.ctx(), id).await)
    }

    /// Admin: audit events after `since`, oldest first, at most `limit`.
    pub async fn audit_export(&self, since: u64, limit: u32) -> Result<Vec<AuditEvent>, CallError> {
        self.flat(self.client.audit_export(self.ctx(), since, limit).await)
    }

    /// Admin: erases one user's cards and files (or says what would go).
    pub async fn erase_user(
        &self,
        user_id: String,
        reason: String,
        dry_run: bool,
    ) -> Result<ErasureReport, CallError> {
        self.flat(
            self.client
                .erase_user(self.ctx(), user_id, reason, dry_run)
                .await,
        )
    }

    /// The submissions the inbox refused, newest first.
    pub async fn rejected_submissions(
        &self,
        offset: u64,
        limit: u32,
    ) -> Result<idreview_protocol::RejectedPage, CallError> {
        self.flat(
            self.client
                .rejected_submissions(self.ctx(), offset, limit)
                .await,
        )
    }

    /// Admin: takes a decided card back into review.
    pub async fn reopen_card(&self, card: CardRef, reason: String) -> Result<Card, CallError> {
        self.flat(self.client.reopen_card(self.ctx(), card, reason).await)
    }

    /// Approve or reject cards in one call; a result per card.
    pub async fn decide(&self, request: DecideRequest) -> Result<Vec<ItemResult>, CallError> {
        self.client
            .decide(self.ctx(), request)
            .await
            .map_err(|e| call_error(e, self.timeout))
    }
}

impl Rpc {
    /// Mark cards as checked (or not); a result per card.
    pub async fn set_verified(
        &self,
        cards: Vec<CardRef>,
        verified: bool,
    ) -> Result<Vec<ItemResult>, CallError> {
        self.client
            .set_verified(self.ctx(), cards, verified)
            .await
            .map_err(|e| call_error(e, self.timeout))
    }

    /// Claim the card for review.
    pub async fn claim_card(&self, id: CardId) -> Result<Card, CallError> {
        let card = CardRef {
            id,
            expected_version: None,
        };
        self.flat(self.client.claim_card(self.ctx(), card).await)
    }

    /// Give up a claim.
    pub async fn release_card(&self, id: CardId) -> Result<(), CallError> {
        self.flat(self.client.release_card(self.ctx(), id).await)
    }

    /// Correct field values of a card.
    pub async fn correct_fields(
        &self,
        card: CardRef,
        corrections: Vec<FieldCorrection>,
    ) -> Result<Card, CallError> {
        self.flat(
            self.client
                .correct_fields(self.ctx(), card, corrections)
                .await,
        )
    }

    /// One long-poll of the change feed; the deadline must exceed `wait_ms`.
    pub async fn changes(&self, since: u64, wait_ms: u32) -> Result<Changes, CallError> {
        self.flat(self.client.changes(self.ctx(), since, wait_ms).await)
    }

    /// The bytes of one of a card's files.
    pub async fn file_bytes(&self, id: CardId, name: String) -> Result<Vec<u8>, CallError> {
        self.flat(self.client.file_bytes(self.ctx(), id, name).await)
    }

    /// The dashboard's numbers, with "today" and "this week" in this machine's time zone.
    pub async fn stats(&self) -> Result<Stats, CallError> {
        let offset = chrono::Local::now().offset().local_minus_utc();
        let query = StatsQuery {
            utc_offset_secs: offset,
        };
        self.flat(self.client.stats(self.ctx(), query).await)
    }

    /// The caller's named views, then the team's.
    pub async fn list_views(&self) -> Result<Vec<NamedView>, CallError> {
        self.flat(self.client.list_views(self.ctx()).await)
    }

    /// Saves a named view (a team view: admins only).
    pub async fn save_view(&self, view: ViewSpec) -> Result<NamedView, CallError> {
        self.flat(self.client.save_view(self.ctx(), view).await)
    }

    /// Deletes one of the caller's views (or, admins, a team view).
    pub async fn delete_view(&self, name: String, team: bool) -> Result<(), CallError> {
        self.flat(self.client.delete_view(self.ctx(), name, team).await)
    }
}

/// The call error a tarpc failure means; `timeout` was the call's deadline.
fn call_error(e: tarpc::client::RpcError, timeout: Duration) -> CallError {
    use tarpc::client::RpcError as T;
    match e {
        T::DeadlineExceeded => CallError::Timeout(timeout),
        T::Server(e) => CallError::Disconnected(format!("the daemon aborted the call: {e}")),
        other => {
            let source = std::error::Error::source(&other).map(|s| format!(": {s}"));
            CallError::Disconnected(format!("{other}{}", source.unwrap_or_default()))
        }
    }
}
