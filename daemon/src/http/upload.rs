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
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use idreview_protocol::{DocumentType, FileRole};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tracing::warn;

use super::auth::Caller;
use super::card_json::{SeedCard, base_url, render};
use super::resumable;
use super::{ApiError, HttpState};
use crate::ingest::{Claimed, Submitted};
use crate::retry::Backoff;
use crate::store::people::Person;
use crate::validate::{self, ValidFile, ValidSubmission};

/// Declared types the seed accepts for an image part and a video part.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
pub const VIDEO_TYPES: [&str; 4] = [
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-msvideo",
];

/// The form field naming a finished resumable upload (its id or `Location`) to attach as the
/// video instead of a `selfie_video` part.
pub const RESUMABLE_FIELD: &str = "selfie_video_upload";

/// A form field's text is at most this long.
const MAX_TEXT: usize = 1024;

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

/// One file part as it arrived.
struct Part {
    role: FileRole,
    /// The part's name in the form, which keys its errors.
    field: &'static str,
    file: String,
}

/// What the form said.
#[derive(Default)]
struct Form {
    document_type: Option<String>,
    country: Option<String>,
    parts: Vec<Part>,
    errors: BTreeMap<String, Vec<String>>,
    /// The resumable upload attached as the video, removed once the card exists.
    resumable: Option<PathBuf>,
}

impl Form {
    fn refuse(&mut self, field: &str, why: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(why.into());
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
    let card = match state
        .pipeline
        .submit(claimed, valid, &caller.identity)
        .await
    {
        Submitted::Card(card) => card,
        Submitted::Refused(claimed, rejection) => {
            let _ = claimed.discard();
            return Err(ApiError::Conflict(rejection.message));
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

/// Reads every part: texts into the form, files into `dir` under their limits, a finished
/// resumable upload named by `selfie_video_upload` linked in as the video.
async fn read_form(
    multipart: &mut Multipart,
    dir: &Path,
    state: &HttpState,
    user: &str,
    cap: u64,
) -> Result<Form, ApiError> {
    let idle = state.idle();
    let limits = &state.config.validation;
    let mut form = Form::default();
    loop {
        let next = tokio::time::timeout(idle, multipart.next_field())
            .await
            .map_err(|_| timed_out(idle))?;
        let Some(mut field) = next.map_err(|e| body_error(&e, cap))? else {
            break;
        };
        let name = field.name().unwrap_or_default().to_string();
        let (role, field_name, limit, types): (FileRole, &'static str, u64, &[&str]) =
            match name.as_str() {
                "document_type" | "country" => {
                    let text = read_text(&mut field, idle, cap).await?;
                    match text {
                        Some(text) if name == "country" => form.country = Some(text),
                        Some(text) => form.document_type = Some(text),
                        None => form
                            .refuse(&name, "Ensure this field has no more than 1024 characters."),
                    }
                    continue;
                }
                RESUMABLE_FIELD => {
                    match read_text(&mut field, idle, cap).await? {
                        Some(id) => attach(&mut form, state, user, &id, dir).await?,
                        None => form.refuse(RESUMABLE_FIELD, "No such resumable upload."),
                    }
                    continue;
                }
                "front" => (
                    FileRole::Front,
                    "front",
                    limits.max_image_bytes,
                    &IMAGE_TYPES,
                ),
                "back" => (FileRole::Back, "back", limits.max_image_bytes, &IMAGE_TYPES),
                "selfie_video" => (
                    FileRole::Selfie,
                    "selfie_video",
                    limits.max_video_bytes,
                    &VIDEO_TYPES,
                ),
                _ => {
                    drain(&mut field, idle, cap).await?;
                    continue;
                }
            };
        let declared = field.content_type().unwrap_or_default().to_string();
        if !declared.is_empty() && !types.contains(&declared.as_str()) {
            form.refuse(
                field_name,
                format!("Unsupported content type '{declared}'."),
            );
            drain(&mut field, idle, cap).await?;
            continue;
        }
        // A part sent twice (a video also as a resumable upload): the last one counts.
        drop_part(&mut form, role, dir).await;
        let file = format!("{}.{}", role.as_str(), extension(&declared, field_name));
        let path = dir.join(&file);
        if write_part(&mut field, &path, limit, idle, cap).await? {
            form.parts.push(Part {
                role,
                field: field_name,
                file,
            });
        } else {
            let _ = tokio::fs::remove_file(&path).await;
            form.refuse(
                field_name,
                format!("File too large (max {} MiB).", limit / (1024 * 1024)),
            );
        }
    }
    Ok(form)
}

/// The part of `role` read so far, if any, is forgotten.
async fn drop_part(form: &mut Form, role: FileRole, dir: &Path) {
    if let Some(at) = form.parts.iter().position(|p| p.role == role) {
        let old = form.parts.remove(at);
        let _ = tokio::fs::remove_file(dir.join(old.file)).await;
        if old.field == RESUMABLE_FIELD {
            form.resumable = None;
        }
    }
}

/// Links the finished resumable upload `id` of `user` into `dir` as the video (the upload
/// itself stays until the card exists, so a refused form can name it again).
async fn attach(
    form: &mut Form,
    state: &HttpState,
    user: &str,
    id: &str,
    dir: &Path,
) -> Result<(), ApiError> {
    let finished = match resumable::finished(state, user, id) {
        Ok(finished) => finished,
        Err(why) => {
            form.refuse(RESUMABLE_FIELD, why);
            return Ok(());
        }
    };
    drop_part(form, FileRole::Selfie, dir).await;
    let declared = finished.filetype.as_deref().unwrap_or("");
    let file = format!(
        "{}.{}",
        FileRole::Selfie.as_str(),
        extension(declared, "selfie_video")
    );
    let to = dir.join(&file);
    if tokio::fs::hard_link(&finished.data, &to).await.is_err() {
        tokio::fs::copy(&finished.data, &to)
            .await
            .map_err(|e| ApiError::Internal(format!("copying a resumable upload: {e}")))?;
    }
    form.parts.push(Part {
        role: FileRole::Selfie,
        field: RESUMABLE_FIELD,
        file,
    });
    form.resumable = Some(finished.data);
    Ok(())
}

/// The form's own rules, before any file is looked into: the document type, the country's
/// length, the parts the document type needs.
fn check_form(mut form: Form) -> Result<(DocumentType, Option<String>, Form), ApiError> {
    let document_type = match form.document_type.as_deref().map(str::trim) {
        None | Some("") => Some(DocumentType::NationalId),
        Some(text) => {
            let found = DocumentType::ALL
                .iter()
                .copied()
                .find(|t| t.as_str() == text);
            if found.is_none() {
                form.refuse(
                    "document_type",
                    format!("\"{text}\" is not a valid choice."),
                );
            }
            found
        }
    };
    let country = form
        .country
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if country.as_ref().is_some_and(|c| c.chars().count() > 3) {
        form.refuse(
            "country",
            "Ensure this field has no more than 3 characters.",
        );
    }
    let has = |form: &Form, field: &str| {
        form.parts.iter().any(|p| p.field == field) || form.errors.contains_key(field)
    };
    if !has(&form, "front") {
        form.refuse("front", "No file was submitted.");
    }
    if let Some(t) = document_type
        && t.requires_back()
        && !has(&form, "back")
    {
        form.refuse(
            "back",
            format!("A back image is required for {} documents.", t.as_str()),
        );
    }
    match document_type {
        Some(t) if form.errors.is_empty() => Ok((t, country, form)),
        _ => Err(refused(form.errors)),
    }
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

/// Streams a file part to `path`; false (and nothing more written) once it passes `limit`,
/// its rest read and dropped.
async fn write_part(
    field: &mut Field<'_>,
    path: &Path,
    limit: u64,
    idle: Duration,
    cap: u64,
) -> Result<bool, ApiError> {
    let io = |e: std::io::Error| ApiError::Internal(format!("writing {}: {e}", path.display()));
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut written = 0u64;
    while let Some(chunk) = next_chunk(field, idle, cap).await? {
        written += chunk.len() as u64;
        if written > limit {
            drop(file);
            drain(field, idle, cap).await?;
            return Ok(false);
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    Ok(true)
}

/// A text part, `None` when it is longer than [`MAX_TEXT`].
async fn read_text(
    field: &mut Field<'_>,
    idle: Duration,
    cap: u64,
) -> Result<Option<String>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = next_chunk(field, idle, cap).await? {
        if bytes.len() + chunk.len() > MAX_TEXT {
            drain(field, idle, cap).await?;
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Reads a part to its end, dropping it.
async fn drain(field: &mut Field<'_>, idle: Duration, cap: u64) -> Result<(), ApiError> {
    while next_chunk(field, idle, cap).await?.is_some() {}
    Ok(())
}

async fn next_chunk(
    field: &mut Field<'_>,
    idle: Duration,
    cap: u64,
) -> Result<Option<axum::body::Bytes>, ApiError> {
    tokio::time::timeout(idle, field.chunk())
        .await
        .map_err(|_| timed_out(idle))?
        .map_err(|e| body_error(&e, cap))
}

/// The file extension a part is stored under, from its declared type.
fn extension(declared: &str, field: &str) -> &'static str {
    match declared {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "video/x-msvideo" => "avi",
        _ if field == "selfie_video" => "video",
        _ => "img",
    }
}

fn refused(errors: BTreeMap<String, Vec<String>>) -> ApiError {
    ApiError::Fields(
        errors
            .into_iter()
            .map(|(field, why)| (field, json!(why)))
            .collect(),
    )
}

fn too_large(cap: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "Request body is larger than {} MiB, the sum of the parts' limits.",
        cap / (1024 * 1024)
    ))
}

fn timed_out(idle: Duration) -> ApiError {
    ApiError::BadRequest(format!(
        "Nothing arrived for {} s; the upload was given up.",
        idle.as_secs()
    ))
}

fn body_error(e: &MultipartError, cap: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(cap)
    } else {
        ApiError::BadRequest(format!("Multipart form parse error - {e}"))
    }
}
