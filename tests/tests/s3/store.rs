//! The S3 object store on its own: single PUT and multipart uploads, SHA-256 checked by the
//! server, presigned URLs fetched over plain HTTP, per-file batch results, retries through an
//! outage, and aborted multipart uploads cleaned up.

use std::path::{Path, PathBuf};
use std::time::Duration;

use idreview_daemon::config::StorageConfig;
use idreview_daemon::objects::{ObjectError, ObjectStore, Upload};
use idreview_tests::s3::S3Server;
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

async fn store(config: StorageConfig) -> ObjectStore {
    ObjectStore::from_config(&config, PathBuf::from("unused"))
        .await
        .expect("S3 store")
}

/// Bytes that differ per `seed`, written to `dir/name`; answers the path and the hex SHA-256.
fn file(dir: &Path, name: &str, len: usize, seed: u8) -> (PathBuf, String, Vec<u8>) {
    let bytes: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, &bytes).expect("write file");
    (path, hex::encode(Sha256::digest(&bytes)), bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_exists_presign_and_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(&dir.path().join("s3")).await;
    let store = store(server.storage_config()).await;
    let (path, sha, bytes) = file(dir.path(), "front.jpg", 100_000, 1);
    let key = "users/alice/id-card/1/front.jpg";

    let stored = store.put_file(key, &path, &sha, None).await.expect("put");
    assert!(
        stored.etag.is_some_and(|e| !e.is_empty()),
        "S3 answers an ETag"
    );
    assert_eq!(
        std::fs::read(server.object_path(key)).expect("on disk"),
        bytes
    );
    assert_eq!(store.get(key).await.expect("get"), bytes);
    assert!(store.exists(key).await.expect("exists"));
    assert!(!store.exists("users/alice/nothing").await.expect("exists"));

    let url = store
        .presign(key, Duration::from_secs(60))
        .await
        .expect("presign");
    assert!(url.contains("X-Amz-Signature"), "{url}");
    let fetched = reqwest::get(&url).await.expect("GET presigned URL");
    assert!(fetched.status().is_success(), "{}", fetched.status());
    assert_eq!(fetched.bytes().await.expect("body").as_ref(), bytes);
    let tampered = url.replace("front.jpg", "back.jpg");
    let refused = reqwest::get(&tampered).await.expect("GET tampered URL");
    assert!(
        refused.status().is_client_error(),
        "a URL signed for one key does not open another"
    );

    store.delete(key).await.expect("delete");
    assert!(!store.exists(key).await.expect("exists"));
    store.delete(key).await.expect("deleting twice is fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_go_up_in_parallel_parts_and_bad_ones_are_aborted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(&dir.path().join("s3")).await;
    let store = store(StorageConfig {
        multipart_threshold: 5 * MIB as u64,
        part_size: 5 * MIB as u64,
        ..server.storage_config()
    })
    .await;
    let (path, sha, bytes) = file(dir.path(), "selfie.mp4", 12 * MIB + 123, 2);
    let key = "users/bob/selfie/2/selfie.mp4";
    let stored = store
        .put_file(key, &path, &sha, None)
        .await
        .expect("multipart");
    let etag = stored.etag.expect("etag");
    assert!(etag.ends_with("-3"), "a three-part upload's ETag: {etag}");
    assert_eq!(
        std::fs::read(server.object_path(key)).expect("object"),
        bytes
    );
    assert_eq!(server.unfinished_parts(), 0);

    // The content is not the validated one: the upload is refused and aborted.
    let (other, _, _) = file(dir.path(), "other.mp4", 6 * MIB, 3);
    let bad_key = "users/bob/selfie/2/other.mp4";
    let err = store
        .put_file(bad_key, &other, &sha, None)
        .await
        .expect_err("mismatch refused");
    assert!(matches!(err, ObjectError::Checksum { .. }), "{err}");
    assert!(!store.exists(bad_key).await.expect("exists"));
    assert_eq!(
        server.unfinished_parts(),
        0,
        "the aborted upload left no parts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_content_that_does_not_match_its_checksum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(&dir.path().join("s3")).await;
    let store = store(server.storage_config()).await;
    let (path, _, _) = file(dir.path(), "front.jpg", 50_000, 4);
    let wrong = hex::encode(Sha256::digest(b"something else"));
    let key = "users/carol/id-card/3/front.jpg";
    let err = store
        .put_file(key, &path, &wrong, None)
        .await
        .expect_err("refused");
    assert!(matches!(err, ObjectError::Checksum { .. }), "{err}");
    assert!(!err.is_transient(), "a bad digest is not retried");
    // (s3s-fs keeps the bytes it refused; real S3 stores nothing.)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_file_does_not_stop_the_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = S3Server::start(&dir.path().join("s3")).await;
    let store = store(server.storage_config()).await;
    let mut uploads = Vec::new();
    for n in 0..6u8 {
        let (path, sha, _) = file(dir.path(), &format!("doc{n}.pdf"), 20_000 + n as usize, n);
        uploads.push(Upload {
            key: format!("users/dave/documents/4/doc{n}.pdf"),
            path,
            sha256: sha,
            seen: None,
        });
    }
    uploads[3].sha256 = hex::encode(Sha256::digest(b"tampered"));
    uploads[5].path = dir.path().join("missing.pdf");
    let results = store.put_many(uploads, 4).await;
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.result.is_err())
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            "users/dave/documents/4/doc3.pdf",
            "users/dave/documents/4/doc5.pdf"
        ]
    );
    assert!(matches!(
        results[3].result,
        Err(ObjectError::Checksum { .. })
    ));
    assert!(matches!(results[5].result, Err(ObjectError::Io { .. })));
    let keys = server.keys();
    for n in [0, 1, 2, 4] {
        let key = format!("users/dave/documents/4/doc{n}.pdf");
        assert!(keys.contains(&key), "{key} landed: {keys:?}");
    }
    assert!(!keys.contains(&"users/dave/documents/4/doc5.pdf".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_retry_through_an_outage_and_land_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("s3");
    let mut server = S3Server::start(&root).await;
    let port = server.addr.port();
    let store = store(StorageConfig {
        max_attempts: 30,
        retry_min_ms: 50,
        retry_max_ms: 200,
        multipart_threshold: 5 * MIB as u64,
        part_size: 5 * MIB as u64,
        ..server.storage_config()
    })
    .await;
    let mut uploads = Vec::new();
    for n in 0..5u8 {
        let len = if n == 0 { 11 * MIB } else { 300_000 };
        let (path, sha, _) = file(dir.path(), &format!("f{n}"), len, n);
        uploads.push(Upload {
            key: format!("users/erin/documents/5/f{n}"),
            path,
            sha256: sha,
            seen: None,
        });
    }
    server.stop().await;
    let batch = tokio::spawn({
        let store = store.clone();
        let uploads = uploads.clone();
        async move { store.put_many(uploads, 3).await }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!batch.is_finished(), "uploads wait for the server");
    let server = S3Server::start_on(&root, port).await;
    let results = tokio::time::timeout(Duration::from_secs(30), batch)
        .await
        .expect("batch finishes once the server is back")
        .expect("batch task");
    for r in &results {
        assert!(r.result.is_ok(), "{}: {:?}", r.key, r.result);
    }
    let expected: Vec<String> = uploads.iter().map(|u| u.key.clone()).collect();
    assert_eq!(server.keys(), expected, "every file landed exactly once");
    assert_eq!(server.unfinished_parts(), 0);
}
