//! The console's and the commands' only way to the daemon: connecting, thin typed calls with a
//! deadline each ([`Rpc`]), and the background worker that owns the client for the console,
//! takes [`Request`]s over a channel and answers with [`Action`]s, so the UI loop never awaits
//! an RPC.

use std::path::PathBuf;
use std::time::Duration;

use idreview_protocol::transport::{self, TransportError, Welcome};
use idreview_protocol::{
    AuditEvent, Card, CardId, CardPage, DecideRequest, Health, IdReviewClient, ItemResult,
    ListQuery, NewToken, RpcError, TokenInfo, TokenSpec,
};
use tokio::sync::mpsc;

use crate::app::Action;
use crate::error::Error;
use crate::settings::Settings;

/// Why one call did not give an answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// There is no connection and making one failed.
    #[error("not connected: {0}")]
    NotConnected(String),
    /// The connection broke under the call.
    #[error("lost the connection to the daemon: {0}")]
    Disconnected(String),
    /// The daemon did not answer in time.
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    /// The daemon answered with an error.
    #[error("{0}")]
    Daemon(RpcError),
}

impl CallError {
    /// Whether the connection is gone and the next call should reconnect.
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self,
            CallError::Disconnected(_) | CallError::NotConnected(_)
        )
    }

    fn from_tarpc(e: tarpc::client::RpcError, timeout: Duration) -> CallError {
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
}

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
    pub remote: Option<crate::settings::Remote>,
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
    timeout: Duration,
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
        r.map_err(|e| CallError::from_tarpc(e, self.timeout))?
            .map_err(CallError::Daemon)
    }

    /// Versions, identity and counts per status.
    pub async fn health(&self) -> Result<Health, CallError> {
        self.client
            .health(self.ctx())
            .await
            .map_err(|e| CallError::from_tarpc(e, self.timeout))
    }

    /// One page of cards.
    pub async fn list_cards(&self, query: ListQuery) -> Result<CardPage, CallError> {
        self.flat(self.client.list_cards(self.ctx(), query).await)
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

    /// Approve or reject cards in one call; a result per card.
    pub async fn decide(&self, request: DecideRequest) -> Result<Vec<ItemResult>, CallError> {
        self.client
            .decide(self.ctx(), request)
            .await
            .map_err(|e| CallError::from_tarpc(e, self.timeout))
    }
}

/// What the console asks the worker for. Each answer comes back as one [`Action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Health,
    List(ListQuery),
    Card(CardId),
    Audit(CardId),
    Decide(DecideRequest),
}

/// The console's side of the worker.
#[derive(Debug, Clone)]
pub struct RpcHandle {
    /// Requests to the worker, in the order the app issued them.
    requests: mpsc::UnboundedSender<Request>,
}

impl RpcHandle {
    /// Queues a request; a dead worker is logged, since the app then shows no answer.
    pub fn send(&self, request: Request) {
        if self.requests.send(request).is_err() {
            tracing::error!("the rpc worker is gone");
        }
    }
}

/// Starts the worker owning `rpc` (or connecting on first use), answering on `actions`.
pub fn spawn_worker(
    endpoint: Endpoint,
    rpc: Option<Rpc>,
    actions: mpsc::UnboundedSender<Action>,
) -> RpcHandle {
    let (requests, rx) = mpsc::unbounded_channel();
    tokio::spawn(worker(endpoint, rpc, rx, actions));
    RpcHandle { requests }
}

async fn worker(
    endpoint: Endpoint,
    mut rpc: Option<Rpc>,
    mut requests: mpsc::UnboundedReceiver<Request>,
    actions: mpsc::UnboundedSender<Action>,
) {
    // Calls that saw the connection break say so here, so the next request reconnects.
    let (broken_tx, mut broken_rx) = mpsc::unbounded_channel::<()>();
    loop {
        let request = tokio::select! {
            Some(()) = broken_rx.recv() => { rpc = None; continue; }
            request = requests.recv() => match request { Some(r) => r, None => return },
        };
        let client = match &rpc {
            Some(client) => Ok(client.clone()),
            None => match endpoint.connect().await {
                Ok((client, welcome)) => {
                    tracing::info!(identity = %welcome.identity, "connected");
                    let _ = actions.send(Action::Connected(welcome));
                    rpc = Some(client.clone());
                    Ok(client)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "connect failed");
                    let _ = actions.send(Action::Disconnected(e.to_string()));
                    Err(CallError::NotConnected(e.to_string()))
                }
            },
        };
        let (actions, broken) = (actions.clone(), broken_tx.clone());
        tokio::spawn(async move {
            let action = call(client, request).await;
            // Only a connection that broke under the call is news; a failed connect was
            // reported above.
            if let Some(e @ CallError::Disconnected(_)) = action.call_error() {
                let _ = broken.send(());
                let _ = actions.send(Action::Disconnected(e.to_string()));
            }
            let _ = actions.send(action);
        });
    }
}

/// Runs one request and wraps its answer as the action that carries it.
async fn call(rpc: Result<Rpc, CallError>, request: Request) -> Action {
    let rpc = match rpc {
        Ok(rpc) => rpc,
        Err(e) => {
            return match request {
                Request::Health => Action::HealthLoaded(Err(e)),
                Request::List(query) => Action::PageLoaded {
                    query,
                    result: Err(e),
                },
                Request::Card(id) => Action::CardLoaded { id, result: Err(e) },
                Request::Audit(id) => Action::AuditLoaded { id, result: Err(e) },
                Request::Decide(request) => Action::Decided {
                    request,
                    result: Err(e),
                },
            };
        }
    };
    match request {
        Request::Health => Action::HealthLoaded(rpc.health().await),
        Request::List(query) => {
            let result = rpc.list_cards(query.clone()).await;
            Action::PageLoaded { query, result }
        }
        Request::Card(id) => Action::CardLoaded {
            id,
            result: rpc.get_card(id).await,
        },
        Request::Audit(id) => Action::AuditLoaded {
            id,
            result: rpc.audit_events(id).await,
        },
        Request::Decide(request) => {
            let result = rpc.decide(request.clone()).await;
            Action::Decided { request, result }
        }
    }
}
