//! In-process tests of the libp2p transport: real TCP + noise + yamux on 127.0.0.1 with port 0, every test
//! bounded by `tokio::time::timeout`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use tokio::time::{sleep, timeout};

use super::*;
use crate::net::network::Class;

/// Bound on every test.
const LIMIT: Duration = Duration::from_secs(60);
/// Frame limit of the test networks (a 3 MB bulk message fits).
const MAX: usize = 4 << 20;

fn quick(mut cfg: P2pConfig) -> P2pConfig {
    cfg.backoff = Backoff { initial: Duration::from_millis(50), max: Duration::from_millis(500) };
    cfg.request_timeout = Duration::from_secs(10);
    cfg
}

/// `n` identities with `n` free listen ports, reserved by binding and releasing them (the nodes must know each
/// other's addresses before they start).
fn identities(n: usize) -> Vec<(Keypair, Multiaddr)> {
    (0..n)
        .map(|_| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            (Keypair::generate_ed25519(), format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap())
        })
        .collect()
}

fn peers(ids: &[(Keypair, Multiaddr)]) -> Vec<Peer> {
    let node = |i: usize| NodeId::try_from(i).unwrap();
    ids.iter()
        .enumerate()
        .map(|(i, (k, addr))| Peer { node: node(i), peer_id: k.public().to_peer_id(), addr: addr.clone() })
        .collect()
}

fn config(ids: &[(Keypair, Multiaddr)], me: usize, max: usize) -> P2pConfig {
    let (key, addr) = &ids[me];
    quick(P2pConfig::new(key.clone(), me as NodeId, addr.clone(), peers(ids), max))
}

async fn start_all(ids: &[(Keypair, Multiaddr)]) -> Vec<P2p> {
    let mut nets = Vec::new();
    for i in 0..ids.len() {
        nets.push(P2p::start(config(ids, i, MAX)).await.unwrap());
    }
    nets
}

/// Waits until `cond` holds of the transport's stats.
async fn until(net: &P2p, what: &str, cond: impl Fn(&P2pStats) -> bool) {
    let waited = timeout(Duration::from_secs(20), async {
        while !cond(&net.stats()) {
            sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}: {:?}", net.stats());
}

/// Waits until every transport is connected to (and has a gossip subscription from) every other one.
async fn meshed(nets: &[P2p]) {
    let others = nets.len() as u64 - 1;
    for net in nets {
        until(net, "a full mesh", |s| s.peers_connected == others && s.gossip_peers == others).await;
    }
}

async fn next(net: &mut P2p) -> Inbound {
    timeout(Duration::from_secs(20), net.recv()).await.expect("a message in time").expect("transport open")
}

/// Nothing more arrives within a short while.
async fn quiet(net: &mut P2p) {
    if let Ok(msg) = timeout(Duration::from_millis(500), net.recv()).await {
        panic!("unexpected message: {:?}", msg.map(|m| (m.via, m.bytes.len())));
    }
}

fn msg(class: Class, bytes: Vec<u8>) -> Outbound {
    Outbound { class, bytes: Arc::new(bytes) }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// Receives `n` messages and returns them by content.
async fn collect(net: &mut P2p, n: usize) -> HashMap<Vec<u8>, Option<NodeId>> {
    let mut got = HashMap::new();
    for _ in 0..n {
        let m = next(net).await;
        got.insert(m.bytes, m.via);
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_broadcast_small_and_bulk_and_send() {
    timeout(LIMIT, async {
        let ids = identities(3);
        let mut nets = start_all(&ids).await;
        meshed(&nets).await;
        for (i, net) in nets.iter().enumerate() {
            assert_eq!(net.listen_addrs(), vec![ids[i].1.clone()]);
            assert_eq!(net.local_peer_id(), ids[i].0.public().to_peer_id());
        }

        // Node 0 broadcasts a small message (gossip) and a 3 MB bulk one (pushes), from a cloned sender.
        let small = pattern(300, 1);
        let bulk = pattern(3_000_000, 2);
        let sender = nets[0].sender();
        sender.broadcast(msg(Class::Small, small.clone())).unwrap();
        sender.broadcast(msg(Class::Bulk, bulk.clone())).unwrap();
        for (i, net) in nets.iter_mut().enumerate() {
            let got = collect(net, 2).await;
            // Gossip may reach a node through another peer's forward: `via` names the peer that relayed it.
            let relay = got.get(&small).copied().flatten();
            let ok = if i == 0 { relay == Some(0) } else { relay.is_some_and(|v| usize::from(v) != i) };
            assert!(ok, "small broadcast at node {i}: delivered via {relay:?}");
            assert_eq!(got.get(&bulk), Some(&Some(0)), "bulk broadcast whole, pushed by node 0");
        }

        // Point to point: 1 -> 2 (small and bulk both pushed), 2 -> 2 (local).
        nets[1].send(2, msg(Class::Small, pattern(40, 3))).unwrap();
        nets[1].send(2, msg(Class::Bulk, pattern(100_000, 4))).unwrap();
        nets[2].send(2, msg(Class::Small, pattern(10, 5))).unwrap();
        let got = collect(&mut nets[2], 3).await;
        assert_eq!(got.get(&pattern(40, 3)), Some(&Some(1)));
        assert_eq!(got.get(&pattern(100_000, 4)), Some(&Some(1)));
        assert_eq!(got.get(&pattern(10, 5)), Some(&Some(2)));
        for net in nets.iter_mut().take(2) {
            quiet(net).await; // the sends went to node 2 only
        }
        assert_eq!(nets[0].send(7, msg(Class::Small, vec![1])), Err(NetError::UnknownPeer(7)));

        let acked = FlowStats { msgs: 2, bytes: 2 * bulk.len() as u64 };
        until(&nets[0], "one bulk push per peer acknowledged", |s| s.sent_bulk == acked).await;
        assert_eq!(nets[0].stats().sent_small, FlowStats { msgs: 1, bytes: small.len() as u64 }, "one publish");
        let s2 = nets[2].stats();
        assert_eq!(s2.received_bulk, FlowStats { msgs: 2, bytes: (bulk.len() + 100_000) as u64 });
        assert_eq!(s2.received_small.msgs, 2, "the gossip from 0 and the push from 1: {s2:?}");
        for net in &nets {
            let s = net.stats();
            assert_eq!((s.dropped_queue_full, s.send_failures, s.frames_refused, s.connections_refused), (0, 0, 0, 0));
        }
        for net in nets {
            net.shutdown().await;
        }
    })
    .await
    .expect("test within its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_message_over_the_gossip_limit_is_pushed_not_dropped() {
    timeout(LIMIT, async {
        let ids = identities(2);
        let mut nets = start_all(&ids).await;
        meshed(&nets).await;
        let big = pattern(behaviour::GOSSIP_MAX_TRANSMIT + 10, 6);
        nets[0].broadcast(msg(Class::Small, big.clone())).unwrap();
        let got = next(&mut nets[1]).await;
        assert_eq!((got.via, got.bytes == big), (Some(0), true));
        assert_eq!(next(&mut nets[0]).await.bytes, big, "local delivery");
        until(&nets[0], "the push acknowledged", |s| s.sent_small.msgs == 1).await;
        assert_eq!(nets[0].stats().gossip_fallbacks, 1);
        // A repeat of a message gossip already carried (gossip would refuse it as a duplicate) still arrives.
        let vote = pattern(64, 7);
        for _ in 0..2 {
            nets[0].broadcast(msg(Class::Small, vote.clone())).unwrap();
            assert_eq!(next(&mut nets[1]).await.bytes, vote);
            assert_eq!(next(&mut nets[0]).await.bytes, vote);
        }
        assert_eq!(nets[0].stats().gossip_fallbacks, 2, "the repeat went by push");
        for net in nets {
            net.shutdown().await;
        }
    })
    .await
    .expect("test within its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_size_frames_are_refused_and_counted() {
    timeout(LIMIT, async {
        let ids = identities(2);
        // Node 0 may send up to MAX; node 1 accepts frames of at most 1 MiB.
        let mut a = P2p::start(config(&ids, 0, MAX)).await.unwrap();
        let mut b = P2p::start(config(&ids, 1, 1 << 20)).await.unwrap();
        until(&a, "connected", |s| s.peers_connected == 1).await;
        until(&b, "connected", |s| s.peers_connected == 1).await;

        a.send(1, msg(Class::Bulk, pattern((1 << 20) + 1, 8))).unwrap();
        until(&b, "the frame refused", |s| s.frames_refused == 1).await;
        until(&a, "the push failed", |s| s.send_failures == 1).await;
        // Refusing a frame does not stop the peer from delivering the next (within the limit).
        a.send(1, msg(Class::Bulk, pattern(1 << 20, 9))).unwrap();
        assert_eq!(next(&mut b).await.bytes, pattern(1 << 20, 9));
        assert_eq!(b.stats().received_bulk.msgs, 1);

        // This side refuses to send over its own limit.
        let err = b.send(0, msg(Class::Bulk, vec![0; (1 << 20) + 1])).unwrap_err();
        assert_eq!(err, NetError::TooLarge { len: (1 << 20) + 1, max: 1 << 20 });
        assert_eq!(b.stats().dropped_over_size, 1);
        quiet(&mut a).await;
        a.shutdown().await;
        b.shutdown().await;
    })
    .await
    .expect("test within its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_outside_the_allowlist_delivers_nothing_and_is_refused() {
    timeout(LIMIT, async {
        let mut ids = identities(4);
        let intruder_id = ids.pop().unwrap();
        let mut nets = start_all(&ids).await;
        meshed(&nets).await;
        // The intruder knows the three (and lists them as its peers under the next index), they do not know it.
        let mut everyone = ids.clone();
        everyone.push(intruder_id);
        let mut intruder = P2p::start(config(&everyone, 3, MAX)).await.unwrap();
        for net in &nets {
            until(net, "the intruder refused", |s| s.connections_refused >= 1).await;
        }
        for _ in 0..5 {
            // Whatever it manages to queue, nothing may arrive.
            let _ = intruder.broadcast(msg(Class::Small, pattern(100, 10)));
            let _ = intruder.broadcast(msg(Class::Bulk, pattern(10_000, 11)));
            for to in 0..3 {
                let _ = intruder.send(to, msg(Class::Bulk, pattern(50, 12)));
            }
            sleep(Duration::from_millis(100)).await;
        }
        for net in nets.iter_mut() {
            quiet(net).await;
            let s = net.stats();
            assert_eq!((s.received_small.msgs, s.received_bulk.msgs), (0, 0), "{s:?}");
            assert_eq!(s.peers_connected, 2, "the intruder is not a connected peer: {s:?}");
        }
        assert_eq!(intruder.stats().sent_bulk.msgs, 0, "no push was acknowledged");
        // Its own broadcasts are still delivered to itself.
        assert_eq!(next(&mut intruder).await.bytes, pattern(100, 10));
        intruder.shutdown().await;
        for net in nets {
            net.shutdown().await;
        }
    })
    .await
    .expect("test within its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_peer_is_dialled_when_it_comes_up_and_shutdown_is_graceful() {
    timeout(LIMIT, async {
        let ids = identities(3);
        let mut early =
            vec![P2p::start(config(&ids, 0, MAX)).await.unwrap(), P2p::start(config(&ids, 1, MAX)).await.unwrap()];
        meshed(&early).await;
        sleep(Duration::from_millis(600)).await; // several failed dials of node 2: its backoff is at the cap
        assert_eq!(early[0].stats().peers_connected, 1);
        // Node 2 allows the others but has no usable address for them (its own dials fail): only their redials
        // can connect it.
        let mut cfg = config(&ids, 2, MAX);
        for p in cfg.peers.iter_mut().filter(|p| p.node != 2) {
            p.addr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        }
        let mut late = P2p::start(cfg).await.unwrap();
        for net in [&early[0], &early[1], &late] {
            until(net, "a full mesh with the late peer", |s| s.peers_connected == 2 && s.gossip_peers == 2).await;
        }
        early[0].broadcast(msg(Class::Bulk, pattern(1000, 13))).unwrap();
        assert_eq!(next(&mut late).await.bytes, pattern(1000, 13));
        late.broadcast(msg(Class::Small, pattern(20, 14))).unwrap();
        for (i, net) in early.iter_mut().enumerate() {
            let got = collect(net, 2).await;
            // Straight from the late peer, or forwarded by the other early one.
            let relay = got.get(&pattern(20, 14)).copied().flatten();
            assert!(relay.is_some_and(|v| usize::from(v) != i), "gossip from the late peer at {i}: via {relay:?}");
        }

        // Graceful shutdown: a push queued just before still leaves; then senders see the transport closed.
        let sender = late.sender();
        sender.send(1, msg(Class::Bulk, pattern(2000, 15))).unwrap();
        late.shutdown().await;
        assert_eq!(next(&mut early[1]).await.bytes, pattern(2000, 15));
        assert_eq!(sender.send(1, msg(Class::Small, vec![1])), Err(NetError::Closed));
        until(&early[0], "the late peer gone", |s| s.peers_connected == 1).await;
        for net in early {
            net.shutdown().await;
        }
    })
    .await
    .expect("test within its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latency_drill_holds_every_message_sent_for_its_delay() {
    timeout(LIMIT, async {
        let ids = identities(2);
        let mut nets = start_all(&ids).await;
        meshed(&nets).await;
        let delay = Duration::from_millis(200);
        let sender = nets[0].sender();
        sender.set_latency(delay);
        let sent = std::time::Instant::now();
        let small = pattern(100, 16);
        let bulk = pattern(200_000, 17);
        sender.send(1, msg(Class::Small, small.clone())).unwrap();
        sender.broadcast(msg(Class::Bulk, bulk.clone())).unwrap();
        sender.broadcast(msg(Class::Small, pattern(50, 18))).unwrap();
        // The node's own copies do not leave it: they do not wait.
        let mine = collect(&mut nets[0], 2).await;
        assert!(mine.contains_key(&bulk) && mine.contains_key(&pattern(50, 18)));
        // Push, bulk broadcast and gossip each reach the peer no sooner than the delay.
        let got = collect(&mut nets[1], 3).await;
        let waited = sent.elapsed();
        assert!(got.contains_key(&small) && got.contains_key(&bulk) && got.contains_key(&pattern(50, 18)));
        assert!(waited >= delay, "three messages arrived after {waited:?}, under the {delay:?} delay");

        // Off again: the next message does not wait (what is still queued would have gone first).
        sender.set_latency(Duration::ZERO);
        sender.send(1, msg(Class::Small, pattern(10, 19))).unwrap();
        assert_eq!(next(&mut nets[1]).await.bytes, pattern(10, 19));
        assert_eq!(nets[0].stats().dropped_queue_full, 0);
        for net in nets {
            net.shutdown().await;
        }
    })
    .await
    .expect("test within its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configurations_fail_early() {
    let ids = identities(2);
    let mut cfg = config(&ids, 0, MAX);
    cfg.queue = 0;
    assert!(matches!(P2p::start(cfg).await, Err(P2pError::Config { field: "queue", .. })));
    let mut cfg = config(&ids, 0, MAX);
    cfg.peers[1].peer_id = PeerId::random();
    cfg.peers.push(Peer { node: 5, ..cfg.peers[1].clone() });
    assert!(matches!(P2p::start(cfg).await, Err(P2pError::DuplicatePeer(_))));
    // The port is taken by the first transport.
    let first = P2p::start(config(&ids, 0, MAX)).await.unwrap();
    assert!(matches!(P2p::start(config(&ids, 0, MAX)).await, Err(P2pError::Listen { .. })));
    first.shutdown().await;
}
