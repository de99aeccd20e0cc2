//! The node's Cocoa client: one authenticated TCP session to a `crema cdn` broker, kept up in the background.
//!
//! The client logs in with the node's BLS key (see [`crate::cdn::login`]), then carries frames both ways: what the
//! node publishes or sends directly goes up, what the broker delivers comes out of [`Cocoa::recv`] as
//! [`Inbound`] bytes with **no** sender (`via: None`): a broker's word about who sent something is never used, not
//! even to penalise a peer, since a lying broker could otherwise get honest nodes skipped. Everything delivered is
//! decoded and verified by the node exactly as a libp2p message is.
//!
//! When the session drops, [`CocoaHandle::connected`] turns false at once (so the transport sends bulk data over
//! libp2p instead) and the client reconnects with backoff, trying the configured brokers in turn starting from
//! this node's preferred one, so nodes spread over several brokers and move to another when theirs dies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crema_engine::bls::SecretKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use super::network::{Inbound, NetError, Network, Outbound};
use crate::cdn::frame::{self, CacheKey, Frame, FrameLimits, Topic};
use crate::cdn::login;
use crate::consensus::NodeId;

/// How long connecting, the challenge and the welcome may each take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// Backoff between reconnection attempts: from the first to the last, doubling.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));
/// Frames delivered by the broker waiting for the node.
const INBOUND_QUEUE: usize = 4096;

/// Settings for the client.
#[derive(Clone)]
pub struct CocoaConfig {
    /// Broker addresses (`host:port`); the node starts with `brokers[me % len]`.
    pub brokers: Vec<String>,
    /// This node.
    pub me: NodeId,
    /// Its BLS key, to log in.
    pub key: SecretKey,
    /// Frame limits (the network's largest message, its node count).
    pub limits: FrameLimits,
    /// Bytes queued for the broker before sends are refused.
    pub queue_bytes: usize,
    /// A delay every frame waits before it goes up (the latency drill, `p2p.latency_ms`: the CDN path must not
    /// bypass it). Frames keep their order. The starting value: [`CocoaHandle::set_latency`] changes it.
    pub latency: Duration,
}

/// Counters of the client, for metrics.
#[derive(Debug, Default)]
pub struct CocoaStats {
    /// Sessions established.
    pub logins: AtomicU64,
    /// Sessions lost.
    pub disconnects: AtomicU64,
    /// Logins the broker refused.
    pub refused: AtomicU64,
    /// Bytes of frames written to the broker.
    pub bytes_sent: AtomicU64,
    /// Bytes of frames read from the broker.
    pub bytes_received: AtomicU64,
    /// Deliveries dropped because the node's inbound queue was full.
    pub dropped_inbound: AtomicU64,
}

/// A delay in whole microseconds (saturating).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Fetches waiting for the broker's answer, by request id.
type Fetches = HashMap<u64, oneshot::Sender<Option<Vec<u8>>>>;

/// The sending side, cloneable; cheap to ask whether the broker is reachable.
#[derive(Clone)]
pub struct CocoaHandle {
    out: mpsc::UnboundedSender<(tokio::time::Instant, Vec<u8>)>,
    queued: Arc<AtomicUsize>,
    queue_bytes: usize,
    connected: watch::Receiver<bool>,
    fetches: Arc<Mutex<Fetches>>,
    next_id: Arc<AtomicU64>,
    max_message: usize,
    /// The latency drill's delay, microseconds.
    latency: Arc<AtomicU64>,
    /// The client's counters.
    pub stats: Arc<CocoaStats>,
}

/// The receiving side: what the broker delivers, unverified.
pub struct Cocoa {
    inbound: mpsc::Receiver<Inbound>,
    handle: CocoaHandle,
}

impl Cocoa {
    /// Starts the client in the background; it connects (and reconnects) on its own until `stop` fires.
    pub fn start(cfg: CocoaConfig, stop: watch::Receiver<bool>) -> Cocoa {
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);
        let (connected_tx, connected_rx) = watch::channel(false);
        let handle = CocoaHandle {
            out: out_tx,
            queued: Arc::new(AtomicUsize::new(0)),
            queue_bytes: cfg.queue_bytes,
            connected: connected_rx,
            fetches: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
            max_message: cfg.limits.max_message,
            latency: Arc::new(AtomicU64::new(micros(cfg.latency))),
            stats: Arc::default(),
        };
        tokio::spawn(keep_connected(cfg, handle.clone(), out_rx, in_tx, connected_tx, stop));
        Cocoa { inbound: in_rx, handle }
    }

    /// The sending handle.
    pub fn handle(&self) -> CocoaHandle {
        self.handle.clone()
    }

    /// The next delivery; `None` once the client stopped.
    pub async fn recv(&mut self) -> Option<Inbound> {
        self.inbound.recv().await
    }
}

impl std::fmt::Debug for CocoaHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CocoaHandle(connected: {})", self.connected())
    }
}

/// The CDN as a [`Network`]: a send is a direct delivery, a broadcast the global topic (the sender excluded: a
/// node's own copy is libp2p's to deliver, see [`super::transport`]).
impl Network for Cocoa {
    fn send(&mut self, to: NodeId, msg: Outbound) -> Result<(), NetError> {
        self.handle.direct(&[to], None, &msg.bytes)
    }

    fn broadcast(&mut self, msg: Outbound) -> Result<(), NetError> {
        self.handle.publish(Topic::Global, None, &msg.bytes)
    }

    fn recv(&mut self) -> impl std::future::Future<Output = Option<Inbound>> + Send {
        self.inbound.recv()
    }
}

impl CocoaHandle {
    /// Whether a session with a broker is up now.
    pub fn connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// The latency drill (`p2p.latency_ms`): every frame queued from now on waits `delay` before it goes up (one
    /// queued earlier keeps its time; frames still go in order). Zero turns it off.
    pub fn set_latency(&self, delay: Duration) {
        self.latency.store(micros(delay), Ordering::Relaxed);
    }

    /// Delivers `bytes` to every node of `topic` but this one, cached under `key` if given.
    pub fn publish(&self, topic: Topic, key: Option<CacheKey>, bytes: &[u8]) -> Result<(), NetError> {
        self.queue(Frame::Publish { topic, key, bytes: bytes.to_vec() }, bytes.len())
    }

    /// Delivers `bytes` to the nodes `to`, cached under `key` if given.
    pub fn direct(&self, to: &[NodeId], key: Option<CacheKey>, bytes: &[u8]) -> Result<(), NetError> {
        self.queue(Frame::Direct { to: to.to_vec(), key, bytes: bytes.to_vec() }, bytes.len())
    }

    /// The message the broker cached under `key`, if it has it and answers within `timeout`.
    pub async fn fetch(&self, key: CacheKey, timeout: Duration) -> Option<Vec<u8>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.fetches.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
        let answer = match self.queue(Frame::Fetch { id, key }, 0) {
            Ok(()) => tokio::time::timeout(timeout, rx).await.ok().and_then(|r| r.ok()).flatten(),
            Err(_) => None,
        };
        self.fetches.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        answer
    }

    fn queue(&self, frame: Frame, len: usize) -> Result<(), NetError> {
        if !self.connected() {
            return Err(NetError::Closed);
        }
        if len > self.max_message {
            return Err(NetError::TooLarge { len, max: self.max_message });
        }
        let body = frame::encode(&frame);
        if self.queued.fetch_add(body.len(), Ordering::AcqRel) + body.len() > self.queue_bytes {
            self.queued.fetch_sub(body.len(), Ordering::AcqRel);
            return Err(NetError::QueueFull);
        }
        let n = body.len();
        let due = tokio::time::Instant::now() + Duration::from_micros(self.latency.load(Ordering::Relaxed));
        self.out.send((due, body)).map_err(|_| {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            NetError::Closed
        })
    }

    fn resolve(&self, id: u64, bytes: Option<Vec<u8>>) {
        if let Some(tx) = self.fetches.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) {
            let _ = tx.send(bytes);
        }
    }
}

/// Why one session ended.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connecting: {0}")]
    Connect(std::io::Error),
    #[error("timed out during the {0}")]
    Timeout(&'static str),
    #[error("{0}")]
    Read(#[from] frame::ReadError),
    #[error("writing: {0}")]
    Write(std::io::Error),
    #[error("the broker refused the login: {0}")]
    Refused(String),
    #[error("the broker sent an unexpected {0} frame")]
    Unexpected(&'static str),
}

async fn keep_connected(
    cfg: CocoaConfig,
    handle: CocoaHandle,
    mut out: mpsc::UnboundedReceiver<(tokio::time::Instant, Vec<u8>)>,
    inbound: mpsc::Sender<Inbound>,
    connected: watch::Sender<bool>,
    mut stop: watch::Receiver<bool>,
) {
    if cfg.brokers.is_empty() {
        return;
    }
    let mut next = usize::from(cfg.me) % cfg.brokers.len();
    let mut backoff = BACKOFF.0;
    loop {
        let addr = cfg.brokers[next].clone();
        let session = session(&cfg, &addr, &handle, &mut out, &inbound, &connected);
        let ended = tokio::select! {
            _ = stop.changed() => return,
            r = session => r,
        };
        let was_up = *connected.borrow();
        connected.send_replace(false);
        // Frames queued for the lost session are dropped: bulk data has a libp2p fallback, small messages went
        // both ways already.
        while let Ok((_, body)) = out.try_recv() {
            handle.queued.fetch_sub(body.len(), Ordering::AcqRel);
        }
        match ended {
            Err(SessionError::Refused(reason)) => {
                handle.stats.refused.fetch_add(1, Ordering::Relaxed);
                warn!(broker = %addr, "the broker refused our login: {reason}");
            }
            Err(e) if was_up => {
                handle.stats.disconnects.fetch_add(1, Ordering::Relaxed);
                warn!(broker = %addr, "lost the CDN broker: {e}; bulk data goes over libp2p until a broker is back");
            }
            Err(e) => debug!(broker = %addr, "could not reach the CDN broker: {e}"),
            Ok(()) => {}
        }
        if was_up {
            backoff = BACKOFF.0;
        } else {
            next = (next + 1) % cfg.brokers.len();
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

async fn timed<T>(what: &'static str, f: impl std::future::Future<Output = T>) -> Result<T, SessionError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, f).await.map_err(|_| SessionError::Timeout(what))
}

/// Logs in on `io` as `me` with `key`: answers the broker's challenge and waits for its welcome.
pub async fn log_in<T: AsyncRead + AsyncWrite + Unpin>(
    io: &mut T,
    me: NodeId,
    key: &SecretKey,
    limits: &FrameLimits,
) -> Result<String, LoginFailure> {
    let nonce = match timed("challenge", frame::read(io, limits)).await?? {
        Frame::Challenge { nonce } => nonce,
        other => return Err(SessionError::Unexpected(other.name()).into()),
    };
    let now = login::unix_ms();
    let signature = login::sign_login(key, &nonce, now, me);
    frame::write(io, &Frame::Login { node: me, timestamp_ms: now, signature }).await.map_err(SessionError::Write)?;
    match timed("welcome", frame::read(io, limits)).await?? {
        Frame::Welcome { broker } => Ok(broker),
        Frame::Refused { reason } => Err(SessionError::Refused(reason).into()),
        other => Err(SessionError::Unexpected(other.name()).into()),
    }
}

/// Why [`log_in`] failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct LoginFailure(#[from] SessionError);

impl From<frame::ReadError> for LoginFailure {
    fn from(e: frame::ReadError) -> Self {
        LoginFailure(e.into())
    }
}

async fn session(
    cfg: &CocoaConfig,
    addr: &str,
    handle: &CocoaHandle,
    out: &mut mpsc::UnboundedReceiver<(tokio::time::Instant, Vec<u8>)>,
    inbound: &mpsc::Sender<Inbound>,
    connected: &watch::Sender<bool>,
) -> Result<(), SessionError> {
    let mut stream = timed("connect", TcpStream::connect(addr)).await?.map_err(SessionError::Connect)?;
    stream.set_nodelay(true).map_err(SessionError::Connect)?;
    let broker = log_in(&mut stream, cfg.me, &cfg.key, &cfg.limits).await.map_err(|e| e.0)?;
    info!(broker = %addr, id = %broker, "logged in to the CDN broker");
    handle.stats.logins.fetch_add(1, Ordering::Relaxed);
    connected.send_replace(true);
    let (mut rd, mut wr) = stream.into_split();
    let writer = async {
        while let Some((due, body)) = out.recv().await {
            // Frames go up one after another, each no sooner than its due time: order is kept.
            tokio::time::sleep_until(due).await;
            let n = body.len();
            let r = frame::write_raw(&mut wr, &body).await;
            handle.queued.fetch_sub(n, Ordering::AcqRel);
            r.map_err(SessionError::Write)?;
            handle.stats.bytes_sent.fetch_add(n as u64 + 4, Ordering::Relaxed);
        }
        Ok::<(), SessionError>(())
    };
    let reader = async {
        loop {
            let body = frame::read_raw(&mut rd, &cfg.limits).await?;
            handle.stats.bytes_received.fetch_add(body.len() as u64 + 4, Ordering::Relaxed);
            match frame::decode(&body, &cfg.limits).map_err(frame::ReadError::from)? {
                Frame::Deliver { bytes, .. } => {
                    if inbound.try_send(Inbound { via: None, bytes }).is_err() {
                        handle.stats.dropped_inbound.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Frame::Fetched { id, bytes } => handle.resolve(id, bytes),
                other => return Err::<(), _>(SessionError::Unexpected(other.name())),
            }
        }
    };
    tokio::select! {
        r = writer => r,
        r = reader => r,
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_latency_drill_holds_every_frame_for_its_delay_in_order() {
        let limits = FrameLimits { max_message: 1 << 20, max_nodes: 4 };
        // A stand-in broker: it greets the client and reads what comes up.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cfg = CocoaConfig {
            brokers: vec![listener.local_addr().unwrap().to_string()],
            me: 1,
            key: SecretKey::key_gen(&[7; 32], b"").unwrap(),
            limits,
            queue_bytes: 1 << 20,
            latency: Duration::ZERO,
        };
        let (stop_tx, stop) = watch::channel(false);
        let client = Cocoa::start(cfg, stop);
        let (mut conn, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await.unwrap().unwrap();
        frame::write(&mut conn, &Frame::Challenge { nonce: [3; 32] }).await.unwrap();
        assert!(matches!(frame::read(&mut conn, &limits).await.unwrap(), Frame::Login { node: 1, .. }));
        frame::write(&mut conn, &Frame::Welcome { broker: "stand-in".into() }).await.unwrap();
        let handle = client.handle();
        tokio::time::timeout(Duration::from_secs(10), async {
            while !handle.connected() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();

        let delay = Duration::from_millis(200);
        handle.set_latency(delay);
        let sent = std::time::Instant::now();
        for i in 0..3u8 {
            handle.direct(&[2], None, &[i; 10]).unwrap();
        }
        for i in 0..3u8 {
            match frame::read(&mut conn, &limits).await.unwrap() {
                Frame::Direct { to, bytes, .. } => assert_eq!((to, bytes), (vec![2], vec![i; 10]), "in order"),
                other => panic!("unexpected {}", other.name()),
            }
        }
        let waited = sent.elapsed();
        assert!(waited >= delay, "three frames went up after {waited:?}, under the {delay:?} delay");
        let _ = stop_tx.send(true);
    }
}
