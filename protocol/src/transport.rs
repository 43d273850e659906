//! The bytes under the service: a handshake (the protocol versions each side speaks + bearer
//! token) on the raw stream, then length-delimited bincode frames with a size cap. Generic over
//! the stream so the Unix socket and TLS over TCP share every line. The handshake's own layout
//! only grows at its end, and its readers take the shorter layouts of protocol 10 and before
//! (see [`crate::version`]).

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tarpc::tokio_serde::formats::Bincode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use crate::version::{Mismatch, SPOKEN, Versions};
use crate::{IdReviewClient, Role};

/// Largest frame either end accepts: above tarpc's 8 MiB default so a page of 1000 cards or a
/// document image fits, small enough that a hostile peer cannot make us allocate much.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// Largest handshake message; a token and a name fit in far less.
const MAX_HELLO_BYTES: u32 = 16 * 1024;

/// How long a peer may take to say hello before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first message on every connection, client to server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The newest protocol version the client speaks.
    pub protocol_version: u32,
    /// Bearer token; local Unix-socket clients may leave it out and are known by their uid.
    pub token: Option<String>,
    /// Free text for logs, e.g. `idreview 0.1.0`.
    pub client: String,
    /// The oldest protocol version the client speaks (protocol 11 on; [`read_hello`] takes a
    /// hello of protocol 10 and before, which ends before it, as a range of one).
    pub oldest_protocol_version: u32,
}

impl Hello {
    /// This build's hello.
    pub fn new(token: Option<String>, client: String) -> Hello {
        Hello {
            protocol_version: SPOKEN.newest,
            token,
            client,
            oldest_protocol_version: SPOKEN.oldest,
        }
    }

    /// The versions the client speaks.
    pub fn speaks(&self) -> Versions {
        Versions {
            oldest: self.oldest_protocol_version,
            newest: self.protocol_version,
        }
    }
}

/// The server's answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HelloReply {
    Welcome(Welcome),
    Refused(String),
}

/// Who the server bound this connection to, and the protocol version it speaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub identity: String,
    pub role: Role,
    pub daemon_version: String,
    /// The version this connection speaks: the newest both sides speak.
    pub protocol_version: u32,
    /// Every version the daemon speaks (a daemon of protocol 10 and before: its one version).
    pub daemon_speaks: Versions,
}

impl Welcome {
    /// Refuses, with a message naming both sides, to use `what` (a method added in protocol
    /// `since`) on a connection that speaks an older version: a newer console connected to an
    /// older daemon calls only what the daemon has.
    pub fn require(&self, since: u32, what: &str) -> Result<(), String> {
        if self.protocol_version >= since {
            return Ok(());
        }
        Err(format!(
            "{what} needs protocol {since}; idreviewd {} speaks {}: upgrade idreviewd to use it",
            self.daemon_version, self.daemon_speaks
        ))
    }
}

/// The handshake's layouts of protocol 10 and before, read when the current ones do not fit.
mod legacy {
    use serde::Deserialize;

    use crate::Role;

    #[derive(Deserialize)]
    pub(super) struct Hello {
        pub protocol_version: u32,
        pub token: Option<String>,
        pub client: String,
    }

    #[derive(Deserialize)]
    pub(super) struct Welcome {
        pub identity: String,
        pub role: Role,
        pub daemon_version: String,
        pub protocol_version: u32,
    }

    #[derive(Deserialize)]
    pub(super) enum HelloReply {
        Welcome(Welcome),
        Refused(String),
    }
}

/// What can go wrong below the service.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot reach the daemon at {at}: {source}")]
    Connect { at: String, source: std::io::Error },
    #[error("connection failed during the handshake: {0}")]
    Io(#[from] std::io::Error),
    #[error("the peer sent a malformed handshake: {0}")]
    Malformed(String),
    #[error("the daemon refused the connection: {0}")]
    Refused(String),
    #[error("{0}")]
    Versions(#[from] Mismatch),
    #[error("the peer did not finish the handshake within {0:?}")]
    Timeout(Duration),
    #[error("TLS: {0}")]
    Tls(String),
}

/// Writes one handshake message: a big-endian u32 length, then bincode.
pub async fn write_message<S, T>(stream: &mut S, message: &T) -> Result<(), TransportError>
where
    S: AsyncWrite + Unpin,
    T: Serialize,
{
    let bytes =
        bincode::serialize(message).map_err(|e| TransportError::Malformed(e.to_string()))?;
    stream.write_u32(bytes.len() as u32).await?;
    stream.write_all(&bytes).await?;
    stream.flush().await?;
    Ok(())
}

/// Reads one handshake message, refusing anything over the handshake size cap.
pub async fn read_message<S, T>(stream: &mut S) -> Result<T, TransportError>
where
    S: AsyncRead + Unpin,
    T: for<'de> Deserialize<'de>,
{
    let buf = read_frame(stream).await?;
    decode(&buf)
}

/// One handshake message's bytes, under the cap.
async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, TransportError> {
    let len = stream.read_u32().await?;
    if len > MAX_HELLO_BYTES {
        return Err(TransportError::Malformed(format!(
            "handshake of {len} bytes is over the cap"
        )));
    }
    let mut buf = vec![0; len as usize];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

fn decode<T: for<'de> Deserialize<'de>>(buf: &[u8]) -> Result<T, TransportError> {
    bincode::deserialize(buf).map_err(|e| TransportError::Malformed(e.to_string()))
}

/// Reads a client's [`Hello`], of this protocol or of 10 and before (a range of one version).
pub async fn read_hello<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Hello, TransportError> {
    let buf = read_frame(stream).await?;
    decode::<Hello>(&buf).or_else(|e| match decode::<legacy::Hello>(&buf) {
        Ok(old) => Ok(Hello {
            protocol_version: old.protocol_version,
            token: old.token,
            client: old.client,
            oldest_protocol_version: old.protocol_version,
        }),
        Err(_) => Err(e),
    })
}

/// Reads a daemon's [`HelloReply`], of this protocol or of 10 and before.
pub async fn read_reply<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<HelloReply, TransportError> {
    let buf = read_frame(stream).await?;
    decode::<HelloReply>(&buf).or_else(|e| match decode::<legacy::HelloReply>(&buf) {
        Ok(legacy::HelloReply::Refused(why)) => Ok(HelloReply::Refused(why)),
        Ok(legacy::HelloReply::Welcome(old)) => Ok(HelloReply::Welcome(Welcome {
            identity: old.identity,
            role: old.role,
            daemon_version: old.daemon_version,
            protocol_version: old.protocol_version,
            daemon_speaks: Versions::only(old.protocol_version),
        })),
        Err(_) => Err(e),
    })
}

/// The client's half of the handshake.
pub async fn client_handshake<S>(
    stream: &mut S,
    token: Option<String>,
) -> Result<Welcome, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let hello = Hello::new(token, format!("idreview {}", env!("CARGO_PKG_VERSION")));
    let exchange = async {
        write_message(stream, &hello).await?;
        read_reply(stream).await
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange).await {
        Err(_) => Err(TransportError::Timeout(HANDSHAKE_TIMEOUT)),
        Ok(Err(e)) => Err(e),
        Ok(Ok(HelloReply::Refused(why))) => Err(TransportError::Refused(why)),
        // A daemon must not pick a version this console does not speak; one that did would
        // be misread, so the console stops here rather than on the first odd frame.
        Ok(Ok(HelloReply::Welcome(w))) if !SPOKEN.contains(w.protocol_version) => {
            Err(TransportError::Versions(Mismatch {
                daemon: w.daemon_speaks,
                console: SPOKEN,
            }))
        }
        Ok(Ok(HelloReply::Welcome(w))) => Ok(w),
    }
}

/// Length-delimited framing with the shared size cap.
pub fn framed<S: AsyncRead + AsyncWrite>(stream: S) -> Framed<S, LengthDelimitedCodec> {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME_BYTES)
        .new_framed(stream)
}

/// The serde transport over a handshaken stream, typed for either end.
pub fn transport<S, In, Out>(
    stream: S,
) -> tarpc::serde_transport::Transport<S, In, Out, Bincode<In, Out>>
where
    S: AsyncRead + AsyncWrite,
    In: for<'de> Deserialize<'de>,
    Out: Serialize,
{
    tarpc::serde_transport::new(framed(stream), Bincode::default())
}

/// A client on any handshaken stream.
pub fn client_on<S>(stream: S) -> IdReviewClient
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    IdReviewClient::new(tarpc::client::Config::default(), transport(stream)).spawn()
}

/// Connects to a daemon's Unix socket and handshakes.
pub async fn connect_unix(
    path: &Path,
    token: Option<String>,
) -> Result<(IdReviewClient, Welcome), TransportError> {
    let mut stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|source| TransportError::Connect {
            at: path.display().to_string(),
            source,
        })?;
    let welcome = client_handshake(&mut stream, token).await?;
    Ok((client_on(stream), welcome))
}

/// A tarpc context whose deadline is `timeout` from now (the default is 10 s).
pub fn context_with_timeout(timeout: Duration) -> tarpc::context::Context {
    let mut ctx = tarpc::context::current();
    ctx.deadline = std::time::Instant::now() + timeout;
    ctx
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn the_handshake_of_protocol_10_reads_as_a_range_of_one() {
        block_on(async {
            let mut wire = Vec::new();
            write_message(
                &mut wire,
                &(10u32, Some("idr_t".to_string()), "idreview 0.0.10"),
            )
            .await
            .expect("write");
            let hello = read_hello(&mut wire.as_slice()).await.expect("read");
            assert_eq!(hello.speaks(), Versions::only(10));
            assert_eq!(hello.token.as_deref(), Some("idr_t"));

            // HelloReply::Welcome (variant 0) of protocol 10: no range after the version.
            let mut wire = Vec::new();
            let old = (0u32, "local:root", Role::Admin, "0.0.10", 10u32);
            write_message(&mut wire, &old).await.expect("write");
            let HelloReply::Welcome(welcome) =
                read_reply(&mut wire.as_slice()).await.expect("read")
            else {
                panic!("a welcome");
            };
            assert_eq!(welcome.daemon_speaks, Versions::only(10));
            assert!(welcome.require(11, "x").is_err());
        });
    }

    #[test]
    fn a_current_hello_is_read_whole() {
        block_on(async {
            let mut wire = Vec::new();
            write_message(&mut wire, &Hello::new(None, "t".into()))
                .await
                .expect("write");
            let hello = read_hello(&mut wire.as_slice()).await.expect("read");
            assert_eq!(hello.speaks(), SPOKEN);
        });
    }
}
