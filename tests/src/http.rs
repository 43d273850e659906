//! Harness for the HTTP API: a daemon with `[http] listen` on 127.0.0.1 port 0 (the manual
//! provider unless told otherwise), tokens made over the local socket, a reqwest client, and
//! multipart bodies built by hand so that a test controls every part's name, file name and type.

use std::path::Path;

use idreview_protocol::Role;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use crate::Daemon;

/// A daemon serving the HTTP API.
pub struct HttpDaemon {
    pub daemon: Daemon,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub client: reqwest::Client,
}

impl HttpDaemon {
    /// Starts a daemon in `dir` with the HTTP API on a free port and the manual provider.
    pub async fn start(dir: &Path, env: &[(&str, &str)]) -> HttpDaemon {
        let mut all: Vec<(&str, &str)> = vec![
            ("IDREVIEW__HTTP__LISTEN", "127.0.0.1:0"),
            ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
        ];
        all.extend_from_slice(env);
        let daemon = Daemon::start_with(dir, &all).await;
        let addr = std::fs::read_to_string(dir.join("idreviewd.http-addr"))
            .expect("the daemon wrote idreviewd.http-addr");
        HttpDaemon {
            daemon,
            base: format!("http://{}", addr.trim()),
            client: reqwest::Client::new(),
        }
    }

    /// A fresh token made over the local socket (as the local admin).
    pub async fn token(&self, name: &str, role: Role, user: Option<&str>) -> String {
        self.daemon.token(name, role, user, None).await
    }

    /// A request to `/api/ocr/<path>` (or an absolute URL), with `token` if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/api/ocr/{path}", self.base)
        };
        let builder = self.client.request(method, url);
        match token {
            Some(t) => builder.header("Authorization", format!("Token {t}")),
            None => builder,
        }
    }

    /// GET, answering the status and the JSON body.
    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        json(self.request(Method::GET, path, Some(token)).send().await).await
    }

    /// A JSON body sent with `method`.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> (u16, Value) {
        json(
            self.request(method, path, Some(token))
                .json(body)
                .send()
                .await,
        )
        .await
    }

    /// A multipart upload.
    pub async fn upload(&self, token: &str, form: &Multipart) -> (u16, Value) {
        json(
            self.request(Method::POST, "documents/upload/", Some(token))
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={}", Multipart::BOUNDARY),
                )
                .body(form.body())
                .send()
                .await,
        )
        .await
    }
}

/// The status and JSON body of an answer; every answer must be JSON.
pub async fn json(sent: reqwest::Result<Response>) -> (u16, Value) {
    let response = sent.expect("HTTP request");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response.bytes().await.expect("body");
    assert!(
        kind.starts_with("application/json"),
        "status {status}: content type {kind:?}, body {}",
        String::from_utf8_lossy(&bytes)
    );
    let value = serde_json::from_slice(&bytes).expect("JSON body");
    (status, value)
}

/// A file part's file name and declared type.
type FileHeader = Option<(String, Option<String>)>;

/// A multipart/form-data body, part by part.
#[derive(Default, Clone)]
pub struct Multipart {
    parts: Vec<(String, FileHeader, Vec<u8>)>,
}

impl Multipart {
    pub const BOUNDARY: &'static str = "idreview-test-boundary-7MA4YWxkTrZu0gW";

    /// A text field.
    pub fn text(mut self, name: &str, value: &str) -> Multipart {
        self.parts
            .push((name.into(), None, value.as_bytes().to_vec()));
        self
    }

    /// A file part with its file name and declared type (`None`: no Content-Type line).
    pub fn file(mut self, name: &str, file: &str, kind: Option<&str>, bytes: Vec<u8>) -> Multipart {
        self.parts.push((
            name.into(),
            Some((file.into(), kind.map(str::to_string))),
            bytes,
        ));
        self
    }

    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, bytes) in &self.parts {
            out.extend_from_slice(format!("--{}\r\n", Self::BOUNDARY).as_bytes());
            match file {
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
                Some((file, kind)) => {
                    out.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n"
                        )
                        .as_bytes(),
                    );
                    if let Some(kind) = kind {
                        out.extend_from_slice(format!("Content-Type: {kind}\r\n").as_bytes());
                    }
                    out.extend_from_slice(b"\r\n");
                }
            }
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{}--\r\n", Self::BOUNDARY).as_bytes());
        out
    }
}

/// A small MP4 (ftyp, moov, mdat boxes) that passes the container check.
pub fn mp4() -> Vec<u8> {
    mp4_with(&[7; 500])
}

/// An MP4 that passes the container check with `media` in its `mdat` box.
pub fn mp4_with(media: &[u8]) -> Vec<u8> {
    let boxed = |kind: &[u8], body: &[u8]| {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    };
    let mut data = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2");
    data.extend(boxed(b"moov", &boxed(b"mvhd", &[0; 100])));
    data.extend(boxed(b"mdat", media));
    data
}

/// A good national-ID upload: front and back JPEGs of 1000x700, a selfie video, country DE.
pub fn good_upload() -> Multipart {
    let image = crate::fixtures::jpeg(1000, 700);
    Multipart::default()
        .text("document_type", "national_id")
        .text("country", "DE")
        .file("front", "front.jpg", Some("image/jpeg"), image.clone())
        .file("back", "back.jpg", Some("image/jpeg"), image)
        .file("selfie_video", "selfie.mp4", Some("video/mp4"), mp4())
}
