//! Resumable video uploads, the tus 1.0 core protocol with its `creation` extension, under
//! `uploads/`: `POST` with `Upload-Length` makes an upload (201, `Location`), `HEAD` says how
//! much arrived (`Upload-Offset`), `PATCH` with `application/offset+octet-stream` appends from
//! that offset, `OPTIONS` tells the version and the limit. A phone on a bad line resumes where
//! the server's copy ends instead of starting over. Every request but `OPTIONS` carries the
//! user's token, as the upload does; an upload is its user's alone and at most
//! `[validation] max_video_bytes` long.
//!
//! Each upload is a folder of `DATA/http-resumable`: `data` (the bytes so far, whose length is
//! the offset) and `meta.json`. It survives restarts, is removed once attached to a document
//! upload (`selfie_video_upload`, see `upload.rs`), and expires after `[http]
//! resumable_ttl_hours`. Bytes go to disk as they arrive, so a broken connection keeps what
//! came.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::auth::Caller;
use super::card_json::base_url;
use super::{ApiError, HttpState};

/// The protocol version spoken, in `Tus-Resumable` and `Tus-Version`.
pub const TUS_VERSION: &str = "1.0.0";
/// Most unfinished uploads one user may hold at a time.
const MAX_OPEN_PER_USER: usize = 4;
/// How long a PATCH waits for an earlier PATCH of the same upload (one whose connection
/// broke and whose server side has not noticed yet) to let go.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The tus headers, for CORS.
pub const HEADERS: [&str; 7] = [
    "tus-resumable",
    "tus-version",
    "tus-max-size",
    "tus-extension",
    "upload-length",
    "upload-offset",
    "upload-metadata",
];

/// What is known of an upload besides its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    user: String,
    length: u64,
    /// The `filetype` of `Upload-Metadata`, if sent.
    filetype: Option<String>,
}

/// The uploads' folder, and one lock per upload being written.
#[derive(Default)]
pub struct Resumables {
    /// Held by the PATCH writing an upload, so that two never append at once.
    writing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A finished upload, ready to be attached as a document upload's video.
pub struct Finished {
    pub data: PathBuf,
    pub filetype: Option<String>,
}

/// `DATA/http-resumable`.
pub fn root(config: &crate::config::Config) -> PathBuf {
    config.data_dir().join("http-resumable")
}

/// An id names a folder: hex only, so it can never climb out of the root.
fn folder(state: &HttpState, id: &str) -> Option<PathBuf> {
    let ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| root(&state.config).join(id))
}

fn read_meta(dir: &Path) -> Option<Meta> {
    let text = std::fs::read(dir.join("meta.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The upload `id` of `user`: its folder, what it is and how many bytes arrived; `None` for
/// an unknown id or another user's upload (both 404: nobody learns another's ids).
fn find(state: &HttpState, user: &str, id: &str) -> Option<(PathBuf, Meta, u64)> {
    let dir = folder(state, id)?;
    let meta = read_meta(&dir).filter(|m| m.user == user)?;
    let offset = std::fs::metadata(dir.join("data")).map(|m| m.len()).ok()?;
    Some((dir, meta, offset))
}

/// The complete upload `id` (or its `Location` URL) of `user`, for attaching; why not
/// otherwise.
pub fn finished(state: &HttpState, user: &str, id: &str) -> Result<Finished, String> {
    let id = id.trim().trim_end_matches('/');
    let id = id.rsplit('/').next().unwrap_or(id);
    let Some((dir, meta, offset)) = find(state, user, id) else {
        return Err("No such resumable upload.".into());
    };
    if offset < meta.length {
        return Err(format!(
            "The resumable upload is not complete ({offset} of {} bytes).",
            meta.length
        ));
    }
    Ok(Finished {
        data: dir.join("data"),
        filetype: meta.filetype,
    })
}

/// Removes an attached upload.
pub fn remove(state: &HttpState, data: &Path) {
    if let Some(dir) = data.parent()
        && dir.parent() == Some(root(&state.config).as_path())
    {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes expired uploads; counts `user`'s that remain.
fn sweep(state: &HttpState, user: &str) -> usize {
    let ttl = Duration::from_secs(state.config.http.resumable_ttl_hours.max(1) * 3600);
    let Ok(entries) = std::fs::read_dir(root(&state.config)) else {
        return 0;
    };
    let mut mine = 0;
    for entry in entries.flatten() {
        let dir = entry.path();
        let age = std::fs::metadata(dir.join("meta.json"))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| SystemTime::now().duration_since(at).ok());
        if age.is_none_or(|age| age > ttl) {
            let _ = std::fs::remove_dir_all(&dir);
        } else if read_meta(&dir).is_some_and(|m| m.user == user) {
            mine += 1;
        }
    }
    mine
}

/// Headers every tus answer carries.
fn tus(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The 412 for a request without `Tus-Resumable: 1.0.0` (it speaks another version).
fn wrong_version(headers: &HeaderMap) -> Option<Response> {
    if header_text(headers, "tus-resumable") == Some(TUS_VERSION) {
        return None;
    }
    let mut response = (
        StatusCode::PRECONDITION_FAILED,
        Json(json!({"detail": "Tus-Resumable: 1.0.0 is required."})),
    )
        .into_response();
    tus(&mut response);
    response.headers_mut().insert(
        HeaderName::from_static("tus-version"),
        HeaderValue::from_static(TUS_VERSION),
    );
    Some(response)
}

/// An error, with the tus headers.
fn fail(e: ApiError) -> Response {
    let mut response = e.into_response();
    tus(&mut response);
    response
}

/// `OPTIONS uploads/`: the version, the extension and the size limit.
#[utoipa::path(
    options,
    path = "/api/ocr/uploads/",
    security(()),
    responses((status = 204, description = "Tus-Version, Tus-Extension: creation, Tus-Max-Size"))
)]
pub async fn options(State(state): State<HttpState>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    tus(&mut response);
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("tus-version"),
        HeaderValue::from_static(TUS_VERSION),
    );
    headers.insert(
        HeaderName::from_static("tus-extension"),
        HeaderValue::from_static("creation"),
    );
    headers.insert(
        HeaderName::from_static("tus-max-size"),
        HeaderValue::from(state.config.validation.max_video_bytes),
    );
    response
}

/// The `filetype` of `Upload-Metadata` (`key base64,key base64`).
fn filetype(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(text) = header_text(headers, "upload-metadata") else {
        return Ok(None);
    };
    for pair in text.split(',') {
        let mut words = pair.split_whitespace();
        if words.next() != Some("filetype") {
            continue;
        }
        let value = words.next().unwrap_or("");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::field("Upload-Metadata", "filetype is not base64 of a text.")
            })?;
        return Ok(Some(decoded));
    }
    Ok(None)
}

/// `POST uploads/` with `Upload-Length`: 201 with the new upload's `Location`.
#[utoipa::path(
    post,
    path = "/api/ocr/uploads/",
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "The video's size; at most [validation] max_video_bytes"),
        ("Upload-Metadata" = Option<String>, Header, description = "tus metadata; `filetype` (base64) is checked against the video types"),
    ),
    responses(
        (status = 201, description = "Created; `Location` is the upload's URL"),
        (status = 400, body = super::openapi::FieldErrors),
        (status = 412, description = "Not Tus-Resumable: 1.0.0", body = super::openapi::Detail),
        (status = 413, description = "Over the video limit", body = super::openapi::Detail),
    )
)]
pub async fn create(
    State(state): State<HttpState>,
    caller: Caller,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = wrong_version(&headers) {
        return response;
    }
    create_upload(&state, &caller, &headers)
        .await
        .unwrap_or_else(fail)
}

async fn create_upload(
    state: &HttpState,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let user = caller.user()?.to_string();
    let max = state.config.validation.max_video_bytes;
    let length: u64 = header_text(headers, "upload-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::field("Upload-Length", "A byte count is required."))?;
    if length == 0 {
        return Err(ApiError::field("Upload-Length", "The video is empty."));
    }
    if length > max {
        return Err(ApiError::TooLarge(format!(
            "Upload-Length is over the video limit of {} MiB.",
            max / (1024 * 1024)
        )));
    }
    let filetype = filetype(headers)?;
    if let Some(t) = &filetype
        && !super::upload::VIDEO_TYPES.contains(&t.as_str())
    {
        return Err(ApiError::field(
            "Upload-Metadata",
            format!("Unsupported content type '{t}'."),
        ));
    }
    let open = tokio::task::spawn_blocking({
        let (state, user) = (state.clone(), user.clone());
        move || sweep(&state, &user)
    })
    .await
    .unwrap_or(0);
    if open >= MAX_OPEN_PER_USER {
        return Err(ApiError::Conflict(format!(
            "{open} unfinished uploads; finish or attach one first."
        )));
    }
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = hex::encode(id);
    let dir = root(&state.config).join(&id);
    let io = |e: std::io::Error| ApiError::Internal(format!("creating an upload: {e}"));
    tokio::fs::create_dir_all(&dir).await.map_err(io)?;
    tokio::fs::File::create(dir.join("data"))
        .await
        .map_err(io)?;
    let meta = Meta {
        user,
        length,
        filetype,
    };
    let text = serde_json::to_vec(&meta).map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::fs::write(dir.join("meta.json"), text)
        .await
        .map_err(io)?;
    let location = format!("{}/api/ocr/uploads/{id}/", base_url(state, headers));
    let body = json!({"id": id, "location": location, "upload_length": length, "upload_offset": 0});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    tus(&mut response);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `Upload-Offset` and `Upload-Length` of an upload.
fn offsets(response: &mut Response, offset: u64, length: u64) {
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("upload-offset"),
        HeaderValue::from(offset),
    );
    headers.insert(
        HeaderName::from_static("upload-length"),
        HeaderValue::from(length),
    );
}

/// `HEAD uploads/{id}/`: how many bytes arrived.
#[utoipa::path(
    head,
    path = "/api/ocr/uploads/{id}/",
    params(("id" = String, Path), ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 200, description = "Upload-Offset: bytes arrived; Upload-Length"),
        (status = 404, description = "Unknown, expired, attached or another user's"),
    )
)]
pub async fn head(
    State(state): State<HttpState>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = wrong_version(&headers) {
        return response;
    }
    let user = match caller.user() {
        Ok(user) => user,
        Err(e) => return fail(e),
    };
    match find(&state, user, &id) {
        Some((_, meta, offset)) => {
            let mut response = StatusCode::OK.into_response();
            tus(&mut response);
            offsets(&mut response, offset, meta.length);
            response
        }
        None => fail(ApiError::not_found()),
    }
}

/// `PATCH uploads/{id}/`: appends the body at `Upload-Offset`; 204 with the new offset. A body
/// that breaks off keeps what arrived.
#[utoipa::path(
    patch,
    path = "/api/ocr/uploads/{id}/",
    params(
        ("id" = String, Path),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where this body starts: the offset HEAD answered"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Upload-Offset: the new offset"),
        (status = 404, body = super::openapi::Detail),
        (status = 409, description = "Upload-Offset is not where the upload ends", body = super::openapi::Detail),
        (status = 413, description = "Past Upload-Length", body = super::openapi::Detail),
        (status = 415, description = "Not application/offset+octet-stream", body = super::openapi::Detail),
    )
)]
pub async fn patch(
    State(state): State<HttpState>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    request: Request,
) -> Response {
    if let Some(response) = wrong_version(request.headers()) {
        return response;
    }
    append(&state, &caller, &id, request)
        .await
        .unwrap_or_else(fail)
}

async fn append(
    state: &HttpState,
    caller: &Caller,
    id: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let user = caller.user()?;
    let headers = request.headers();
    if header_text(headers, "content-type") != Some("application/offset+octet-stream") {
        return Err(ApiError::UnsupportedMediaType(
            "Content-Type: application/offset+octet-stream is required.".into(),
        ));
    }
    let claimed: u64 = header_text(headers, "upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::field("Upload-Offset", "A byte offset is required."))?;
    find(state, user, id).ok_or_else(ApiError::not_found)?;
    let lock = {
        let mut writing = state
            .resumables
            .writing
            .lock()
            .map_err(|_| ApiError::Internal("the upload locks are poisoned".into()))?;
        writing.entry(id.to_string()).or_default().clone()
    };
    let _writing = tokio::time::timeout(LOCK_WAIT, lock.lock())
        .await
        .map_err(|_| ApiError::Conflict("Another request is writing this upload.".into()))?;
    let (dir, meta, offset) = find(state, user, id).ok_or_else(ApiError::not_found)?;
    if claimed != offset {
        return Err(ApiError::Conflict(format!(
            "Upload-Offset is {claimed}, but {offset} bytes have arrived; resume from there."
        )));
    }
    let path = dir.join("data");
    let io = |e: std::io::Error| ApiError::Internal(format!("writing {}: {e}", path.display()));
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .await
        .map_err(io)?;
    let mut body: Body = request.into_body();
    let idle = state.idle();
    let mut written = offset;
    let mut broke = None;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                broke = Some(e.to_string());
                break;
            }
            Err(_) => {
                broke = Some(format!("nothing arrived for {} s", idle.as_secs()));
                break;
            }
        };
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        if written + chunk.len() as u64 > meta.length {
            file.flush().await.map_err(io)?;
            return Err(ApiError::TooLarge(format!(
                "The body goes past Upload-Length ({} bytes); the first {written} are kept.",
                meta.length
            )));
        }
        file.write_all(chunk).await.map_err(io)?;
        written += chunk.len() as u64;
    }
    file.flush().await.map_err(io)?;
    file.sync_data().await.map_err(io)?;
    if let Some(why) = broke {
        tracing::info!(upload = %id, offset = written, reason = %why, "a resumable upload broke off; its bytes so far are kept");
        return Err(ApiError::BadRequest(format!(
            "The body broke off ({why}); {written} bytes are kept, resume from there."
        )));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    tus(&mut response);
    offsets(&mut response, written, meta.length);
    Ok(response)
}
