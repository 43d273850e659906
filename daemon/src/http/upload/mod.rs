//! `POST documents/upload/`: the multipart upload of a user's document. Auth comes first (the
//! extractor runs before the body is touched); a body declared or found larger than the sum of
//! the parts' limits is cut off with a 413. Each file part streams to a staging folder under its
//! own limit (an image 10 MiB, a video 50 MiB: past it the part is refused and the rest of it
//! is read and dropped, never stored), with an idle timeout per chunk rather than a total one.
//! The parts are then judged by the intake rules (`crate::validate`, the inbox's own), and a
//! valid upload is claimed into the work area and taken through card creation, storage and
//! verification by the pipeline in the same request: 201 with the card. A refused upload
//! leaves nothing behind (no card, no object, no file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use idreview_protocol::{DocumentType, FileRole};
use tracing::warn;

mod form;

pub use form::VIDEO_TYPES;
use form::{Form, check_form, read_form, refused, too_large};

use super::auth::Caller;
use super::card_json::{SeedCard, base_url, render};
use super::resumable;
use super::{ApiError, HttpState};
use crate::ingest::{Claimed, Submitted};
use crate::retry::Backoff;
use crate::store::people::Person;
use crate::validate::{self, ValidFile, ValidSubmission};

/// The staging folders of uploads in flight: `DATA/http-uploads`.
pub fn staging_root(config: &crate::config::Config) -> PathBuf {
    config.data_dir().join("http-uploads")
}

/// A staging folder, removed when dropped unless it was claimed into the work area.
struct Staging {
    dir: PathBuf,
    name: String,
    claimed: bool,
}

impl Staging {
    fn new(root: &Path) -> Result<Staging, ApiError> {
        let mut salt = [0u8; 4];
        getrandom::fill(&mut salt).map_err(|e| ApiError::Internal(e.to_string()))?;
        let name = format!(
            "http-{}-{}",
            chrono::Utc::now().timestamp_micros(),
            hex::encode(salt)
        );
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::Internal(format!("creating {}: {e}", dir.display())))?;
        Ok(Staging {
            dir,
            name,
            claimed: false,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.claimed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `POST documents/upload/`; with an `Idempotency-Key`, a retry answers the first card.
#[utoipa::path(
    post,
    path = "/api/ocr/documents/upload/",
    request_body(content = super::openapi::UploadForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key answers the first card")),
    responses(
        (status = 201, description = "The new card", body = SeedCard),
        (status = 400, description = "Keyed by the bad part: `front`, `back`, `document_type`, `country`, `selfie_video`", body = super::openapi::FieldErrors),
        (status = 401, body = super::openapi::Detail),
        (status = 409, description = "The user already has a card", body = super::openapi::Detail),
        (status = 413, description = "The body is over the sum of the parts' limits", body = super::openapi::Detail),
    )
)]
pub async fn upload(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let key = super::idempotency::key(&headers, &caller.identity, "upload");
    let replays = state.replays.clone();
    let idle = state.idle();
    let cap = body_cap(&state);
    let run = |request| async move {
        upload_once(state, caller, headers, request)
            .await
            .into_response()
    };
    let (answer, unread) = replays.once(key, request, run).await;
    if let Some(request) = unread {
        drop_body(request, idle, cap).await;
    }
    answer
}

/// Reads a replayed upload's body to its end and drops it (nothing is stored), so that the
/// client finishes sending before it reads the answer; a client that stalls or sends more than
/// an upload may hold is given up on.
async fn drop_body(request: Request, idle: Duration, cap: u64) {
    use http_body_util::BodyExt;
    let mut body = request.into_body();
    let mut read = 0u64;
    while read <= cap {
        match tokio::time::timeout(idle, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            _ => return,
        }
    }
}

/// The most an upload's body may hold: both images, the video and room for the form's text.
fn body_cap(state: &HttpState) -> u64 {
    let limits = &state.config.validation;
    2 * limits.max_image_bytes + limits.max_video_bytes + 1024 * 1024
}

/// One upload, start to card.
async fn upload_once(
    state: HttpState,
    caller: Caller,
    headers: HeaderMap,
    request: Request,
) -> Result<(StatusCode, Json<SeedCard>), ApiError> {
    let user = caller.user()?.to_string();
    let limits = state.config.validation.clone();
    let cap = body_cap(&state);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large(cap));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| {
            ApiError::UnsupportedMediaType(format!(
                "Unsupported media type \"{content_type}\" in request."
            ))
        })?;
    let staging = Staging::new(&staging_root(&state.config))?;
    let form = read_form(&mut multipart, &staging.dir, &state, &user, cap).await?;
    let (document_type, country, mut form) = check_form(form)?;
    let attached = form.resumable.take();
    let valid = inspect(&staging.dir, &user, document_type, country, form, &limits).await?;
    std::fs::write(
        staging.dir.join(validate::MANIFEST_FILE),
        manifest_text(&valid),
    )
    .map_err(|e| ApiError::Internal(format!("writing the manifest: {e}")))?;
    state.store.person(Person::User, &user)?;
    let mut staging = staging;
    let claimed = Claimed::take(
        &staging.dir,
        staging.name.clone().into(),
        &state.config.work_dir(),
    )
    .map_err(|e| ApiError::Internal(format!("claiming the upload into the work area: {e}")))?;
    staging.claimed = true;
    let valid = relocate(valid, claimed.dir());
    let roles: BTreeMap<String, FileRole> = valid
        .files
        .iter()
        .map(|f| (f.name.clone(), f.role))
        .collect();
    let card = match state
        .pipeline
        .submit(claimed, valid, &caller.identity)
        .await
    {
        Submitted::Card(card) => card,
        Submitted::Refused(claimed, rejection) => {
            let _ = claimed.discard();
            // A reused document is a problem of one part (400, the other card unnamed); the
            // user's own card (the same files again, or an active one) is the contract's 409.
            let part = rejection.file.as_ref().and_then(|f| roles.get(f.as_str()));
            return Err(match (rejection.rule, part) {
                (idreview_protocol::DUPLICATE_DOCUMENT, Some(role)) => ApiError::reused(*role),
                _ => ApiError::Conflict(rejection.message),
            });
        }
        Submitted::Deferred(claimed, Some(card), why) => {
            warn!(card_id = %card.id, error = %why, "an upload's card goes on in the background");
            go_on(&state, claimed);
            card
        }
        Submitted::Deferred(claimed, None, why) => {
            let _ = claimed.discard();
            return Err(ApiError::Unavailable(format!(
                "The upload could not be stored ({why}); try again later."
            )));
        }
    };
    if let Some(data) = attached {
        resumable::remove(&state, &data);
    }
    let base = base_url(&state, &headers);
    Ok((StatusCode::CREATED, Json(render(&state, &base, &card)?)))
}

/// Every file judged by the intake rules (type by content, size, a full decode, the minimum
/// size of a document image, a video's container) and the manifest built, as the inbox would.
async fn inspect(
    dir: &Path,
    user: &str,
    document_type: DocumentType,
    country: Option<String>,
    form: Form,
    limits: &crate::config::ValidationConfig,
) -> Result<ValidSubmission, ApiError> {
    let mut text = format!(
        "user_id = {}\ndocument_type = \"{}\"\n",
        toml_string(user),
        document_type.as_str()
    );
    if let Some(c) = &country {
        text.push_str(&format!("country = {}\n", toml_string(c)));
    }
    let manifest = match validate::parse_manifest(&text) {
        Ok(m) => m,
        Err(r) if r.message.contains("country") => {
            return Err(ApiError::field("country", r.message));
        }
        Err(r) => return Err(ApiError::field("non_field_errors", r.message)),
    };
    let (dir, limits) = (dir.to_path_buf(), limits.clone());
    let judged = tokio::task::spawn_blocking(move || {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut files = Vec::new();
        for part in form.parts {
            let path = dir.join(&part.file);
            match validate::inspect_file(&path, part.role, &limits) {
                Ok(inspected)
                    if part.role == FileRole::Selfie
                        && !inspected.media_type.starts_with("video/") =>
                {
                    errors.entry(part.field.into()).or_default().push(format!(
                        "Invalid video: {} by its content; expected MP4, WebM, MOV or AVI.",
                        inspected.media_type
                    ));
                }
                Ok(inspected) => files.push(ValidFile {
                    role: part.role,
                    name: part.file,
                    path,
                    inspected,
                }),
                Err(rejection) => {
                    errors
                        .entry(part.field.into())
                        .or_default()
                        .push(rejection.message);
                }
            }
        }
        (files, errors)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("validation crashed: {e}")))?;
    let (mut files, errors) = judged;
    if !errors.is_empty() {
        return Err(refused(errors));
    }
    files.sort_by_key(|f| f.role);
    Ok(ValidSubmission { manifest, files })
}

/// The submission's files as they lie after the claim moved the folder.
fn relocate(mut valid: ValidSubmission, dir: &Path) -> ValidSubmission {
    for f in &mut valid.files {
        f.path = dir.join(&f.name);
    }
    valid
}

/// The manifest the inbox would read, for a restart that resumes the claim.
fn manifest_text(valid: &ValidSubmission) -> String {
    let m = &valid.manifest;
    let mut text = format!(
        "user_id = {}\ndocument_type = \"{}\"\n",
        toml_string(&m.user_id),
        m.document_type.as_str()
    );
    if let Some(c) = &m.country {
        text.push_str(&format!("country = {}\n", toml_string(c)));
    }
    text
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The pipeline goes on with a card whose files could not be stored yet (the object store is
/// down), as the inbox does with a deferred claim: with backoff, until it ends or the daemon
/// stops (a restart resumes it from the work area).
fn go_on(state: &HttpState, claimed: Claimed) {
    let (pipeline, shutdown) = (state.pipeline.clone(), state.shutdown.clone());
    state.tasks.spawn(async move {
        let mut delays =
            Backoff::doubling(Duration::from_secs(5), Duration::from_secs(300)).delays();
        let mut claimed = claimed;
        loop {
            let crate::ingest::Outcome::Deferred(again, _) = pipeline.process(claimed).await else {
                return;
            };
            claimed = again;
            let wait = delays.next().unwrap_or(Duration::from_secs(300));
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
}
