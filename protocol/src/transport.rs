//! The bytes under the service: a handshake (protocol version + bearer token) on the raw stream,
//! then length-delimited bincode frames with a size cap. Generic over the stream so the Unix
//! socket and TLS over TCP share every line.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tarpc::tokio_serde::formats::Bincode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use crate::{IdReviewClient, PROTOCOL_VERSION, Role};

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
    pub protocol_version: u32,
    /// Bearer token; local Unix-socket clients may leave it out and are known by their uid.
    pub token: Option<String>,
    /// Free text for logs, e.g. `idreview 0.1.0`.
    pub client: String,
}

/// The server's answer to [`Hello`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HelloReply {
    Welcome(Welcome),
    Refused(String),
}

/// Who the server bound this connection to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub identity: String,
    pub role: Role,
    pub daemon_version: String,
    pub protocol_version: u32,
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
    let len = stream.read_u32().await?;
    if len > MAX_HELLO_BYTES {
        return Err(TransportError::Malformed(format!(
            "handshake of {len} bytes is over the cap"
        )));
    }
    let mut buf = vec![0; len as usize];
    stream.read_exact(&mut buf).await?;
    bincode::deserialize(&buf).map_err(|e| TransportError::Malformed(e.to_string()))
}

/// The client's half of the handshake.
pub async fn client_handshake<S>(
    stream: &mut S,
    token: Option<String>,
) -> Result<Welcome, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        token,
        client: format!("idreview {}", env!("CARGO_PKG_VERSION")),
    };
    let exchange = async {
        write_message(stream, &hello).await?;
        read_message::<_, HelloReply>(stream).await
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange).await {
        Err(_) => Err(TransportError::Timeout(HANDSHAKE_TIMEOUT)),
        Ok(Err(e)) => Err(e),
        Ok(Ok(HelloReply::Refused(why))) => Err(TransportError::Refused(why)),
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
