//! A TCP proxy that makes a local server feel remote, for the upload benchmark: each request
//! waits a fixed latency before it is forwarded, and every connection is capped at a byte rate
//! in each direction.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A running proxy; stops accepting when dropped.
pub struct Throttle {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Throttle {
    /// Forwards `127.0.0.1:<free port>` to `upstream` with `latency` before each request and
    /// at most `bytes_per_sec` per connection and direction.
    pub async fn start(upstream: SocketAddr, latency: Duration, bytes_per_sec: u64) -> Throttle {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe_pair(client, server, latency, bytes_per_sec).await;
                    }
                });
            }
        });
        Throttle { addr, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe_pair(client: TcpStream, server: TcpStream, latency: Duration, rate: u64) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // Bytes the server has answered so far: a client write after new answer bytes (or the
    // first one) starts a new request, which pays the latency.
    let answered = Arc::new(AtomicU64::new(0));
    let up = pump(
        client_read,
        server_write,
        rate,
        Side::Request(latency, answered.clone()),
    );
    let down = pump(server_read, client_write, rate, Side::Answer(answered));
    tokio::join!(up, down);
}

/// Which way a pump copies.
enum Side {
    /// Client to server: the latency before each request, and the server's answer count.
    Request(Duration, Arc<AtomicU64>),
    /// Server to client: counts the answer bytes.
    Answer(Arc<AtomicU64>),
}

/// Copies `from` to `to` at most at `rate` bytes/s; on the request side, sleeps before the
/// first bytes of each request.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, rate: u64, side: Side) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut next_free = Instant::now();
    let mut seen_answer = u64::MAX;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match &side {
            Side::Request(latency, answered) => {
                let now_answered = answered.load(Ordering::Acquire);
                if now_answered != seen_answer {
                    seen_answer = now_answered;
                    tokio::time::sleep(*latency).await;
                    next_free = next_free.max(Instant::now());
                }
            }
            Side::Answer(answered) => {
                answered.fetch_add(n as u64, Ordering::AcqRel);
            }
        }
        // A little slack lets the pace catch up on timer overshoot without allowing bursts.
        let floor = Instant::now() - Duration::from_millis(20);
        next_free = next_free.max(floor) + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(next_free).await;
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
