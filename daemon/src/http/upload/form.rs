//! The upload's multipart form: each part read as it streams in (a file part to the staging
//! folder under its own limit, the rest of an oversized part read and dropped; a text part
//! bounded), a resumable upload linked in as the video, and the form's own rules checked
//! before any file is looked into. Errors come out keyed by the part, as DRF's would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use idreview_protocol::{DocumentType, FileRole};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::super::resumable;
use super::super::{ApiError, HttpState};

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
const RESUMABLE_FIELD: &str = "selfie_video_upload";

/// A form field's text is at most this long.
const MAX_TEXT: usize = 1024;

/// One file part as it arrived.
pub(super) struct Part {
    pub(super) role: FileRole,
    /// The part's name in the form, which keys its errors.
    pub(super) field: &'static str,
    pub(super) file: String,
}

/// What the form said.
#[derive(Default)]
pub(super) struct Form {
    pub(super) document_type: Option<String>,
    pub(super) country: Option<String>,
    pub(super) parts: Vec<Part>,
    pub(super) errors: BTreeMap<String, Vec<String>>,
    /// The resumable upload attached as the video, removed once the card exists.
    pub(super) resumable: Option<PathBuf>,
}

impl Form {
    fn refuse(&mut self, field: &str, why: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(why.into());
    }
}

/// Reads every part: texts into the form, files into `dir` under their limits, a finished
/// resumable upload named by `selfie_video_upload` linked in as the video.
pub(super) async fn read_form(
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
pub(super) fn check_form(mut form: Form) -> Result<(DocumentType, Option<String>, Form), ApiError> {
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

pub(super) fn refused(errors: BTreeMap<String, Vec<String>>) -> ApiError {
    ApiError::Fields(
        errors
            .into_iter()
            .map(|(field, why)| (field, json!(why)))
            .collect(),
    )
}

pub(super) fn too_large(cap: u64) -> ApiError {
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
