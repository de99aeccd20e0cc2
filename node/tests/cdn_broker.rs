//! The Cocoa broker for real: `crema cdn` processes on 127.0.0.1, spoken to by raw TCP clients built from the
//! frame codec and the login signature, with keys and the network file from `crema init`. Every process is killed
//! at the end of its test, also when the test fails (a Drop guard).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crema_engine::bls::SecretKey;
use crema_node::cdn::frame::{self, Frame, FrameLimits, Topic};
use crema_node::cdn::login;
use crema_node::consensus::NodeId;
use crema_node::devnet::client::{Client, metric};
use crema_node::keys::NodeKeys;
use crema_node::net::cocoa::log_in;
use crema_node::network_file::NetworkFile;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CREMA: &str = env!("CARGO_BIN_EXE_crema");
/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);
/// How long a test watches for something that must not happen.
const QUIET: Duration = Duration::from_millis(400);

/// A network made by `crema init --nodes 4 --da-committee 2`.
struct Net {
    dir: tempfile::TempDir,
    network: NetworkFile,
    keys: Vec<SecretKey>,
    limits: FrameLimits,
}

impl Net {
    fn new() -> Net {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let st = Command::new(CREMA)
            .args(["init", "--nodes", "4", "--da-committee", "2", "--max-block-bytes", "65536", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let network = NetworkFile::read(&out.join("network.toml")).unwrap();
        let mut keys: Vec<Option<SecretKey>> = vec![None; 4];
        for i in 0..4 {
            let k = NodeKeys::read(&out.join(format!("node-{i}/keys"))).unwrap();
            let index = k.index_in(&network).unwrap();
            keys[usize::from(index)] = Some(k.bls);
        }
        let keys = keys.into_iter().map(Option::unwrap).collect();
        let wire = crema_node::consensus::WireLimits::for_network(4, 65536);
        let limits = FrameLimits { max_message: wire.max_message(), max_nodes: 4 };
        Net { dir, network, keys, limits }
    }

    fn table(&self) -> PathBuf {
        self.dir.path().join("net/network.toml")
    }

    fn da(&self) -> Vec<NodeId> {
        (0..4).filter(|&i| self.network.nodes[usize::from(i)].da_member).collect()
    }

    fn non_da(&self) -> Vec<NodeId> {
        (0..4).filter(|&i| !self.network.nodes[usize::from(i)].da_member).collect()
    }

    /// Starts a broker with these extra arguments.
    fn broker(&self, extra: &[&str]) -> Broker {
        Broker::start(&self.table(), self.dir.path(), extra)
    }

    /// Logs node `node` in to `addr`.
    async fn login(&self, addr: SocketAddr, node: NodeId) -> Conn {
        let mut c = Conn::connect(addr, self.limits).await;
        let welcomed = log_in(&mut c.io, node, &self.keys[usize::from(node)], &self.limits).await;
        assert!(welcomed.is_ok(), "node {node} was not welcomed: {welcomed:?}");
        c
    }
}

/// A `crema cdn` process, killed when dropped.
struct Broker {
    child: Child,
    addr: SocketAddr,
    metrics: SocketAddr,
    log: PathBuf,
}

impl Broker {
    fn start(table: &Path, dir: &Path, extra: &[&str]) -> Broker {
        let log = dir.join(format!("cdn-{}.log", rand::random::<u32>()));
        let mut child = Command::new(CREMA)
            .args(["cdn", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--stake-table"])
            .arg(table)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut broker =
            Broker { child, addr: "0.0.0.0:0".parse().unwrap(), metrics: "0.0.0.0:0".parse().unwrap(), log };
        let line = rx.recv_timeout(PATIENCE).unwrap_or_default();
        // "cdn listening on IP:PORT metrics on IP:PORT"
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(line.starts_with("cdn listening on ") && words.len() == 7, "bad start line {line:?}\n{}", broker.log());
        broker.addr = words[3].parse().unwrap();
        broker.metrics = words[6].parse().unwrap();
        broker
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn metrics(&self) -> String {
        let addr = self.metrics;
        tokio::task::spawn_blocking(move || Client::new(addr).metrics().unwrap()).await.unwrap()
    }

    /// Waits until `metric{labels}` reaches `at_least`; its value.
    async fn wait_metric(&self, name: &str, labels: &str, at_least: f64) -> f64 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.metrics().await;
            let v = metric(&text, name, labels);
            if v >= at_least {
                return v;
            }
            assert!(Instant::now() < deadline, "{name}{labels} = {v}, expected >= {at_least}\n{text}\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw client connection.
struct Conn {
    io: TcpStream,
    limits: FrameLimits,
}

impl Conn {
    async fn connect(addr: SocketAddr, limits: FrameLimits) -> Conn {
        Conn { io: TcpStream::connect(addr).await.unwrap(), limits }
    }

    /// Answers the challenge with a login by `sk` claiming `node` at `timestamp_ms`; the broker's answer.
    async fn login_with(&mut self, sk: &SecretKey, node: NodeId, timestamp_ms: u64) -> Frame {
        let Frame::Challenge { nonce } = self.recv().await.expect("a challenge") else { panic!("not a challenge") };
        let signature = login::sign_login(sk, &nonce, timestamp_ms, node);
        self.send(&Frame::Login { node, timestamp_ms, signature }).await;
        self.recv().await.expect("an answer to the login")
    }

    async fn send(&mut self, f: &Frame) {
        frame::write(&mut self.io, f).await.unwrap();
    }

    /// The next frame, or `None` if the connection closed; panics after [`PATIENCE`].
    async fn recv(&mut self) -> Option<Frame> {
        match tokio::time::timeout(PATIENCE, frame::read(&mut self.io, &self.limits)).await {
            Ok(Ok(f)) => Some(f),
            Ok(Err(_)) => None,
            Err(_) => panic!("nothing arrived in {PATIENCE:?}"),
        }
    }

    /// Asserts nothing arrives for [`QUIET`].
    async fn nothing(&mut self, who: &str) {
        if let Ok(r) = tokio::time::timeout(QUIET, frame::read(&mut self.io, &self.limits)).await {
            panic!("{who} got {:?}", r.map(|f| format!("{f:?}").chars().take(80).collect::<String>()));
        }
    }

    /// The next frame must be `Deliver{from, bytes}`.
    async fn delivered(&mut self, from: NodeId, bytes: &[u8]) {
        match self.recv().await {
            Some(Frame::Deliver { from: f, bytes: b }) => {
                assert_eq!(f, from);
                assert!(b == bytes, "delivered bytes differ");
            }
            other => panic!("expected a delivery from {from}, got {other:?}"),
        }
    }
}

/// A network, a broker started with `extra` arguments, and every node logged in to it.
async fn everyone(extra: &[&str]) -> (Net, Broker, Vec<Conn>) {
    let net = Net::new();
    let b = net.broker(extra);
    let mut c = Vec::new();
    for i in 0..4 {
        c.push(net.login(b.addr, i).await);
    }
    (net, b, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_checked_against_the_stake_table_and_counted() {
    let net = Net::new();
    let b = net.broker(&[]);
    let _ok = net.login(b.addr, 2).await;
    b.wait_metric("crema_cdn_connected_nodes", "", 1.0).await;

    let mut wrong_key = Conn::connect(b.addr, net.limits).await;
    let answer = wrong_key.login_with(&net.keys[0], 1, login::unix_ms()).await;
    assert!(matches!(answer, Frame::Refused { .. }), "{answer:?}");
    assert!(wrong_key.recv().await.is_none(), "closed after the refusal");

    let stranger = SecretKey::key_gen(&[9; 32], b"").unwrap();
    let mut unknown = Conn::connect(b.addr, net.limits).await;
    assert!(matches!(unknown.login_with(&stranger, 3, login::unix_ms()).await, Frame::Refused { .. }));
    // A node index outside the table is refused before any signature is checked.
    let mut outside = Conn::connect(b.addr, FrameLimits { max_nodes: 5, ..net.limits }).await;
    assert!(matches!(outside.login_with(&stranger, 4, login::unix_ms()).await, Frame::Refused { .. }));

    let mut stale = Conn::connect(b.addr, net.limits).await;
    let answer = stale.login_with(&net.keys[1], 1, login::unix_ms() - 120_000).await;
    assert!(matches!(&answer, Frame::Refused { reason } if reason.contains("clock")), "{answer:?}");

    // Silence: the login window closes after 5 s.
    let mut silent = Conn::connect(b.addr, net.limits).await;
    assert!(matches!(silent.recv().await, Some(Frame::Challenge { .. })));
    assert!(silent.recv().await.is_none(), "a connection that never logs in is closed");

    b.wait_metric("crema_cdn_logins_total", "{kind=\"ok\"}", 1.0).await;
    b.wait_metric("crema_cdn_logins_total", "{kind=\"bad_signature\"}", 2.0).await;
    b.wait_metric("crema_cdn_logins_total", "{kind=\"unknown_node\"}", 1.0).await;
    b.wait_metric("crema_cdn_logins_total", "{kind=\"clock\"}", 1.0).await;
    b.wait_metric("crema_cdn_logins_total", "{kind=\"timeout\"}", 1.0).await;
    assert_eq!(metric(&b.metrics().await, "crema_cdn_connected_nodes", ""), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_logging_in_again_replaces_its_old_connection() {
    let net = Net::new();
    let b = net.broker(&[]);
    let mut old = net.login(b.addr, 0).await;
    let mut new = net.login(b.addr, 0).await;
    assert!(old.recv().await.is_none(), "the old connection is closed");
    let mut other = net.login(b.addr, 1).await;
    other.send(&Frame::Direct { to: vec![0], key: None, bytes: b"hi".to_vec() }).await;
    new.delivered(1, b"hi").await;
    assert_eq!(metric(&b.metrics().await, "crema_cdn_connected_nodes", ""), 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_direct_messages_reach_exactly_their_recipients() {
    let (net, b, mut c) = everyone(&[]).await;

    c[0].send(&Frame::Publish { topic: Topic::Global, key: None, bytes: b"to all".to_vec() }).await;
    for conn in &mut c[1..] {
        conn.delivered(0, b"to all").await;
    }
    c[0].nothing("the sender of a global message").await;

    let (da, non_da) = (net.da(), net.non_da());
    assert_eq!((da.len(), non_da.len()), (2, 2));
    let sender = non_da[0];
    c[usize::from(sender)].send(&Frame::Publish { topic: Topic::DaCommittee, key: None, bytes: b"da".to_vec() }).await;
    for &m in &da {
        c[usize::from(m)].delivered(sender, b"da").await;
    }
    for &n in &non_da {
        c[usize::from(n)].nothing("a node outside the DA committee").await;
    }
    // From a DA member: the other member only.
    c[usize::from(da[0])].send(&Frame::Publish { topic: Topic::DaCommittee, key: None, bytes: b"da2".to_vec() }).await;
    c[usize::from(da[1])].delivered(da[0], b"da2").await;
    c[usize::from(da[0])].nothing("the DA sender").await;

    c[2].send(&Frame::Direct { to: vec![1, 3, 1], key: None, bytes: b"direct".to_vec() }).await;
    c[1].delivered(2, b"direct").await;
    c[3].delivered(2, b"direct").await;
    for conn in &mut c {
        conn.nothing("no one else, and each recipient once").await;
    }
    let text = b.metrics().await;
    assert!(metric(&text, "crema_cdn_frames_total", "{kind=\"in\"}") >= 4.0, "{text}");
    assert!(metric(&text, "crema_cdn_frames_total", "{kind=\"out\"}") >= 3.0 + 2.0 + 1.0 + 2.0, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_message_is_fetched_by_key_and_a_missing_key_answers_none() {
    let (_net, b, mut c) = everyone(&[]).await;
    let key = login::payload_key(&crema_node::consensus::Digest([5; 32]));
    let block = vec![0xAB; 20_000];
    c[0].send(&Frame::Direct { to: vec![1], key: Some(key), bytes: block.clone() }).await;
    c[1].delivered(0, &block).await;
    c[3].send(&Frame::Fetch { id: 77, key }).await;
    assert_eq!(c[3].recv().await, Some(Frame::Fetched { id: 77, bytes: Some(block) }));
    c[3].send(&Frame::Fetch { id: 78, key: [0; 32] }).await;
    assert_eq!(c[3].recv().await, Some(Frame::Fetched { id: 78, bytes: None }));
    b.wait_metric("crema_cdn_cache_hits_total", "", 1.0).await;
    b.wait_metric("crema_cdn_cache_misses_total", "", 1.0).await;
    b.wait_metric("crema_cdn_cache_bytes", "", 20_000.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_forbidden_frames_close_the_connection_and_are_counted() {
    let (net, b, mut c) = everyone(&[]).await;
    // A length over the limit, and no body: refused from the length alone.
    let len = (net.limits.max_frame() + 1) as u32;
    c[0].io.write_all(&len.to_be_bytes()).await.unwrap();
    assert!(c[0].recv().await.is_none(), "closed on an oversized frame");
    b.wait_metric("crema_cdn_limit_hits_total", "{kind=\"frame_size\"}", 1.0).await;

    c[1].send(&Frame::Deliver { from: 2, bytes: b"only brokers deliver".to_vec() }).await;
    assert!(c[1].recv().await.is_none(), "closed on a frame a node may not send");
    b.wait_metric("crema_cdn_protocol_errors_total", "{kind=\"forbidden_frame\"}", 1.0).await;

    c[2].io.write_all(&[0, 0, 0, 3, 1, 2, 3]).await.unwrap();
    assert!(c[2].recv().await.is_none(), "closed on an undecodable frame");
    b.wait_metric("crema_cdn_protocol_errors_total", "{kind=\"bad_frame\"}", 1.0).await;

    // The others are still served.
    c[3].send(&Frame::Fetch { id: 1, key: [1; 32] }).await;
    assert_eq!(c[3].recv().await, Some(Frame::Fetched { id: 1, bytes: None }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_is_disconnected_while_the_others_keep_receiving() {
    let (_net, b, mut c) = everyone(&["--queue-bytes", "3000000"]).await;
    let stalled = c.remove(1);
    const COUNT: usize = 64;
    const SIZE: usize = 512 << 10;
    // The publisher waits for the readers before each message, so only the stalled node's queue grows.
    let received: Arc<Vec<AtomicUsize>> = Arc::new((0..2).map(|_| AtomicUsize::new(0)).collect());
    let readers: Vec<_> = c
        .drain(1..)
        .enumerate()
        .map(|(r, mut conn)| {
            let received = received.clone();
            tokio::spawn(async move {
                for i in 0..COUNT {
                    match conn.recv().await {
                        Some(Frame::Deliver { from: 0, bytes }) => assert_eq!(bytes, vec![i as u8; SIZE]),
                        other => panic!("message {i}: {:?}", other.map(|f| format!("{f:?}").len())),
                    }
                    received[r].store(i + 1, Ordering::Release);
                }
                conn
            })
        })
        .collect();
    for i in 0..COUNT {
        let deadline = Instant::now() + PATIENCE;
        while received.iter().any(|r| r.load(Ordering::Acquire) < i) {
            assert!(Instant::now() < deadline, "the readers stopped at {received:?}\n{}", b.log());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        c[0].send(&Frame::Publish { topic: Topic::Global, key: None, bytes: vec![i as u8; SIZE] }).await;
    }
    let mut kept = Vec::new();
    for r in readers {
        kept.push(r.await.unwrap());
    }
    b.wait_metric("crema_cdn_limit_hits_total", "{kind=\"slow_reader\"}", 1.0).await;
    assert_eq!(metric(&b.metrics().await, "crema_cdn_connected_nodes", ""), 3.0, "the stalled node is gone");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupting_broker_changes_big_messages_only() {
    let (_net, b, mut c) = everyone(&["--misbehave", "corrupt"]).await;
    let big = vec![3u8; 4096];
    c[0].send(&Frame::Direct { to: vec![1], key: Some([4; 32]), bytes: big.clone() }).await;
    let Some(Frame::Deliver { from: 0, bytes }) = c[1].recv().await else { panic!("no delivery") };
    assert_eq!(bytes.len(), big.len());
    assert_eq!(bytes.iter().zip(&big).filter(|(a, b)| a != b).count(), 1, "one byte flipped");
    c[2].send(&Frame::Fetch { id: 1, key: [4; 32] }).await;
    let Some(Frame::Fetched { id: 1, bytes: Some(fetched) }) = c[2].recv().await else { panic!("no answer") };
    assert_ne!(fetched, big, "fetched answers are corrupted too");
    c[0].send(&Frame::Direct { to: vec![1], key: None, bytes: b"small".to_vec() }).await;
    c[1].delivered(0, b"small").await;
    b.wait_metric("crema_cdn_misbehaviour_total", "{kind=\"corrupt\"}", 2.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forging_broker_injects_copies_claiming_another_sender() {
    let (_net, b, mut c) = everyone(&["--misbehave", "forge"]).await;
    let message: Vec<u8> = (0..100).collect();
    c[0].send(&Frame::Direct { to: vec![2], key: None, bytes: message.clone() }).await;
    c[2].delivered(0, &message).await;
    let Some(Frame::Deliver { from, bytes }) = c[2].recv().await else { panic!("no forged copy") };
    assert_ne!(from, 0, "the copy claims another sender");
    assert_eq!(bytes[..8], message[..8]);
    assert_ne!(bytes, message);
    b.wait_metric("crema_cdn_misbehaviour_total", "{kind=\"forge\"}", 1.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropping_broker_drops_about_a_third_and_counts_them() {
    let (_net, b, mut c) = everyone(&["--misbehave", "drop"]).await;
    const SENT: usize = 90;
    for i in 0..SENT {
        c[0].send(&Frame::Direct { to: vec![1], key: None, bytes: vec![i as u8] }).await;
    }
    // A fetch answer is never dropped: it marks the end of what the broker will deliver.
    c[0].send(&Frame::Direct { to: vec![1], key: Some([1; 32]), bytes: b"end".to_vec() }).await;
    let mut got = 0;
    let mut last = None;
    loop {
        c[1].send(&Frame::Fetch { id: 1, key: [1; 32] }).await;
        match c[1].recv().await {
            Some(Frame::Deliver { from: 0, bytes }) if bytes.len() == 1 => {
                assert!(last < Some(bytes[0]), "in order, each once");
                last = Some(bytes[0]);
                got += 1;
            }
            Some(Frame::Deliver { .. }) => {}
            Some(Frame::Fetched { bytes: Some(_), .. }) => break,
            Some(Frame::Fetched { bytes: None, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!((SENT / 6..SENT * 5 / 6).contains(&got), "{got} of {SENT} delivered");
    let dropped = b.wait_metric("crema_cdn_misbehaviour_total", "{kind=\"drop\"}", 1.0).await;
    // Every missing message is counted (and the end marker's delivery, if it was dropped too).
    let missing = (SENT - got) as f64;
    assert!(dropped == missing || dropped == missing + 1.0, "{dropped} counted, {missing} missing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delaying_broker_holds_every_frame_in_order() {
    let (_net, _b, mut c) = everyone(&["--misbehave", "delay=300"]).await;
    let start = Instant::now();
    for i in 0..3u8 {
        c[0].send(&Frame::Direct { to: vec![1], key: None, bytes: vec![i] }).await;
    }
    for i in 0..3u8 {
        c[1].delivered(0, &[i]).await;
    }
    assert!(start.elapsed() >= Duration::from_millis(300), "delivered after {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_broker_cleanly() {
    let net = Net::new();
    let mut b = net.broker(&[]);
    let _c = net.login(b.addr, 0).await;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(b.child.id() as i32, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(s) = b.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM\n{}", b.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}\n{}", b.log());
}

/// A `redis-server` on a free port, killed when dropped; `None` when it is not installed.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let redis = Redis { child, port };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_brokers_with_redis_discovery_carry_publish_direct_and_fetch_across() {
    let Some(redis) = Redis::start() else {
        eprintln!("=== SKIP two_brokers_with_redis_discovery: redis-server is not on PATH (.ci/run installs it) ===");
        return;
    };
    let net = Net::new();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let a = net.broker(&["--discovery", &url, "--broker-id", "a"]);
    let b = net.broker(&["--discovery", &url, "--broker-id", "b"]);
    let mut c = vec![
        net.login(a.addr, 0).await,
        net.login(a.addr, 1).await,
        net.login(b.addr, 2).await,
        net.login(b.addr, 3).await,
    ];
    a.wait_metric("crema_cdn_broker_links", "", 1.0).await;
    b.wait_metric("crema_cdn_broker_links", "", 1.0).await;

    let key = [6; 32];
    c[0].send(&Frame::Publish { topic: Topic::Global, key: Some(key), bytes: b"everyone".to_vec() }).await;
    for conn in &mut c[1..] {
        conn.delivered(0, b"everyone").await;
    }
    c[0].nothing("the sender, through the other broker").await;
    // Broker b cached what it was forwarded.
    c[3].send(&Frame::Fetch { id: 9, key }).await;
    assert_eq!(c[3].recv().await, Some(Frame::Fetched { id: 9, bytes: Some(b"everyone".to_vec()) }));

    c[0].send(&Frame::Publish { topic: Topic::DaCommittee, key: None, bytes: b"da".to_vec() }).await;
    for m in net.da().into_iter().filter(|&m| m != 0) {
        c[usize::from(m)].delivered(0, b"da").await;
    }
    for n in net.non_da().into_iter().filter(|&n| n != 0) {
        c[usize::from(n)].nothing("a non-DA node on either broker").await;
    }

    c[1].send(&Frame::Direct { to: vec![3, 0], key: None, bytes: b"direct".to_vec() }).await;
    c[0].delivered(1, b"direct").await;
    c[3].delivered(1, b"direct").await;
    c[3].send(&Frame::Direct { to: vec![1], key: None, bytes: b"back".to_vec() }).await;
    c[1].delivered(3, b"back").await;
    for conn in &mut c {
        conn.nothing("nobody else").await;
    }
    b.wait_metric("crema_cdn_forwards_total", "{kind=\"in\"}", 3.0).await;
    a.wait_metric("crema_cdn_forwards_total", "{kind=\"in\"}", 1.0).await;

    // A broker that is not registered cannot join the mesh.
    let mut intruder = Conn::connect(a.addr, net.limits).await;
    assert!(matches!(intruder.recv().await, Some(Frame::Challenge { .. })));
    intruder.send(&Frame::BrokerHello { broker: "intruder".into() }).await;
    assert!(matches!(intruder.recv().await, Some(Frame::Refused { .. })));
    a.wait_metric("crema_cdn_logins_total", "{kind=\"unknown_broker\"}", 1.0).await;
}
