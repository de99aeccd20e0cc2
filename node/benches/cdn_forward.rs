//! One Cocoa broker's forwarding rate: one publisher, three receivers, 1 MiB messages on 127.0.0.1, the broker
//! embedded in this process ([`crema_node::cdn::BoundBroker`]) on a 2-thread tokio runtime shared with the
//! clients. Throughput counts the bytes *delivered* (3 MiB per message published).
//!
//! `cargo bench -p crema-node --bench cdn_forward -- --warm-up-time 1 --measurement-time 5`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crema_engine::bls::SecretKey;
use crema_node::cdn::frame::{self, Frame, FrameLimits, Topic};
use crema_node::cdn::{BoundBroker, BrokerConfig};
use crema_node::consensus::VidParams;
use crema_node::keys::NodeKeys;
use crema_node::net::cocoa::log_in;
use crema_node::network_file::{NetworkFile, NetworkParams};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

const MESSAGE: usize = 1 << 20;
/// Messages published per timed batch (pipelined: the publisher does not wait for each).
const BATCH: u64 = 16;
const RECEIVERS: usize = 3;

fn network(n: usize) -> (NetworkFile, Vec<SecretKey>) {
    let keys: Vec<NodeKeys> = (0..n).map(|_| NodeKeys::generate()).collect();
    let nodes = keys
        .iter()
        .enumerate()
        .map(|(i, k)| k.entry(1, i < 2, format!("/ip4/127.0.0.1/tcp/{}", 9000 + i).parse().unwrap(), None))
        .collect();
    let params = NetworkParams::new(2000, 4 << 20, VidParams::default()).unwrap();
    (NetworkFile { params, nodes }, keys.into_iter().map(|k| k.bls).collect())
}

async fn connect(addr: SocketAddr, limits: &FrameLimits, sk: &SecretKey, node: u16) -> TcpStream {
    let mut io = TcpStream::connect(addr).await.unwrap();
    io.set_nodelay(true).unwrap();
    log_in(&mut io, node, sk, limits).await.unwrap();
    io
}

fn forward(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (network, keys) = network(1 + RECEIVERS);
    let cfg = BrokerConfig::new("127.0.0.1:0".parse().unwrap(), network);
    let limits = cfg.frame_limits();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (mut publisher, mut delivered) = rt.block_on(async {
        let bound = BoundBroker::bind(cfg).await.unwrap();
        let addr = bound.local_addr().unwrap();
        tokio::spawn(bound.run(stop_rx));
        let publisher = connect(addr, &limits, &keys[0], 0).await;
        let (tx, rx) = mpsc::unbounded_channel();
        for (i, sk) in keys.iter().enumerate().skip(1) {
            let mut io = connect(addr, &limits, sk, i as u16).await;
            let tx = tx.clone();
            tokio::spawn(async move {
                // Read raw bodies: the receiver's cost is the copy out of the socket, as a node's would be.
                while let Ok(body) = frame::read_raw(&mut io, &limits).await {
                    let _ = tx.send(body.len());
                }
            });
        }
        (publisher, rx)
    });
    let message = vec![0x5A; MESSAGE];
    let mut group = c.benchmark_group("cdn_forward");
    group.throughput(Throughput::Bytes(BATCH * (RECEIVERS * MESSAGE) as u64));
    group.sample_size(10);
    group.bench_function("1_publisher_3_receivers_1MiB", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    for _ in 0..BATCH {
                        let f = Frame::Publish { topic: Topic::Global, key: None, bytes: message.clone() };
                        frame::write(&mut publisher, &f).await.unwrap();
                    }
                    for _ in 0..BATCH as usize * RECEIVERS {
                        let n = tokio::time::timeout(Duration::from_secs(30), delivered.recv()).await.unwrap().unwrap();
                        assert!(n > MESSAGE, "a delivery carries the whole message");
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    let _ = stop_tx.send(true);
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotting needs system fonts this machine does not have.
    config = Criterion::default().without_plots();
    targets = forward
}
criterion_main!(benches);
