//! What real clients need beyond the seed's endpoints, against the real daemon over real HTTP:
//! the OpenAPI document, the signed webhook when a card's extraction finishes, TLS beyond
//! loopback and the resumable (tus) video upload.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use hmac::{Hmac, Mac};
use idreview_protocol::Role;
use idreview_tests::http::{HttpDaemon, good_upload};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::mpsc;

/// Every path and method of the contract.
const CONTRACT: &[(&str, &str)] = &[
    ("/api/ocr/onboarding/stage/", "get"),
    ("/api/ocr/documents/upload/", "post"),
    ("/api/ocr/id-cards/{id}/confirm/", "put"),
    ("/api/ocr/id-cards/detail/", "get"),
    ("/api/ocr/admin/id-cards/", "get"),
    ("/api/ocr/admin/id-cards/{id}/", "get"),
    ("/api/ocr/admin/id-cards/low-confidence/", "get"),
    ("/api/ocr/admin/id-cards/bulk-decision/", "post"),
];

/// The keys of a schema's `properties`.
fn properties(doc: &Value, schema: &str) -> Vec<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema} has properties"))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_openapi_document_names_every_contract_path_and_the_cards_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    // Public, as DRF's schema view: no token.
    let answer = http
        .request(reqwest::Method::GET, "schema/", None)
        .send()
        .await
        .expect("GET schema/");
    assert_eq!(answer.status().as_u16(), 200);
    let doc: Value = answer.json().await.expect("a JSON document");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "OpenAPI 3: {}",
        doc["openapi"]
    );
    for (path, method) in CONTRACT {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is in the document");
        assert!(op["responses"].is_object(), "{method} {path} has responses");
    }
    let card = properties(&doc, "SeedCard");
    for key in [
        "id",
        "user",
        "document_type",
        "country",
        "front_image",
        "back_image",
        "selfie_video",
        "ocr_data",
        "confirmed_data",
        "first_name",
        "last_name",
        "document_number",
        "nationality",
        "date_of_birth",
        "expiry_date",
        "status",
        "verified",
        "decision",
        "decision_reason",
        "reviewed_by",
        "reviewed_at",
        "confidence",
        "card_confidence",
        "low_confidence_fields",
        "created_at",
        "updated_at",
    ] {
        assert!(
            card.contains(&key.to_string()),
            "SeedCard has {key}: {card:?}"
        );
    }
    let status = &doc["components"]["schemas"]["SeedCard"]["properties"]["status"]["enum"];
    assert_eq!(
        *status,
        serde_json::json!([
            "uploaded",
            "processing",
            "needs_review",
            "confirmed",
            "completed",
            "failed"
        ]),
        "the seed's statuses"
    );
    let page = properties(&doc, "Page");
    for key in ["count", "next", "previous", "results"] {
        assert!(page.contains(&key.to_string()), "Page has {key}: {page:?}");
    }
    let user = properties(&doc, "SeedUser");
    for key in ["id", "username", "email", "first_name", "last_name"] {
        assert!(user.contains(&key.to_string()), "SeedUser has {key}");
    }
    // The upload is described as the contract's multipart form.
    let upload = &doc["paths"]["/api/ocr/documents/upload/"]["post"];
    assert!(
        upload["requestBody"]["content"]["multipart/form-data"].is_object(),
        "the upload takes multipart/form-data: {upload}"
    );
    assert!(upload["responses"]["201"].is_object(), "201 on upload");
}

/// One POST a receiver got: its signature header, event header and body.
type Hook = (String, String, Bytes);

/// An axum server on a free loopback port that answers 200 to every POST on `/hooks` and
/// hands each to the returned channel.
async fn receiver() -> (
    String,
    mpsc::UnboundedReceiver<Hook>,
    tokio::task::JoinHandle<()>,
) {
    let (sent, got) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hooks",
        post(move |headers: HeaderMap, body: Bytes| {
            let sent = sent.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let _ = sent.send((
                    header("x-idreview-signature"),
                    header("x-idreview-event"),
                    body,
                ));
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got, task)
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_signed_webhook_tells_the_app_when_a_cards_extraction_finished() {
    const SECRET: &str = "push-secret";
    let (url, mut got, receiver) = receiver().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let misspelt = std::process::Command::new(idreview_tests::binary("idreviewd"))
        .arg("--data-dir")
        .arg(dir.path().join("misspelt"))
        .env("IDREVIEW__WEBHOOKS__URLS", format!("[\"{url}\"]"))
        .env("IDREVIEW__WEBHOOKS__EVENTS", "[\"card.extract\"]")
        .output()
        .expect("run idreviewd");
    assert!(
        !misspelt.status.success(),
        "an unknown event stops the start"
    );
    let err = String::from_utf8_lossy(&misspelt.stderr);
    assert!(
        err.contains("card.extract\"") && err.contains("card.extracted"),
        "{err}"
    );
    let urls = format!("[\"{url}\"]");
    let http = HttpDaemon::start(
        dir.path(),
        &[
            ("IDREVIEW__WEBHOOKS__URLS", &urls),
            ("IDREVIEW__WEBHOOKS__SECRET", SECRET),
            ("IDREVIEW__WEBHOOKS__EVENTS", "[\"card.extracted\"]"),
        ],
    )
    .await;
    let user = http.token("u7-app", Role::Submitter, Some("u7")).await;
    let (status, card) = http.upload(&user, &good_upload()).await;
    assert_eq!(status, 201, "{card}");

    let (signature, event, body) = tokio::time::timeout(Duration::from_secs(20), got.recv())
        .await
        .expect("a webhook within 20 s")
        .expect("the receiver runs");
    assert_eq!(
        signature,
        format!("sha256={}", hmac_hex(SECRET.as_bytes(), &body)),
        "signed with the secret over the exact body"
    );
    assert_ne!(
        signature,
        format!("sha256={}", hmac_hex(b"another secret", &body))
    );
    assert_eq!(event, "card.extracted");
    let json: Value = serde_json::from_slice(&body).expect("a JSON body");
    assert_eq!(json["event"], "card.extracted");
    assert_eq!(json["card_id"], card["id"], "{json}");
    assert_eq!(json["user_id"], "u7");
    assert!(json["seq"].is_u64(), "{json}");
    // What the app would read if it polled instead.
    let (_, now) = http.get("id-cards/detail/", &user).await;
    assert_eq!(json["seed_status"], now["status"], "{json} vs {now}");

    // Only the configured events go out: a decision sends nothing more.
    let admin = http.token("boss", Role::Admin, None).await;
    let decision =
        serde_json::json!({"ids": [card["id"]], "decision": "rejected", "reason": "blurred"});
    let (status, answer) = http
        .send_json(
            reqwest::Method::POST,
            "admin/id-cards/bulk-decision/",
            &admin,
            &decision,
        )
        .await;
    assert_eq!(
        (status, &answer["updated"]),
        (200, &serde_json::json!(1)),
        "{answer}"
    );
    let more = tokio::time::timeout(Duration::from_millis(1500), got.recv()).await;
    assert!(
        more.is_err(),
        "no decision webhook when only card.extracted is on: {more:?}"
    );
    receiver.abort();
}

#[tokio::test]
async fn beyond_loopback_the_api_speaks_tls_or_does_not_start() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(idreview_tests::binary("idreviewd"))
        .arg("--data-dir")
        .arg(root.path().join("refused"))
        .env("IDREVIEW__HTTP__LISTEN", "0.0.0.0:0")
        .output()
        .expect("run idreviewd");
    assert!(!out.status.success(), "no certificate: no start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("beyond loopback") && err.contains("gen-cert") && err.contains("tls_cert"),
        "the error says what to do: {err}"
    );

    let certs = idreview_tests::remote::gen_cert(&root.path().join("certs"));
    let cert = certs.dir.join("server.pem").to_string_lossy().into_owned();
    let key = certs.dir.join("server.key").to_string_lossy().into_owned();
    let data = root.path().join("data");
    let daemon = idreview_tests::Daemon::start_with(
        &data,
        &[
            ("IDREVIEW__HTTP__LISTEN", "0.0.0.0:0"),
            ("IDREVIEW__VERIFICATION__PROVIDER", "manual"),
            ("IDREVIEW__RPC__TLS_CERT", &cert),
            ("IDREVIEW__RPC__TLS_KEY", &key),
        ],
    )
    .await;
    let addr = std::fs::read_to_string(data.join("idreviewd.http-addr")).expect("http addr");
    let port = addr.trim().rsplit(':').next().expect("a port").to_string();
    let ca = std::fs::read(certs.ca()).expect("ca.pem");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("a PEM CA"))
        .build()
        .expect("a client trusting the CA");
    let http = HttpDaemon {
        daemon,
        base: format!("https://127.0.0.1:{port}"),
        client,
    };
    let user = http.token("tls-app", Role::Submitter, Some("t1")).await;
    let (status, card) = http.upload(&user, &good_upload()).await;
    assert_eq!(status, 201, "{card}");
    let front = card["front_image"].as_str().expect("a URL");
    assert!(
        front.starts_with("https://"),
        "file URLs are https: {front}"
    );
    let file = http
        .request(reqwest::Method::GET, front, Some(&user))
        .send()
        .await
        .expect("GET the front image over TLS");
    assert_eq!(file.status().as_u16(), 200);

    // Plain HTTP on the same port gets no API.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/ocr/schema/"))
        .send()
        .await;
    assert!(
        plain.as_ref().map_or(true, |r| !r.status().is_success()),
        "plain HTTP is not served: {plain:?}"
    );
    // A client that does not trust the CA is refused.
    let untrusted = reqwest::Client::new()
        .get(format!("https://127.0.0.1:{port}/api/ocr/schema/"))
        .send()
        .await;
    assert!(untrusted.is_err(), "an unknown CA fails the handshake");
}

/// An MP4 that passes the container check, `size` bytes of media in it.
fn video(size: usize) -> Vec<u8> {
    let media: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    idreview_tests::http::mp4_with(&media)
}

/// A tus request to `url` (the upload's `Location`) with the protocol's header.
fn tus(
    http: &HttpDaemon,
    method: reqwest::Method,
    url: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    http.request(method, url, Some(token))
        .header("Tus-Resumable", "1.0.0")
}

/// `HEAD`: the upload's offset.
async fn offset(http: &HttpDaemon, url: &str, token: &str) -> u64 {
    let answer = tus(http, reqwest::Method::HEAD, url, token)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(answer.status().as_u16(), 200);
    answer.headers()["upload-offset"]
        .to_str()
        .expect("text")
        .parse()
        .expect("a number")
}

/// Sends `video[from..to]` as one PATCH at `from`.
async fn patch(
    http: &HttpDaemon,
    url: &str,
    token: &str,
    video: &[u8],
    from: u64,
    to: usize,
) -> reqwest::Response {
    tus(http, reqwest::Method::PATCH, url, token)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", from.to_string())
        .body(video[from as usize..to].to_vec())
        .send()
        .await
        .expect("PATCH")
}

/// Resumes as a tus client does: asks where the server's copy ends and sends from there up to
/// `to`, asking again while an earlier, broken request still holds the upload.
async fn resume(http: &HttpDaemon, url: &str, token: &str, video: &[u8], to: usize) {
    for _ in 0..20 {
        let from = offset(http, url, token).await;
        let answer = patch(http, url, token, video, from, to).await;
        match answer.status().as_u16() {
            204 => {
                assert_eq!(answer.headers()["upload-offset"], to.to_string().as_str());
                return;
            }
            409 => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!("PATCH answered {other}"),
        }
    }
    panic!("the upload could not be resumed");
}

#[tokio::test]
async fn a_video_sent_in_resumable_chunks_survives_a_broken_line_and_attaches_to_an_upload() {
    use futures::StreamExt;
    use reqwest::Method;
    let dir = tempfile::tempdir().expect("tempdir");
    let http = HttpDaemon::start(dir.path(), &[]).await;
    let user = http.token("u9-app", Role::Submitter, Some("u9")).await;
    let other = http.token("u10-app", Role::Submitter, Some("u10")).await;
    let video = video(600_000);
    let third = video.len() / 3;

    let discovery = http
        .request(Method::OPTIONS, "uploads/", None)
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(discovery.headers()["tus-version"], "1.0.0");
    assert_eq!(
        discovery.headers()["tus-max-size"],
        (50u64 << 20).to_string().as_str()
    );

    let create = |length: usize| {
        http.request(Method::POST, "uploads/", Some(&user))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", length.to_string())
            // filename "selfie.mp4", filetype "video/mp4", base64 as tus has it.
            .header(
                "Upload-Metadata",
                "filename c2VsZmllLm1wNA==,filetype dmlkZW8vbXA0",
            )
    };
    let too_big = create(51 << 20).send().await.expect("POST");
    assert_eq!(too_big.status().as_u16(), 413, "over max_video_bytes");
    let no_version = http
        .request(Method::POST, "uploads/", Some(&user))
        .header("Upload-Length", "10")
        .send()
        .await
        .expect("POST");
    assert_eq!(no_version.status().as_u16(), 412);
    let created = create(video.len()).send().await.expect("POST");
    assert_eq!(created.status().as_u16(), 201);
    assert_eq!(created.headers()["tus-resumable"], "1.0.0");
    let url = created.headers()["location"]
        .to_str()
        .expect("Location")
        .to_string();
    assert!(
        url.starts_with(&http.base) && url.contains("/api/ocr/uploads/"),
        "{url}"
    );
    let id = created.json::<Value>().await.expect("JSON")["id"]
        .as_str()
        .expect("an id")
        .to_string();

    // Chunk 1.
    let first = patch(&http, &url, &user, &video, 0, third).await;
    assert_eq!(first.status().as_u16(), 204);
    assert_eq!(first.headers()["upload-offset"], third.to_string().as_str());
    // Nobody else sees it; a wrong offset is refused.
    let theirs = tus(&http, Method::HEAD, &url, &other)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(theirs.status().as_u16(), 404);
    let wrong = patch(&http, &url, &user, &video, 10, third).await;
    assert_eq!(wrong.status().as_u16(), 409);

    // Chunk 2 breaks off halfway: the line drops after half of it went out.
    let half = third / 2;
    let sent = bytes::Bytes::copy_from_slice(&video[third..third + half]);
    let broken = futures::stream::iter([Ok::<_, std::io::Error>(sent)]).chain(
        futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Err(std::io::Error::other("the line dropped"))
        }),
    );
    let dropped = tus(&http, Method::PATCH, &url, &user)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", third.to_string())
        .body(reqwest::Body::wrap_stream(broken))
        .send()
        .await;
    assert!(dropped.is_err(), "the request broke: {dropped:?}");
    // What arrived before the break is kept, and nothing more.
    let kept = idreview_tests::wait_for(Duration::from_secs(10), "the kept bytes", || {
        let (http, url, user) = (&http, &url, &user);
        async move {
            let at = offset(http, url, user).await;
            (at > third as u64).then_some(at)
        }
    })
    .await;
    assert!(kept <= (third + half) as u64, "kept {kept}");

    // The client resumes chunk 2 from the server's offset, then sends chunk 3.
    resume(&http, &url, &user, &video, 2 * third).await;
    resume(&http, &url, &user, &video, video.len()).await;
    assert_eq!(offset(&http, &url, &user).await, video.len() as u64);

    // The upload names it instead of a selfie_video part.
    let image = idreview_tests::fixtures::jpeg(1000, 700);
    let form = idreview_tests::http::Multipart::default()
        .text("document_type", "national_id")
        .file("front", "front.jpg", Some("image/jpeg"), image.clone())
        .file("back", "back.jpg", Some("image/jpeg"), image);
    let (status, body) = http
        .upload(&other, &form.clone().text("selfie_video_upload", &id))
        .await;
    assert_eq!(status, 400, "another user cannot attach it: {body}");
    assert!(body["selfie_video_upload"].is_array(), "{body}");
    let (status, card) = http
        .upload(&user, &form.text("selfie_video_upload", &id))
        .await;
    assert_eq!(status, 201, "{card}");
    let selfie = card["selfie_video"].as_str().expect("the video's URL");
    let stored = http
        .request(Method::GET, selfie, Some(&user))
        .send()
        .await
        .expect("GET the video")
        .bytes()
        .await
        .expect("its bytes");
    assert!(
        stored.as_ref() == video.as_slice(),
        "the stored video is the one sent"
    );
    // Attached, the resumable upload is gone.
    let gone = tus(&http, Method::HEAD, &url, &user)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(gone.status().as_u16(), 404);
}
