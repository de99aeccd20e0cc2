//! The request-response codec: one length-prefixed frame per request, a one-byte acknowledgement per response.
//!
//! A request frame is `len: u32 big-endian` · `class: u8` (0 small, 1 bulk) · `len` bytes of message. The length
//! is checked against the configured limit *before* anything is allocated, and the body buffer then grows only
//! as bytes actually arrive (a peer announcing a large frame and sending nothing costs nothing), as in Push-CDN's
//! `read_length_delimited`. The class byte is the sender's claim, used for accounting only. A response is the
//! single byte [`ACK`]: it tells the sender the frame arrived whole.
//!
//! Reads are bounded in time by request-response itself: every inbound and outbound stream runs under the
//! behaviour's request timeout ([`super::P2pConfig::request_timeout`]), and the number of concurrent streams per
//! connection is capped ([`super::P2pConfig::max_streams`]), so at most `max_streams × max_message_bytes` bytes
//! are buffered per connection.

use std::io;
use std::sync::Arc;

use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;

use super::stats::{Counters, bump};
use crate::net::network::Class;

/// The request-response protocol name.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/crema/push/1");
/// The acknowledgement byte.
pub const ACK: u8 = 0x06;
/// Largest initial body allocation; the buffer grows with the bytes received beyond it.
const FIRST_CHUNK: usize = 64 * 1024;

/// One message pushed to a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// How the sender classed it (accounting only).
    pub class: Class,
    /// The message, shared between the pushes of one broadcast.
    pub bytes: Arc<Vec<u8>>,
}

/// Why a frame was refused (carried inside an [`io::Error`] of kind `InvalidData`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// The announced length exceeds the limit.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The class byte is neither 0 nor 1.
    #[error("unknown message class {0}")]
    BadClass(u8),
    /// The response is not the acknowledgement byte.
    #[error("bad acknowledgement byte {0:#04x}")]
    BadAck(u8),
}

fn invalid(e: FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn class_byte(class: Class) -> u8 {
    match class {
        Class::Small => 0,
        Class::Bulk => 1,
    }
}

/// Reads one frame of at most `max` message bytes.
pub async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Frame> {
    let mut header = [0u8; 5];
    io.read_exact(&mut header).await?;
    let [l0, l1, l2, l3, class] = header;
    let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    if len > max {
        return Err(invalid(FrameError::TooLarge { len, max }));
    }
    let class = match class {
        0 => Class::Small,
        1 => Class::Bulk,
        other => return Err(invalid(FrameError::BadClass(other))),
    };
    let mut bytes = Vec::with_capacity(len.min(FIRST_CHUNK));
    io.take(len as u64).read_to_end(&mut bytes).await?;
    if bytes.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame truncated: {} of {len} bytes", bytes.len()),
        ));
    }
    Ok(Frame { class, bytes: Arc::new(bytes) })
}

/// Writes one frame (the caller checked its size against the limit).
pub async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, frame: &Frame) -> io::Result<()> {
    let len = u32::try_from(frame.bytes.len())
        .map_err(|_| invalid(FrameError::TooLarge { len: frame.bytes.len(), max: u32::MAX as usize }))?;
    let [l0, l1, l2, l3] = len.to_be_bytes();
    io.write_all(&[l0, l1, l2, l3, class_byte(frame.class)]).await?;
    io.write_all(&frame.bytes).await?;
    io.flush().await
}

/// The codec: frames of at most `max` bytes; refused frames are counted in the shared stats.
#[derive(Clone, Debug)]
pub struct FrameCodec {
    max: usize,
    stats: Arc<Counters>,
}

impl FrameCodec {
    /// A codec refusing frames over `max` message bytes, counting refusals in `stats`.
    pub(super) fn new(max: usize, stats: Arc<Counters>) -> Self {
        FrameCodec { max, stats }
    }
}

impl request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Frame;
    type Response = ();

    async fn read_request<T>(&mut self, _: &Self::Protocol, io: &mut T) -> io::Result<Frame>
    where
        T: AsyncRead + Unpin + Send,
    {
        let frame = read_frame(io, self.max).await;
        if frame.is_err() {
            bump(&self.stats.frames_refused);
        }
        frame
    }

    async fn read_response<T>(&mut self, _: &Self::Protocol, io: &mut T) -> io::Result<()>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut ack = [0u8; 1];
        io.read_exact(&mut ack).await?;
        match ack {
            [ACK] => Ok(()),
            [other] => Err(invalid(FrameError::BadAck(other))),
        }
    }

    async fn write_request<T>(&mut self, _: &Self::Protocol, io: &mut T, frame: Frame) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &frame).await
    }

    async fn write_response<T>(&mut self, _: &Self::Protocol, io: &mut T, (): ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&[ACK]).await?;
        io.flush().await
    }
}

#[cfg(test)]
mod tests {
    use libp2p::futures::executor::block_on;
    use libp2p::futures::io::Cursor;

    use super::*;

    fn encoded(frame: &Frame) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        block_on(write_frame(&mut out, frame)).unwrap();
        out.into_inner()
    }

    fn kind(e: &io::Error) -> Option<&FrameError> {
        e.get_ref().and_then(|e| e.downcast_ref::<FrameError>())
    }

    #[test]
    fn round_trip_both_classes() {
        for (class, len) in [(Class::Small, 0), (Class::Bulk, 1), (Class::Bulk, 200_000)] {
            let frame = Frame { class, bytes: Arc::new((0..len).map(|i| (i * 7) as u8).collect()) };
            let wire = encoded(&frame);
            assert_eq!(wire.len(), 5 + len);
            assert_eq!(wire[..4], (len as u32).to_be_bytes());
            let back = block_on(read_frame(&mut Cursor::new(wire), len)).unwrap();
            assert_eq!(back, frame);
        }
    }

    #[test]
    fn over_size_refused_from_the_header_alone() {
        // Only the 5-byte header: the limit check must not need (or wait for) the body.
        let header = [0x00, 0x10, 0x00, 0x01, 1];
        let err = block_on(read_frame(&mut Cursor::new(header.to_vec()), 1 << 20)).unwrap_err();
        assert_eq!(kind(&err), Some(&FrameError::TooLarge { len: (1 << 20) + 1, max: 1 << 20 }));
        // u32::MAX announced: refused, nothing allocated.
        let err = block_on(read_frame(&mut Cursor::new(vec![0xff, 0xff, 0xff, 0xff, 0]), 1 << 20)).unwrap_err();
        assert!(matches!(kind(&err), Some(FrameError::TooLarge { len, .. }) if *len == u32::MAX as usize));
    }

    #[test]
    fn truncated_and_malformed_frames_refused() {
        let wire = encoded(&Frame { class: Class::Small, bytes: Arc::new(vec![9; 100]) });
        for cut in [0, 3, 5, 50, 104] {
            let err = block_on(read_frame(&mut Cursor::new(wire[..cut].to_vec()), 1000)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        let mut bad = wire.clone();
        bad[4] = 2;
        let err = block_on(read_frame(&mut Cursor::new(bad), 1000)).unwrap_err();
        assert_eq!(kind(&err), Some(&FrameError::BadClass(2)));
    }

    #[test]
    fn codec_counts_refused_frames_and_checks_the_ack() {
        use request_response::Codec;
        let stats = Arc::new(Counters::default());
        let mut codec = FrameCodec::new(10, stats.clone());
        let big = encoded(&Frame { class: Class::Bulk, bytes: Arc::new(vec![1; 11]) });
        assert!(block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(big))).is_err());
        let ok = encoded(&Frame { class: Class::Bulk, bytes: Arc::new(vec![1; 10]) });
        assert!(block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(ok))).is_ok());
        assert_eq!(stats.snapshot().frames_refused, 1);

        let mut ack = Cursor::new(Vec::new());
        block_on(codec.write_response(&PROTOCOL, &mut ack, ())).unwrap();
        assert_eq!(ack.get_ref(), &vec![ACK]);
        assert!(block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(vec![ACK]))).is_ok());
        let err = block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(vec![0]))).unwrap_err();
        assert_eq!(kind(&err), Some(&FrameError::BadAck(0)));
        assert!(block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(Vec::new()))).is_err());
    }
}
