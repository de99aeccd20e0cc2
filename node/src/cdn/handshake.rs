//! The node's side of the login handshake: read the broker's challenge, answer with a signed login, read the
//! verdict. For the node's CDN client, tools and tests.

use crema_engine::bls::SecretKey;
use tokio::io::{AsyncRead, AsyncWrite};

use super::frame::{self, Frame, FrameLimits, ReadError};
use super::login;
use crate::consensus::NodeId;

/// Why a login handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The connection failed or a frame was bad.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The broker refused the login.
    #[error("the broker refused the login: {0}")]
    Refused(String),
    /// The broker sent something else than the protocol says.
    #[error("unexpected {0} frame during the login")]
    Unexpected(&'static str),
}

/// Logs `node` in with its BLS key `sk` on a fresh connection to a broker; the broker's identifier.
pub async fn login<T: AsyncRead + AsyncWrite + Unpin>(
    io: &mut T,
    limits: &FrameLimits,
    sk: &SecretKey,
    node: NodeId,
) -> Result<String, HandshakeError> {
    let nonce = match frame::read(io, limits).await? {
        Frame::Challenge { nonce } => nonce,
        f => return Err(HandshakeError::Unexpected(frame::kind_name(&f))),
    };
    let timestamp_ms = login::unix_ms();
    let signature = login::sign_login(sk, &nonce, timestamp_ms, node);
    frame::write(io, &Frame::Login { node, timestamp_ms, signature }).await.map_err(ReadError::Io)?;
    match frame::read(io, limits).await? {
        Frame::Welcome { broker } => Ok(broker),
        Frame::Refused { reason } => Err(HandshakeError::Refused(reason)),
        f => Err(HandshakeError::Unexpected(frame::kind_name(&f))),
    }
}
