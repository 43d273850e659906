//! `Idempotency-Key` on the upload and the bulk decision: a request retried with the same key by
//! the same identity gets the first successful answer again (the card, not a 409), without being
//! run twice; a retry arriving while the first is still running waits for it. Failed answers are
//! not kept, so a corrected retry runs. Keys are kept in memory for a day (a restart forgets
//! them; a retried upload then meets the domain's one-active-card rule). A replayed request's
//! input is handed back to the caller, so that an upload can read its body to the end before the
//! answer: a server that answers while the client is still sending makes the client's write fail
//! with a broken pipe instead of reading the answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// How long an answer is kept for its key.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// Most keys kept at once; the oldest go first.
const MAX_KEYS: usize = 100_000;
/// A kept answer is at most this large.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// A finished answer, kept for its key.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: Bytes,
}

/// One key's slot: the lock a retry waits on, and the answer once there is one.
type Slot = Arc<tokio::sync::Mutex<Option<Answer>>>;

/// The answers of idempotent requests by identity, route and key.
#[derive(Default)]
pub struct Replays {
    /// (slot, when it was made); the outer lock is held only to find or add a slot.
    slots: Mutex<HashMap<String, (Slot, Instant)>>,
}

impl Replays {
    /// Runs `run(input)` once per `key` (when the request has one), answering a retry with the
    /// first successful answer; a replay hands `input` back unused.
    pub async fn once<T, F, Fut>(
        &self,
        key: Option<String>,
        input: T,
        run: F,
    ) -> (Response, Option<T>)
    where
        F: FnOnce(T) -> Fut,
        Fut: Future<Output = Response>,
    {
        let Some(key) = key else {
            return (run(input).await, None);
        };
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots.len() >= MAX_KEYS {
                let now = Instant::now();
                slots.retain(|_, (_, at)| now.duration_since(*at) < KEEP);
                if slots.len() >= MAX_KEYS
                    && let Some(oldest) = slots
                        .iter()
                        .min_by_key(|(_, (_, at))| *at)
                        .map(|(k, _)| k.clone())
                {
                    slots.remove(&oldest);
                }
            }
            let entry = slots
                .entry(key)
                .or_insert_with(|| (Slot::default(), Instant::now()));
            entry.0.clone()
        };
        let mut kept = slot.lock().await;
        if let Some(answer) = kept.as_ref() {
            return (replay(answer), Some(input));
        }
        let response = run(input).await;
        if !response.status().is_success() {
            return (response, None);
        }
        let status = response.status();
        let body = match to_bytes(response.into_body(), MAX_ANSWER).await {
            Ok(body) => body,
            Err(e) => {
                let error = super::ApiError::Internal(format!("keeping an answer: {e}"));
                return (error.into_response(), None);
            }
        };
        let answer = Answer { status, body };
        *kept = Some(answer.clone());
        (replay(&answer), None)
    }
}

fn replay(answer: &Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body.clone()));
    *response.status_mut() = answer.status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The request's key, scoped to who sent it and where.
pub fn key(headers: &HeaderMap, identity: &str, route: &str) -> Option<String> {
    let key = headers.get("idempotency-key")?.to_str().ok()?.trim();
    (!key.is_empty() && key.len() <= 255).then(|| format!("{identity}\n{route}\n{key}"))
}
