//! The HTTP API's rows, measured as the seed stack's own benchmark measures Django
//! (`../shared/peer/bench`): the admin list, search and low-confidence page read serially over
//! one keep-alive connection after a warm-up (p50, p99 and the serial rate), then by 4 clients
//! with a connection each (throughput); uploads of front + back JPEGs by 4 clients, each upload
//! a distinct user with its own token, after 8 serial warm-up uploads; a bulk approval over
//! the endpoint. The client is reqwest over HTTP/1.1 on loopback, on the same machine.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use idreview_protocol::transport::context_with_timeout;
use idreview_protocol::{CardFilter, IdReviewClient, ListQuery, Role};
use idreview_tests::Daemon;
use idreview_tests::http::Multipart;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::{ms, percentile};

/// The seed bench's list query (`bench_http.py`, `list_filter_sort`), word for word.
const LIST: &str =
    "admin/id-cards/?status=needs_review&document_type=passport&ordering=-created_at&page=1";
/// A case-insensitive substring, as the seed's `search` is (its bench searches `SMITH`, which
/// 1% of its cards hold; `eriks` is in 1 of 8 surnames of `idreviewd fill`, as in the RPC row).
const SEARCH: &str = "admin/id-cards/?search=eriks";
const LOW: &str = "admin/id-cards/low-confidence/";

/// Requests per read row: warm-up and serial, then spread over the concurrent clients.
const WARMUP: usize = 200;
const SERIAL: usize = 2000;
const PARALLEL: usize = 2000;
/// Concurrent clients, as the seed bench's threads.
const CLIENTS: usize = 4;
/// Serial uploads before the timed ones (the seed bench's `--warmup`).
const UPLOAD_WARMUP: usize = 8;
/// Ids one bulk decision may name (the API's `MAX_BULK_IDS`; the seed takes 10,000 in one).
const BULK_PER_CALL: usize = 1000;

/// One read row.
pub struct Reads {
    /// `count` of the first answer.
    count: u64,
    /// Sorted round trips of the serial run.
    serial: Vec<Duration>,
    serial_rate: f64,
    parallel_rate: f64,
}

/// The uploads row.
pub struct Uploads {
    n: usize,
    rate: f64,
    latencies: Vec<Duration>,
    bytes: usize,
}

/// Every HTTP row of one run.
pub struct Rows {
    list: Reads,
    search: Reads,
    low: Reads,
    uploads: Uploads,
    bulk_n: usize,
    bulk_calls: usize,
    bulk: Duration,
    rss_after: f64,
}

/// A client that keeps its one connection open between requests.
fn keep_alive() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .build()
        .expect("HTTP client")
}

/// GET `url`; the answer must be 200. Times what the seed's `get` times: the request and the
/// whole body read.
async fn get(client: &reqwest::Client, url: &str, auth: &str) -> Bytes {
    let response = client
        .get(url)
        .header(AUTHORIZATION, auth)
        .send()
        .await
        .expect("HTTP GET");
    let status = response.status();
    let body = response.bytes().await.expect("HTTP body");
    assert!(
        status == 200,
        "GET {url}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    body
}

/// Runs `total` jobs on `CLIENTS` clients at once, each with its own connection; answers the
/// wall time and every job's latency, sorted.
async fn parallel<F, Fut>(total: usize, job: F) -> (Duration, Vec<Duration>)
where
    F: Fn(reqwest::Client, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (next, job) = (next.clone(), job.clone());
            tokio::spawn(async move {
                let client = keep_alive();
                let mut times = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return times;
                    }
                    let t = Instant::now();
                    job(client.clone(), i).await;
                    times.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut times = Vec::with_capacity(total);
    for worker in workers {
        times.extend(worker.await.expect("client task"));
    }
    let wall = started.elapsed();
    times.sort();
    (wall, times)
}

/// A read row: warm-up, the serial run on one connection, then the clients at once.
async fn reads(base: &str, path: &str, auth: &str) -> Reads {
    let url = format!("{base}/api/ocr/{path}");
    let client = keep_alive();
    let first: Value =
        serde_json::from_slice(&get(&client, &url, auth).await).expect("a JSON page");
    for _ in 1..WARMUP {
        get(&client, &url, auth).await;
    }
    let mut serial = Vec::with_capacity(SERIAL);
    let started = Instant::now();
    for _ in 0..SERIAL {
        let t = Instant::now();
        get(&client, &url, auth).await;
        serial.push(t.elapsed());
    }
    let serial_rate = SERIAL as f64 / started.elapsed().as_secs_f64();
    serial.sort();
    let (url, auth_owned) = (Arc::new(url), Arc::new(auth.to_string()));
    let (wall, _) = parallel(PARALLEL, move |client, _| {
        let (url, auth) = (url.clone(), auth_owned.clone());
        async move {
            get(&client, &url, &auth).await;
        }
    })
    .await;
    Reads {
        count: first["count"].as_u64().expect("count"),
        serial,
        serial_rate,
        parallel_rate: PARALLEL as f64 / wall.as_secs_f64(),
    }
}

/// `n` timed uploads (after the warm-up), each by its own user, 4 clients at once.
async fn uploads(base: &str, daemon: &Daemon, n: usize) -> Uploads {
    let mut auths = Vec::with_capacity(UPLOAD_WARMUP + n);
    for i in 0..UPLOAD_WARMUP + n {
        let user = format!("http-upload-{i:05}");
        let key = daemon
            .token(&user, Role::Submitter, Some(&user), None)
            .await;
        auths.push(format!("Token {key}"));
    }
    let form = Multipart::default()
        .text("document_type", "passport")
        .text("country", "GBR")
        .file(
            "front",
            "front.jpg",
            Some("image/jpeg"),
            crate::heavy_jpeg(1),
        )
        .file("back", "back.jpg", Some("image/jpeg"), crate::heavy_jpeg(2));
    let body = Bytes::from(form.body());
    let bytes = body.len();
    let url = Arc::new(format!("{base}/api/ocr/documents/upload/"));
    let post = move |client: reqwest::Client, url: Arc<String>, auth: String, body: Bytes| async move {
        let response = client
            .post(url.as_str())
            .header(AUTHORIZATION, auth)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={}", Multipart::BOUNDARY),
            )
            .body(body)
            .send()
            .await
            .expect("HTTP upload");
        let status = response.status();
        let text = response.text().await.expect("HTTP body");
        assert!(status == 201, "upload: {status} {text}");
    };
    let client = keep_alive();
    for auth in &auths[..UPLOAD_WARMUP] {
        post(client.clone(), url.clone(), auth.clone(), body.clone()).await;
    }
    let auths = Arc::new(auths.split_off(UPLOAD_WARMUP));
    let (wall, latencies) = parallel(n, move |client, i| {
        post(client, url.clone(), auths[i].clone(), body.clone())
    })
    .await;
    Uploads {
        n,
        rate: n as f64 / wall.as_secs_f64(),
        latencies,
        bytes,
    }
}

/// Approves up to `n` cards waiting for review over the endpoint, `BULK_PER_CALL` ids a call
/// on one connection; answers how many, in how many calls, and the time of all of them.
async fn bulk(base: &str, rpc: &IdReviewClient, auth: &str, n: usize) -> (usize, usize, Duration) {
    let mut ids = Vec::new();
    let mut query = ListQuery {
        filter: CardFilter::parse("status:needs_review").expect("query"),
        limit: 1000,
        ..ListQuery::default()
    };
    while ids.len() < n {
        let page = rpc
            .list_cards(context_with_timeout(Duration::from_secs(10)), query.clone())
            .await
            .expect("rpc")
            .expect("list");
        if page.cards.is_empty() {
            break;
        }
        ids.extend(page.cards.iter().map(|c| c.id.0));
        query.offset += 1000;
    }
    ids.truncate(n);
    let url = format!("{base}/api/ocr/admin/id-cards/bulk-decision/");
    let client = keep_alive();
    let mut calls = 0;
    let mut updated = 0;
    let started = Instant::now();
    for chunk in ids.chunks(BULK_PER_CALL) {
        let body = json!({"ids": chunk, "decision": "approved", "reason": "bulk benchmark"});
        let response = client
            .post(&url)
            .header(AUTHORIZATION, auth)
            .json(&body)
            .send()
            .await
            .expect("HTTP bulk decision");
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON answer");
        assert!(status == 200, "bulk decision: {status} {answer}");
        updated += answer["updated"].as_u64().expect("updated") as usize;
        calls += 1;
    }
    let elapsed = started.elapsed();
    assert_eq!(
        updated,
        ids.len(),
        "every card of the bulk approval changed"
    );
    (ids.len(), calls, elapsed)
}

/// Measures every HTTP row against the API at `base` (`http://127.0.0.1:PORT`).
pub async fn measure(
    base: &str,
    daemon: &Daemon,
    rpc: &IdReviewClient,
    pid: u32,
    upload_n: usize,
    bulk_n: usize,
) -> Rows {
    let admin = daemon
        .token("http-bench-admin", Role::Admin, None, None)
        .await;
    let auth = format!("Token {admin}");
    let list = reads(base, LIST, &auth).await;
    let search = reads(base, SEARCH, &auth).await;
    let low = reads(base, LOW, &auth).await;
    let uploads = uploads(base, daemon, upload_n).await;
    let (bulk_n, bulk_calls, bulk) = bulk(base, rpc, &auth, bulk_n).await;
    Rows {
        list,
        search,
        low,
        uploads,
        bulk_n,
        bulk_calls,
        bulk,
        rss_after: crate::rss_mib(pid),
    }
}

impl Reads {
    fn result(&self) -> String {
        format!(
            "p50 {} p99 {}, {:.0} requests/s serial; {CLIENTS} clients {:.0} requests/s",
            ms(percentile(&self.serial, 0.5)),
            ms(percentile(&self.serial, 0.99)),
            self.serial_rate,
            self.parallel_rate
        )
    }
}

impl Rows {
    /// What the seed's benchmark also measures.
    pub fn beside_the_seed(&self) -> crate::peer::Http {
        crate::peer::Http {
            list_p99: percentile(&self.list.serial, 0.99),
            list_serial_rate: self.list.serial_rate,
            upload_rate: self.uploads.rate,
            bulk: self.bulk,
        }
    }

    /// The rows, in the benchmark table's columns (measure, result, target).
    pub fn print(&self) {
        println!(
            "| HTTP admin list `status=needs_review&document_type=passport&ordering=-created_at`, page of 20 (count {}), serial on one keep-alive connection | {} | p99 <= 2 ms, >= 10x the seed's serial rate |",
            self.list.count,
            self.list.result()
        );
        println!(
            "| HTTP search `eriks`, substring ({} hits) | {} | |",
            self.search.count,
            self.search.result()
        );
        println!(
            "| HTTP low-confidence page ({}) | {} | |",
            self.low.count,
            self.low.result()
        );
        let u = &self.uploads;
        println!(
            "| HTTP upload {} x multipart front + back 1600x1000 JPEG ({} KB), {CLIENTS} clients, a user each, 1/8-scale JPEG check, local store, manual | {:.0} submissions/s; p50 {} p99 {} | >= the seed's rate |",
            u.n,
            u.bytes / 1024,
            u.rate,
            ms(percentile(&u.latencies, 0.5)),
            ms(percentile(&u.latencies, 0.99))
        );
        println!(
            "| HTTP bulk approve {} cards, in calls of up to {BULK_PER_CALL} ids ({}) on one connection | {} | |",
            self.bulk_n,
            self.bulk_calls,
            ms(self.bulk)
        );
        println!(
            "| daemon resident memory after the HTTP rows | {:.0} MiB | |",
            self.rss_after
        );
    }
}
