//! Cocoa for real: `crema cdn` broker processes and `crema node` processes on 127.0.0.1 (libp2p, redb, HTTP), made
//! by `crema init --cdn`. The broker carries each block once; killed, the nodes fall back to libp2p and return to
//! it when it is back; lying, it is caught by the nodes' checks and costs only the fast path; two brokers share a
//! network through Redis. Each test starts its own network and stops it; the two that count resends or bound a time
//! run alone (`crate::machine`).

use std::time::{Duration, Instant};

use crema_node::devnet::client::{Client, metric, metric_total};
use crema_node::devnet::cluster::{Cluster, ClusterSpec};

use crate::network::{start, wait_height};

fn spec(brokers: usize, misbehave: Option<&str>) -> ClusterSpec {
    ClusterSpec {
        nodes: 4,
        da_committee: 3,
        cdn_brokers: brokers,
        cdn_misbehave: misbehave.map(str::to_string),
        backend: Some("cpu".into()),
        ..ClusterSpec::default()
    }
}

/// The lowest decided height among `nodes`.
fn min_height(c: &Cluster, nodes: &[usize]) -> u64 {
    nodes.iter().map(|&i| c.client(i).height().unwrap_or(0)).min().unwrap_or(0)
}

/// Waits until `cond` holds, or fails with `what`.
fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Submits `count` transactions of `bytes` bytes, spread over the nodes.
fn submit(c: &Cluster, count: usize, bytes: usize, tag: u8) {
    for k in 0..count {
        let mut tx = vec![tag; bytes];
        tx[..8].copy_from_slice(&(k as u64).to_le_bytes());
        c.client(k % c.nodes.len()).submit(1 + (k % 3) as u64, &tx).unwrap();
    }
}

/// Every node holds the same header at each height up to the lowest node's top: no block lost, no fork.
fn assert_agree(c: &Cluster) {
    let all: Vec<usize> = (0..c.nodes.len()).collect();
    let top = min_height(c, &all);
    assert!(top > 0);
    for h in 1..=top {
        let hashes: Vec<String> = all
            .iter()
            .map(|&i| {
                let v = c.client(i).header(h).unwrap().unwrap_or_else(|| panic!("node {i} lost height {h}"));
                v["header"]["hash"].as_str().unwrap().to_string()
            })
            .collect();
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "height {h}: {hashes:?}");
    }
}

fn sum_over(c: &Cluster, name: &str, labels: &str) -> f64 {
    (0..c.nodes.len()).map(|i| metric(&c.client(i).metrics().unwrap(), name, labels)).sum()
}

fn total_over(c: &Cluster, name: &str) -> f64 {
    (0..c.nodes.len()).map(|i| metric_total(&c.client(i).metrics().unwrap(), name)).sum()
}

fn cdn_connected(client: &Client) -> bool {
    client.status().is_ok_and(|s| s["cdn"]["connected"].as_bool() == Some(true))
}

#[test]
fn the_broker_carries_each_block_once_not_once_per_node() {
    // Counts resends, which a loaded machine makes more of.
    let _machine = crate::machine::alone();
    // A 2.5 s view timeout: a dispersal is resent over libp2p after 250 ms without a DA certificate (DESIGN §5),
    // which a loaded 2-core machine meets for blocks of a few hundred kilobytes.
    let (_dir, c) = start(ClusterSpec { view_timeout_ms: 2500, ..spec(1, None) });
    let all = [0, 1, 2, 3];
    wait_until("every node logged in to the broker", Duration::from_secs(15), || {
        all.iter().all(|&i| cdn_connected(&c.client(i)))
    });
    // Past the first views (connections warming up, first-use tables), then a steady load.
    wait_height(&c, &all, 3, Duration::from_secs(30));
    let before = metric(&c.client(0).metrics().unwrap(), "crema_decided_payload_bytes_total", "");
    for round in 0..12 {
        submit(&c, 4, 32 << 10, round);
        std::thread::sleep(Duration::from_millis(250));
    }
    let h = min_height(&c, &all);
    wait_height(&c, &all, h + 8, Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    assert_agree(&c);

    let payload = metric(&c.client(0).metrics().unwrap(), "crema_decided_payload_bytes_total", "");
    assert!(payload - before >= 1e6, "48 transactions of 32 KiB were decided: {payload}");
    let path = |layer: &str, p: &str| {
        sum_over(&c, "crema_transport_bytes_total", &format!("{{layer=\"{layer}\",path=\"{p}\"}}"))
    };
    let (cdn, p2p) = (path("mascarpone", "cdn"), path("mascarpone", "p2p"));
    // Each block went up to the broker once (blocks proposed but not decided add a little); over libp2p alone the
    // leader would send one copy per other DA member (2 here).
    assert!(
        cdn >= 0.9 * payload && cdn <= 1.5 * payload,
        "DA payload bytes through the CDN {cdn} vs decided {payload}"
    );
    // Resends (no DA certificate within 250 ms, which a loaded machine misses now and then) stay below one more
    // copy of what went through the broker.
    assert!(p2p <= cdn, "DA payload bytes resent over libp2p {p2p} vs through the CDN {cdn}");
    assert!(path("savoiardi", "cdn") > 0.0, "shares go through the broker too");
    // Small messages went both ways: the second copies were dropped.
    assert!(total_over(&c, "crema_duplicate_messages_total") > 0.0);
}

#[test]
fn a_killed_broker_costs_at_most_two_view_timeouts_and_the_nodes_return_to_it() {
    // A time bound.
    let _machine = crate::machine::alone();
    let (_dir, mut c) = start(spec(1, None));
    let all = [0, 1, 2, 3];
    wait_until("every node logged in to the broker", Duration::from_secs(15), || {
        all.iter().all(|&i| cdn_connected(&c.client(i)))
    });
    submit(&c, 16, 16 << 10, 1);
    wait_height(&c, &all, 3, Duration::from_secs(30));

    c.kill_broker(0);
    let killed = Instant::now();
    let h = c.client(0).height().unwrap();
    submit(&c, 16, 16 << 10, 2);
    // The view timeout is 1 s: the next block within two of them (plus the poll).
    wait_height(&c, &[0], h + 1, Duration::from_millis(2500));
    let first_block = killed.elapsed();
    wait_height(&c, &all, h + 5, Duration::from_secs(30));
    assert!(all.iter().all(|&i| !cdn_connected(&c.client(i))));

    c.start_broker(0).unwrap();
    wait_until("every node logged in to the restarted broker", Duration::from_secs(15), || {
        all.iter().all(|&i| cdn_connected(&c.client(i)))
    });
    let h = min_height(&c, &all);
    submit(&c, 16, 16 << 10, 3);
    wait_height(&c, &all, h + 5, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(1));
    assert_agree(&c);
    eprintln!("first block after the broker died: {first_block:?}");
}

/// A broker that lies: the network keeps deciding, agrees, and (for `corrupt` and `forge`) counts bad messages.
fn lying_broker(kind: &str, expect_bad: bool) {
    let (_dir, c) = start(spec(1, Some(kind)));
    let all = [0, 1, 2, 3];
    wait_until("every node logged in to the broker", Duration::from_secs(15), || {
        all.iter().all(|&i| cdn_connected(&c.client(i)))
    });
    submit(&c, 24, 16 << 10, 9);
    let h = min_height(&c, &all);
    wait_height(&c, &all, h + 6, Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1));
    assert_agree(&c);
    let payload = metric(&c.client(0).metrics().unwrap(), "crema_decided_payload_bytes_total", "");
    assert!(payload > 0.0, "{kind}: transactions were decided");
    let bad = total_over(&c, "crema_bad_messages_total");
    if expect_bad {
        assert!(bad >= 1.0, "{kind}: the broker's lies were caught and counted");
    }
    eprintln!("--misbehave {kind}: {bad} bad messages counted");
}

#[test]
fn a_corrupting_or_forging_broker_is_caught_and_costs_only_the_fast_path() {
    let _machine = crate::machine::shared();
    lying_broker("corrupt", true);
    lying_broker("forge", true);
}

#[test]
fn a_dropping_or_slow_broker_slows_only_the_fast_path() {
    let _machine = crate::machine::shared();
    lying_broker("drop", false);
    lying_broker("delay=2000", false);
}

#[test]
fn two_brokers_share_a_network_through_redis_and_take_over_each_others_nodes() {
    let _machine = crate::machine::shared();
    if std::process::Command::new("redis-server").arg("--version").output().is_err() {
        eprintln!("SKIP: redis-server is not on PATH (apt-get install redis-server); .ci/run installs it");
        return;
    }
    let (_dir, mut c) = start(spec(2, None));
    let all = [0, 1, 2, 3];
    wait_until("every node logged in to a broker", Duration::from_secs(15), || {
        all.iter().all(|&i| cdn_connected(&c.client(i)))
    });
    let connected = |c: &Cluster, j: usize| {
        c.broker_client(j).metrics().map_or(0.0, |m| metric(&m, "crema_cdn_connected_nodes", ""))
    };
    assert_eq!((connected(&c, 0), connected(&c, 1)), (2.0, 2.0), "node i starts on broker i mod 2");
    submit(&c, 16, 16 << 10, 4);
    let h = min_height(&c, &all);
    wait_height(&c, &all, h + 5, Duration::from_secs(30));
    // Blocks crossed between the brokers: each broker forwarded what its own nodes published.
    let forwarded: f64 =
        (0..2).map(|j| metric_total(&c.broker_client(j).metrics().unwrap(), "crema_cdn_forwards_total")).sum();
    assert!(forwarded > 0.0, "the brokers forwarded to each other");

    c.kill_broker(0);
    wait_until("broker 0's nodes moved to broker 1", Duration::from_secs(20), || {
        connected(&c, 1) == 4.0 && all.iter().all(|&i| cdn_connected(&c.client(i)))
    });
    let h = min_height(&c, &all);
    submit(&c, 16, 16 << 10, 5);
    wait_height(&c, &all, h + 5, Duration::from_secs(30));
    assert_agree(&c);
}
