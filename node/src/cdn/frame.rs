//! The Cocoa wire protocol between nodes and brokers, and between brokers: one length-prefixed frame per message.
//!
//! On the TCP stream each frame is `len: u32 big-endian` · `len` bytes of body; the body is an engine-codec object
//! (tag `CDF`, version 1) whose first byte after the tag is the frame kind. The reader checks `len` against its
//! limit before reading the body, and reads the body as it arrives, so a peer announcing a huge frame and sending
//! nothing costs nothing. Every field is bounded by [`FrameLimits`]; a bad frame is a typed [`WireError`].
//!
//! A session: the broker sends [`Frame::Challenge`]; the node answers [`Frame::Login`] (a BLS signature over
//! [`super::login::login_message`]); the broker answers [`Frame::Welcome`] or [`Frame::Refused`] and closes.
//! Then the node sends [`Frame::Publish`], [`Frame::Direct`] and [`Frame::Fetch`], and the broker sends
//! [`Frame::Deliver`] and [`Frame::Fetched`]. Brokers talk to each other with [`Frame::BrokerHello`] and
//! [`Frame::Forward`].

use std::io;

use crema_engine::codec::{Reader, WireError, Writer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::consensus::NodeId;

const TAG: &[u8; 3] = b"CDF";
const VERSION: u8 = 1;

/// Bytes a frame adds around the message it carries (tag, kind, ids, a cache key, a recipient list of up to
/// [`FrameLimits::max_nodes`] is counted separately).
pub const FRAME_OVERHEAD: usize = 128;

/// A key the broker caches a message under: a payload commitment, or a share's key (see
/// [`super::login::share_key`]).
pub type CacheKey = [u8; 32];

/// Where a published message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Every node logged in.
    Global,
    /// The nodes with stake in the DA committee.
    DaCommittee,
}

/// Whom a forwarded message is for, on the receiving broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The topic's nodes on that broker.
    Topic(Topic),
    /// These nodes, where they are logged in to that broker.
    Nodes(Vec<NodeId>),
}

/// One protocol frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Broker → node, first: the nonce the login must sign.
    Challenge {
        /// Fresh random bytes, one per connection.
        nonce: [u8; 32],
    },
    /// Node → broker: who the node is, proven by a BLS signature over the nonce and the time.
    Login {
        /// The node's index in the stake table.
        node: NodeId,
        /// The node's clock, in milliseconds since the Unix epoch.
        timestamp_ms: u64,
        /// The compressed BLS signature ([`crema_engine::bls::SIGNATURE_BYTES`] bytes).
        signature: Vec<u8>,
    },
    /// Broker → node: logged in.
    Welcome {
        /// The broker's identifier (for logs and metrics).
        broker: String,
    },
    /// Broker → node: login refused; the broker closes the connection.
    Refused {
        /// Why.
        reason: String,
    },
    /// Node → broker: deliver to every node of a topic (the sender excluded), and cache under `key` if given.
    Publish {
        /// The topic.
        topic: Topic,
        /// The cache key, if the message should be fetchable by it.
        key: Option<CacheKey>,
        /// The message, opaque to the broker.
        bytes: Vec<u8>,
    },
    /// Node → broker: deliver to these nodes, and cache under `key` if given.
    Direct {
        /// The recipients.
        to: Vec<NodeId>,
        /// The cache key, if the message should be fetchable by it.
        key: Option<CacheKey>,
        /// The message.
        bytes: Vec<u8>,
    },
    /// Node → broker: the cached message under `key`, answered by [`Frame::Fetched`] with the same `id`.
    Fetch {
        /// The node's request id.
        id: u64,
        /// The cache key.
        key: CacheKey,
    },
    /// Broker → node: a message, with the logged-in node that handed it to a broker (never proof of authorship).
    Deliver {
        /// The sender's login.
        from: NodeId,
        /// The message.
        bytes: Vec<u8>,
    },
    /// Broker → node: the answer to a [`Frame::Fetch`].
    Fetched {
        /// The request id.
        id: u64,
        /// The cached message, if the broker had it.
        bytes: Option<Vec<u8>>,
    },
    /// Broker → broker, first on a broker link: who is connecting.
    BrokerHello {
        /// The connecting broker's identifier, as registered in discovery.
        broker: String,
    },
    /// Broker → broker: a message one of the sender's nodes published, for the receiver's own nodes.
    Forward {
        /// The node that published it.
        from: NodeId,
        /// Whom it is for.
        target: Target,
        /// The cache key, if any.
        key: Option<CacheKey>,
        /// The message.
        bytes: Vec<u8>,
    },
}

impl Frame {
    /// The frame's kind, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Challenge { .. } => "challenge",
            Frame::Login { .. } => "login",
            Frame::Welcome { .. } => "welcome",
            Frame::Refused { .. } => "refused",
            Frame::Publish { .. } => "publish",
            Frame::Direct { .. } => "direct",
            Frame::Fetch { .. } => "fetch",
            Frame::Deliver { .. } => "deliver",
            Frame::Fetched { .. } => "fetched",
            Frame::BrokerHello { .. } => "broker_hello",
            Frame::Forward { .. } => "forward",
        }
    }
}

/// Bounds on what a frame may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLimits {
    /// The largest message a frame carries (the network's largest consensus message).
    pub max_message: usize,
    /// The number of nodes in the network (recipient lists and node ids are checked against it).
    pub max_nodes: usize,
}

impl FrameLimits {
    /// The largest frame body these limits allow.
    pub fn max_frame(&self) -> usize {
        self.max_message + FRAME_OVERHEAD + 4 * self.max_nodes
    }
}

/// The longest identifier or reason string carried.
const MAX_TEXT: u64 = 256;
/// The longest signature carried.
const MAX_SIGNATURE: u64 = 192;

mod kind {
    pub const CHALLENGE: u8 = 1;
    pub const LOGIN: u8 = 2;
    pub const WELCOME: u8 = 3;
    pub const REFUSED: u8 = 4;
    pub const PUBLISH: u8 = 5;
    pub const DIRECT: u8 = 6;
    pub const FETCH: u8 = 7;
    pub const DELIVER: u8 = 8;
    pub const FETCHED: u8 = 9;
    pub const BROKER_HELLO: u8 = 10;
    pub const FORWARD: u8 = 11;
}

fn topic_byte(t: Topic) -> u8 {
    match t {
        Topic::Global => 0,
        Topic::DaCommittee => 1,
    }
}

fn write_key(w: &mut Writer, key: &Option<CacheKey>) {
    match key {
        None => w.u8(0),
        Some(k) => w.u8(1).bytes(k),
    };
}

fn write_nodes(w: &mut Writer, nodes: &[NodeId]) {
    w.u32(nodes.len() as u32);
    for n in nodes {
        w.u32(u32::from(*n));
    }
}

/// Encodes a frame body (without the length prefix).
pub fn encode(frame: &Frame) -> Vec<u8> {
    let body = match frame {
        Frame::Publish { bytes, .. } | Frame::Direct { bytes, .. } | Frame::Deliver { bytes, .. } => bytes.len(),
        Frame::Forward { bytes, .. } => bytes.len(),
        Frame::Fetched { bytes: Some(b), .. } => b.len(),
        _ => 0,
    };
    let mut w = Writer::with_capacity(TAG, VERSION, body + 64);
    match frame {
        Frame::Challenge { nonce } => {
            w.u8(kind::CHALLENGE).bytes(nonce);
        }
        Frame::Login { node, timestamp_ms, signature } => {
            w.u8(kind::LOGIN).u32(u32::from(*node)).u64(*timestamp_ms).len_bytes(signature);
        }
        Frame::Welcome { broker } => {
            w.u8(kind::WELCOME).len_bytes(broker.as_bytes());
        }
        Frame::Refused { reason } => {
            w.u8(kind::REFUSED).len_bytes(reason.as_bytes());
        }
        Frame::Publish { topic, key, bytes } => {
            w.u8(kind::PUBLISH).u8(topic_byte(*topic));
            write_key(&mut w, key);
            w.len_bytes(bytes);
        }
        Frame::Direct { to, key, bytes } => {
            w.u8(kind::DIRECT);
            write_nodes(&mut w, to);
            write_key(&mut w, key);
            w.len_bytes(bytes);
        }
        Frame::Fetch { id, key } => {
            w.u8(kind::FETCH).u64(*id).bytes(key);
        }
        Frame::Deliver { from, bytes } => {
            w.u8(kind::DELIVER).u32(u32::from(*from)).len_bytes(bytes);
        }
        Frame::Fetched { id, bytes } => {
            w.u8(kind::FETCHED).u64(*id);
            match bytes {
                None => w.u8(0),
                Some(b) => w.u8(1).len_bytes(b),
            };
        }
        Frame::BrokerHello { broker } => {
            w.u8(kind::BROKER_HELLO).len_bytes(broker.as_bytes());
        }
        Frame::Forward { from, target, key, bytes } => {
            w.u8(kind::FORWARD).u32(u32::from(*from));
            match target {
                Target::Topic(t) => w.u8(0).u8(topic_byte(*t)),
                Target::Nodes(n) => {
                    w.u8(1);
                    write_nodes(&mut w, n);
                    &mut w
                }
            };
            write_key(&mut w, key);
            w.len_bytes(bytes);
        }
    }
    w.finish()
}

fn read_topic(r: &mut Reader<'_>) -> Result<Topic, WireError> {
    match r.u8("topic")? {
        0 => Ok(Topic::Global),
        1 => Ok(Topic::DaCommittee),
        t => Err(WireError::Invalid { what: "topic", reason: format!("unknown topic {t}") }),
    }
}

fn read_key(r: &mut Reader<'_>) -> Result<Option<CacheKey>, WireError> {
    match r.u8("cache key flag")? {
        0 => Ok(None),
        1 => Ok(Some(r.array("cache key")?)),
        f => Err(WireError::Invalid { what: "cache key flag", reason: format!("{f} is neither 0 nor 1") }),
    }
}

fn read_node(r: &mut Reader<'_>, l: &FrameLimits) -> Result<NodeId, WireError> {
    let max = l.max_nodes.saturating_sub(1).min(NodeId::MAX as usize) as u64;
    // Bounded by `max`, which fits a NodeId.
    Ok(r.u32_max("node id", max)? as NodeId)
}

fn read_nodes(r: &mut Reader<'_>, l: &FrameLimits) -> Result<Vec<NodeId>, WireError> {
    let n = r.u32_max("recipient count", l.max_nodes as u64)? as usize;
    (0..n).map(|_| read_node(r, l)).collect()
}

fn read_text(r: &mut Reader<'_>, what: &'static str) -> Result<String, WireError> {
    let b = r.len_bytes(what, MAX_TEXT)?;
    String::from_utf8(b.to_vec()).map_err(|_| WireError::Invalid { what, reason: "not UTF-8".into() })
}

/// Decodes a frame body, every field within `limits`.
pub fn decode(bytes: &[u8], limits: &FrameLimits) -> Result<Frame, WireError> {
    if bytes.len() > limits.max_frame() {
        return Err(WireError::OverLimit { what: "frame", got: bytes.len() as u64, max: limits.max_frame() as u64 });
    }
    let max_msg = limits.max_message as u64;
    let mut r = Reader::new(bytes, TAG, "Cocoa frame", VERSION)?;
    let frame = match r.u8("frame kind")? {
        kind::CHALLENGE => Frame::Challenge { nonce: r.array("nonce")? },
        kind::LOGIN => Frame::Login {
            node: read_node(&mut r, limits)?,
            timestamp_ms: r.u64_max("timestamp", u64::MAX)?,
            signature: r.len_bytes("signature", MAX_SIGNATURE)?.to_vec(),
        },
        kind::WELCOME => Frame::Welcome { broker: read_text(&mut r, "broker id")? },
        kind::REFUSED => Frame::Refused { reason: read_text(&mut r, "refusal reason")? },
        kind::PUBLISH => Frame::Publish {
            topic: read_topic(&mut r)?,
            key: read_key(&mut r)?,
            bytes: r.len_bytes("message", max_msg)?.to_vec(),
        },
        kind::DIRECT => Frame::Direct {
            to: read_nodes(&mut r, limits)?,
            key: read_key(&mut r)?,
            bytes: r.len_bytes("message", max_msg)?.to_vec(),
        },
        kind::FETCH => Frame::Fetch { id: r.u64_max("request id", u64::MAX)?, key: r.array("cache key")? },
        kind::DELIVER => {
            Frame::Deliver { from: read_node(&mut r, limits)?, bytes: r.len_bytes("message", max_msg)?.to_vec() }
        }
        kind::FETCHED => {
            let id = r.u64_max("request id", u64::MAX)?;
            let bytes = match r.u8("found flag")? {
                0 => None,
                1 => Some(r.len_bytes("message", max_msg)?.to_vec()),
                f => return Err(WireError::Invalid { what: "found flag", reason: format!("{f} is neither 0 nor 1") }),
            };
            Frame::Fetched { id, bytes }
        }
        kind::BROKER_HELLO => Frame::BrokerHello { broker: read_text(&mut r, "broker id")? },
        kind::FORWARD => {
            let from = read_node(&mut r, limits)?;
            let target = match r.u8("target kind")? {
                0 => Target::Topic(read_topic(&mut r)?),
                1 => Target::Nodes(read_nodes(&mut r, limits)?),
                t => return Err(WireError::Invalid { what: "target kind", reason: format!("unknown target {t}") }),
            };
            Frame::Forward { from, target, key: read_key(&mut r)?, bytes: r.len_bytes("message", max_msg)?.to_vec() }
        }
        k => return Err(WireError::Invalid { what: "frame kind", reason: format!("unknown kind {k}") }),
    };
    r.finish()?;
    Ok(frame)
}

/// Why reading a frame from a stream failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The stream failed or closed.
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    /// The announced length is over the limit: nothing was read past the length.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body did not decode.
    #[error("bad frame: {0}")]
    Wire(#[from] WireError),
}

/// Reads one length-prefixed frame body of at most `limits.max_frame()` bytes, without decoding it.
pub async fn read_raw<T: AsyncRead + Unpin>(io: &mut T, limits: &FrameLimits) -> Result<Vec<u8>, ReadError> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    let max = limits.max_frame();
    if len > max {
        return Err(ReadError::TooLarge { len, max });
    }
    // Grow as bytes arrive, not up front: the length is only a claim.
    let mut body = Vec::with_capacity(len.min(64 << 10));
    (&mut *io).take(len as u64).read_to_end(&mut body).await?;
    if body.len() != len {
        return Err(
            io::Error::new(io::ErrorKind::UnexpectedEof, format!("frame truncated: {} of {len}", body.len())).into()
        );
    }
    Ok(body)
}

/// Reads and decodes one frame.
pub async fn read<T: AsyncRead + Unpin>(io: &mut T, limits: &FrameLimits) -> Result<Frame, ReadError> {
    let body = read_raw(io, limits).await?;
    Ok(decode(&body, limits)?)
}

/// Writes one encoded frame body behind its length.
pub async fn write_raw<T: AsyncWrite + Unpin>(io: &mut T, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(body).await
}

/// Encodes and writes one frame.
pub async fn write<T: AsyncWrite + Unpin>(io: &mut T, frame: &Frame) -> io::Result<()> {
    write_raw(io, &encode(frame)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: FrameLimits = FrameLimits { max_message: 4096, max_nodes: 16 };

    fn arb_key() -> impl Strategy<Value = Option<CacheKey>> {
        proptest::option::of(any::<[u8; 32]>())
    }

    fn arb_topic() -> impl Strategy<Value = Topic> {
        prop_oneof![Just(Topic::Global), Just(Topic::DaCommittee)]
    }

    fn arb_frame() -> impl Strategy<Value = Frame> {
        let msg = proptest::collection::vec(any::<u8>(), 0..512);
        let nodes = proptest::collection::vec(0u16..16, 0..16);
        prop_oneof![
            any::<[u8; 32]>().prop_map(|nonce| Frame::Challenge { nonce }),
            (0u16..16, any::<u64>(), proptest::collection::vec(any::<u8>(), 0..192))
                .prop_map(|(node, timestamp_ms, signature)| Frame::Login { node, timestamp_ms, signature }),
            "[a-z0-9:.]{0,40}".prop_map(|broker| Frame::Welcome { broker }),
            "[ -~]{0,80}".prop_map(|reason| Frame::Refused { reason }),
            (arb_topic(), arb_key(), msg.clone()).prop_map(|(topic, key, bytes)| Frame::Publish { topic, key, bytes }),
            (nodes.clone(), arb_key(), msg.clone()).prop_map(|(to, key, bytes)| Frame::Direct { to, key, bytes }),
            (any::<u64>(), any::<[u8; 32]>()).prop_map(|(id, key)| Frame::Fetch { id, key }),
            (0u16..16, msg.clone()).prop_map(|(from, bytes)| Frame::Deliver { from, bytes }),
            (any::<u64>(), proptest::option::of(msg.clone())).prop_map(|(id, bytes)| Frame::Fetched { id, bytes }),
            "[a-z0-9:.]{0,40}".prop_map(|broker| Frame::BrokerHello { broker }),
            (0u16..16, prop_oneof![arb_topic().prop_map(Target::Topic), nodes.prop_map(Target::Nodes)], arb_key(), msg)
                .prop_map(|(from, target, key, bytes)| Frame::Forward { from, target, key, bytes }),
        ]
    }

    proptest! {
        #[test]
        fn frames_round_trip(f in arb_frame()) {
            prop_assert_eq!(decode(&encode(&f), &LIMITS)?, f);
        }

        #[test]
        fn any_bytes_decode_to_a_frame_or_a_typed_error(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&bytes, &LIMITS);
        }

        #[test]
        fn a_truncated_frame_is_an_error(f in arb_frame(), cut in 1usize..64) {
            let b = encode(&f);
            let cut = cut.min(b.len());
            prop_assert!(decode(&b[..b.len() - cut], &LIMITS).is_err());
        }
    }

    #[test]
    fn limits_are_enforced() {
        let big = Frame::Deliver { from: 1, bytes: vec![0; 4097] };
        assert!(matches!(decode(&encode(&big), &LIMITS), Err(WireError::OverLimit { .. })));
        let stranger = Frame::Deliver { from: 16, bytes: vec![] };
        assert!(matches!(decode(&encode(&stranger), &LIMITS), Err(WireError::OverLimit { what: "node id", .. })));
        let crowd = Frame::Direct { to: vec![0; 17], key: None, bytes: vec![] };
        assert!(decode(&encode(&crowd), &LIMITS).is_err());
    }

    #[tokio::test]
    async fn a_stream_refuses_an_oversized_length_before_reading_it() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&(LIMITS.max_frame() as u32 + 1).to_be_bytes());
        let err = read(&mut wire.as_slice(), &LIMITS).await.unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        let mut ok = Vec::new();
        write(&mut ok, &Frame::Fetch { id: 7, key: [1; 32] }).await.unwrap();
        assert_eq!(read(&mut ok.as_slice(), &LIMITS).await.unwrap(), Frame::Fetch { id: 7, key: [1; 32] });
    }
}
