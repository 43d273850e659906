//! The console's RPC worker: owns the client, takes [`Request`]s over a channel and answers
//! each with an [`Action`], so the UI loop never awaits an RPC. It reconnects on the next
//! request after the connection broke, runs bulk work in chunks with progress, and pages
//! through "every matching card" for the selection.

use std::time::Duration;

use idreview_protocol::{CardRef, DecideRequest, Decision, FieldCorrection, ItemResult, ListQuery};
use tokio::sync::mpsc;

use super::client::{Endpoint, Rpc};
use crate::message::{Action, BulkOp, CallError, Request};

/// Cards per `decide` / `set_verified` call of a bulk run; progress is reported between chunks.
pub const CHUNK: usize = 500;

/// How long one change-feed call waits on the daemon.
const FEED_WAIT: Duration = Duration::from_secs(10);

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
    // Requests from the console, in order.
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
            let action = call(client, request, &actions).await;
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

/// The action that carries `e` as the answer to `request`.
fn failed(request: Request, e: CallError) -> Action {
    match request {
        Request::Health => Action::HealthLoaded(Err(e)),
        Request::List(query) => Action::PageLoaded {
            query,
            result: Err(e),
        },
        Request::Card(id) => Action::CardLoaded { id, result: Err(e) },
        Request::Audit(id) => Action::AuditLoaded { id, result: Err(e) },
        Request::Claim(id) => Action::Claimed { id, result: Err(e) },
        Request::Release(id) => Action::Released { id, result: Err(e) },
        Request::Correct { card, field, .. } => Action::Corrected {
            id: card.id,
            field,
            result: Err(e),
        },
        Request::Collect { query, .. } => Action::Collected {
            query,
            result: Err(e),
        },
        Request::Bulk { op, cards, .. } => Action::BulkDone {
            op,
            total: cards.len(),
            results: Vec::new(),
            error: Some(e),
        },
        Request::Changes(_) => Action::ChangesLoaded(Err(e)),
        Request::Image { id, name } => Action::ImageLoaded {
            id,
            name,
            result: Err(e.to_string()),
        },
        Request::ExportImage { .. } => Action::ImageExported(Err(e.to_string())),
        Request::Stats { .. } => Action::StatsLoaded(Err(e)),
        Request::Views => Action::ViewsLoaded(Err(e)),
        Request::SaveView(_) => Action::ViewSaved(Err(e)),
        Request::DeleteView { name, .. } => Action::ViewDeleted {
            name,
            result: Err(e),
        },
    }
}

/// Writes card `id`'s image `name` to `to`, or opens it in the system viewer; what the status
/// line says.
fn export(
    id: idreview_protocol::CardId,
    name: &str,
    to: Option<std::path::PathBuf>,
    bytes: &[u8],
) -> Result<String, String> {
    match to {
        Some(path) => crate::viewer::write(&path, bytes)
            .map(|()| format!("wrote card {id} {name} to {}", path.display())),
        None => crate::viewer::open(&format!("card-{id}-{name}"), bytes).map(|path| {
            format!(
                "opened card {id} {name} in the system viewer ({})",
                path.display()
            )
        }),
    }
    .map_err(|e| e.to_string())
}

/// Runs one request and wraps its answer as the action that carries it.
async fn call(
    rpc: Result<Rpc, CallError>,
    request: Request,
    progress: &mpsc::UnboundedSender<Action>,
) -> Action {
    let rpc = match rpc {
        Ok(rpc) => rpc,
        Err(e) => return failed(request, e),
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
        Request::Claim(id) => Action::Claimed {
            id,
            result: rpc.claim_card(id).await,
        },
        Request::Release(id) => Action::Released {
            id,
            result: rpc.release_card(id).await,
        },
        Request::Correct { card, field, value } => {
            let correction = FieldCorrection {
                name: field.clone(),
                value,
            };
            let result = rpc.correct_fields(card, vec![correction]).await;
            Action::Corrected {
                id: card.id,
                field,
                result,
            }
        }
        Request::Collect { query, from, to } => {
            let result = collect(&rpc, &query, from, to).await;
            Action::Collected { query, result }
        }
        Request::Bulk { op, cards, reason } => bulk(&rpc, op, cards, reason, progress).await,
        Request::Image { id, name } => {
            let result = match rpc.file_bytes(id, name.clone()).await {
                Ok(bytes) => tokio::task::spawn_blocking(move || crate::image::decode(&bytes))
                    .await
                    .unwrap_or_else(|e| Err(format!("decoding stopped: {e}"))),
                Err(e) => Err(e.to_string()),
            };
            Action::ImageLoaded { id, name, result }
        }
        Request::ExportImage { id, name, to } => {
            let result = match rpc.file_bytes(id, name.clone()).await {
                Ok(bytes) => tokio::task::spawn_blocking(move || export(id, &name, to, &bytes))
                    .await
                    .unwrap_or_else(|e| Err(format!("writing stopped: {e}"))),
                Err(e) => Err(e.to_string()),
            };
            Action::ImageExported(result)
        }
        Request::Stats { after } => {
            tokio::time::sleep(after).await;
            Action::StatsLoaded(rpc.stats().await)
        }
        Request::Views => Action::ViewsLoaded(rpc.list_views().await),
        Request::SaveView(view) => Action::ViewSaved(rpc.save_view(view).await),
        Request::DeleteView { name, team } => {
            let result = rpc.delete_view(name.clone(), team).await;
            Action::ViewDeleted { name, result }
        }
        Request::Changes(since) => {
            let wait = u32::try_from(FEED_WAIT.as_millis()).unwrap_or(u32::MAX);
            let rpc = rpc.with_timeout(FEED_WAIT + rpc.timeout);
            Action::ChangesLoaded(rpc.changes(since, wait).await)
        }
    }
}

/// The ids and versions of `query`'s cards from position `from` to `to` (exclusive), in
/// calls of up to `ListQuery::MAX_REFS` (no rows: marking needs only ids and versions).
async fn collect(
    rpc: &Rpc,
    query: &ListQuery,
    from: u64,
    to: u64,
) -> Result<Vec<CardRef>, CallError> {
    let mut out = Vec::new();
    let mut offset = from;
    while offset < to {
        let limit = u32::try_from((to - offset).min(u64::from(ListQuery::MAX_REFS)))
            .unwrap_or(ListQuery::MAX_REFS);
        let refs = rpc
            .list_refs(ListQuery {
                offset,
                limit,
                ..query.clone()
            })
            .await?;
        let got = refs.len() as u64;
        out.extend(refs);
        if got == 0 {
            break;
        }
        offset += got;
    }
    Ok(out)
}

/// Sends `op` for `cards` in chunks, reporting progress after each; stops at the first call
/// that fails as a whole and says how far it got.
async fn bulk(
    rpc: &Rpc,
    op: BulkOp,
    cards: Vec<CardRef>,
    reason: String,
    progress: &mpsc::UnboundedSender<Action>,
) -> Action {
    let total = cards.len();
    let mut results: Vec<ItemResult> = Vec::with_capacity(total);
    let mut error = None;
    for chunk in cards.chunks(CHUNK) {
        let chunk = chunk.to_vec();
        let answer = match op {
            BulkOp::Approve | BulkOp::ApproveOverDoubts | BulkOp::Reject => {
                let decision = match op {
                    BulkOp::Reject => Decision::Reject,
                    _ => Decision::Approve,
                };
                let request = DecideRequest {
                    cards: chunk,
                    decision,
                    reason: reason.clone(),
                    override_doubts: op == BulkOp::ApproveOverDoubts,
                };
                rpc.decide(request).await
            }
            BulkOp::Verify => rpc.set_verified(chunk, true).await,
            BulkOp::Unverify => rpc.set_verified(chunk, false).await,
        };
        match answer {
            Ok(items) => results.extend(items),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        if results.len() < total {
            let _ = progress.send(Action::BulkProgress {
                done: results.len(),
                total,
            });
        }
    }
    Action::BulkDone {
        op,
        total,
        results,
        error,
    }
}
