//! The node process for real: separate `crema node` processes on 127.0.0.1 with libp2p, redb files and the HTTP
//! API, made by `crema init`. Each test starts its own network and stops it; networks share the machine with the
//! other tests (`crate::machine`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crema_engine::BackendChoice;
use crema_engine::vid::{Codec, NamespaceProof, SchemeKind, verify_namespace};
use crema_node::consensus::SYNC_GAP;
use crema_node::devnet::client::{Client, metric, metric_total};
use crema_node::devnet::cluster::ClusterSpec;

use crate::network::{start, wait_height};
use serde_json::Value;

fn hash_at(client: &Client, height: u64) -> String {
    let h = client.header(height).unwrap().unwrap_or_else(|| panic!("no header at {height}"));
    h["header"]["hash"].as_str().unwrap().to_string()
}

/// Finds `tx` in namespace `ns` of blocks `from..=top` through `client`, checking every namespace proof it reads
/// against the block's header; returns the heights it was found at.
fn find_tx(client: &Client, from: u64, top: u64, ns: u64, tx: &[u8]) -> Vec<u64> {
    let backend = BackendChoice::Cpu.build().unwrap();
    let mut found = Vec::new();
    for h in from..=top {
        let Some(v) = client.namespace(h, ns).unwrap() else { continue };
        check_namespace(backend.as_ref(), &v);
        let txs: Vec<Vec<u8>> =
            v["transactions"].as_array().unwrap().iter().map(|t| hex::decode(t.as_str().unwrap()).unwrap()).collect();
        found.extend(txs.iter().filter(|t| t.as_slice() == tx).map(|_| h));
    }
    found
}

/// Waits until `tx` is decided in namespace `ns` as `client` sees it (each block read once); its height.
fn wait_for_tx(client: &Client, ns: u64, tx: &[u8], within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    let mut scanned = 0;
    loop {
        assert!(Instant::now() < deadline, "the transaction was not decided in {within:?}");
        std::thread::sleep(Duration::from_millis(300));
        let now = client.height().unwrap();
        if let Some(&h) = find_tx(client, scanned + 1, now, ns, tx).first() {
            return h;
        }
        scanned = now;
    }
}

/// What a rollup client does with a namespace answer: check it against the header's commitment alone.
fn check_namespace(backend: &dyn crema_engine::Backend, v: &Value) {
    let commitment: [u8; 32] =
        hex::decode(v["header"]["payload_commitment"].as_str().unwrap()).unwrap().try_into().unwrap();
    let proof = NamespaceProof::decode(&hex::decode(v["proof"].as_str().unwrap()).unwrap()).unwrap();
    let common = hex::decode(v["common"].as_str().unwrap()).unwrap();
    let bytes = hex::decode(v["namespace_bytes"].as_str().unwrap()).unwrap();
    let scheme: SchemeKind = v["header"]["vid"]["scheme"].as_str().unwrap().parse().unwrap();
    verify_namespace(backend, scheme, &commitment, &proof, &common, &bytes).expect("the namespace proof verifies");
}

#[test]
fn four_nodes_decide_submitted_transactions_and_agree() {
    let _machine = crate::machine::shared();
    let (_dir, c) = start(ClusterSpec { nodes: 4, da_committee: 3, ..ClusterSpec::default() });
    let txs: Vec<(u64, Vec<u8>)> = (0..12).map(|i| (1 + i % 3, format!("tx number {i}").into_bytes())).collect();
    for (i, (ns, tx)) in txs.iter().enumerate() {
        // Both submission forms: raw bytes to `/v0/submit/{ns}`, and hex in JSON to `/v0/submit`.
        let client = c.client(i % 4);
        let hash = if i % 2 == 0 { client.submit(*ns, tx) } else { client.submit_json(*ns, tx) }.unwrap();
        assert_eq!(hash, hex::encode(crema_node::mempool::tx_hash(*ns, tx)), "transaction {i}");
    }
    // Every transaction decided, exactly once, in its namespace, with proofs that verify against the headers.
    let deadline = Instant::now() + Duration::from_secs(60);
    // Each block is read once (blocks decided after a transaction's first one are still read: a second copy fails).
    let mut found: Vec<Vec<u64>> = vec![Vec::new(); txs.len()];
    let mut top = 0;
    while found.iter().any(Vec::is_empty) {
        assert!(Instant::now() < deadline, "transactions {found:?} not all decided in time");
        std::thread::sleep(Duration::from_millis(500));
        let now = c.client(0).height().unwrap();
        for (i, (ns, tx)) in txs.iter().enumerate() {
            found[i].extend(find_tx(&c.client(1), top + 1, now, *ns, tx));
        }
        top = now;
    }
    // A few more blocks, then nothing may have been decided twice.
    wait_height(&c, &[0], top + 20, Duration::from_secs(30));
    let end = c.client(0).height().unwrap();
    for (i, (ns, tx)) in txs.iter().enumerate() {
        found[i].extend(find_tx(&c.client(1), top + 1, end, *ns, tx));
        assert_eq!(found[i].len(), 1, "transaction {i} decided at heights {:?}", found[i]);
    }
    wait_height(&c, &[0, 1, 2, 3], top, Duration::from_secs(30));
    for h in 1..=top {
        let hashes: BTreeSet<String> = (0..4).map(|i| hash_at(&c.client(i), h)).collect();
        assert_eq!(hashes.len(), 1, "nodes disagree at height {h}");
    }
    for i in 0..4 {
        let m = c.client(i).metrics().unwrap();
        assert_eq!(metric(&m, "crema_equivocations_total", ""), 0.0);
        assert!(metric(&m, "crema_decided_blocks_total", "") >= top as f64, "{m}");
    }
}

#[test]
fn a_payload_is_rebuilt_from_shares_when_the_whole_da_committee_is_down() {
    let _machine = crate::machine::shared();
    // DA committee = nodes 0 and 1; nodes 2 and 3 hold 2 of 4 share units, the 1/3 threshold.
    let (_dir, mut c) = start(ClusterSpec { nodes: 4, da_committee: 2, ..ClusterSpec::default() });
    let tx = b"rollup 5 needs this back".to_vec();
    c.client(2).submit(5, &tx).unwrap();
    // Found through node 2: node 3 must not have fetched (and so kept in memory) the payload before the test asks.
    let height = wait_for_tx(&c.client(2), 5, &tx, Duration::from_secs(60));
    wait_height(&c, &[2, 3], height, Duration::from_secs(30));
    c.stop(0, Duration::from_secs(5));
    c.stop(1, Duration::from_secs(5));
    // Node 3 is not on the committee and the committee is gone: the payload comes back from shares alone.
    let payload = c.client(3).payload(height).unwrap().expect("payload rebuilt");
    assert!(!payload.is_empty());
    assert_eq!(find_tx(&c.client(3), height, height, 5, &tx), vec![height]);
    let m = c.client(3).metrics().unwrap();
    assert!(metric(&m, "crema_retrieval_fallbacks_total", "{kind=\"reconstruction\"}") >= 1.0, "{m}");
    let da = &c.client(3).status().unwrap()["da"];
    assert!(da["retrieval_fallbacks"]["reconstruction"].as_u64().unwrap() >= 1, "status shows the fallback: {da}");
    assert_eq!(da["member"], false);
}

#[test]
fn a_node_killed_five_times_loses_nothing_and_never_votes_twice() {
    let _machine = crate::machine::shared();
    let (_dir, mut c) =
        start(ClusterSpec { nodes: 4, da_committee: 3, view_timeout_ms: 500, ..ClusterSpec::default() });
    let victim = 2;
    let mut seen: Vec<(u64, String)> = Vec::new();
    for round in 0..5u64 {
        // Kill at a moment that moves from round to round (it lands in different phases of a view).
        std::thread::sleep(Duration::from_millis(700 + 373 * round));
        let h = c.client(victim).height().unwrap_or(0);
        if h > 0 {
            seen.push((h, hash_at(&c.client(victim), h)));
        }
        c.kill(victim);
        std::thread::sleep(Duration::from_millis(200));
        c.start(victim).unwrap();
        c.wait_healthy(victim, Duration::from_secs(30)).unwrap();
        for (h, hash) in &seen {
            assert_eq!(&hash_at(&c.client(victim), *h), hash, "a decided block was lost or changed at height {h}");
        }
    }
    let top = c.client(0).height().unwrap();
    wait_height(&c, &[0, 1, 2, 3], top, Duration::from_secs(60));
    for i in 0..4 {
        let m = c.client(i).metrics().unwrap();
        assert_eq!(metric(&m, "crema_equivocations_total", ""), 0.0, "node {i} saw an equivocation:\n{m}");
    }
}

#[test]
fn a_node_offline_for_50_blocks_catches_up_by_range_sync() {
    // The binary's longest test (views led by the stopped node time out, with backoff); it leaves the CPU
    // three-quarters idle, and the other tests run beside it. Each block costs up to a second here (50 took 51 s
    // on 2 cores); 200 tested nothing more than 50, six times the gap past which a node asks for a range instead
    // of fetching parents one by one.
    let _machine = crate::machine::shared();
    const OFFLINE: u64 = 50;
    const _: () = assert!(OFFLINE > 4 * SYNC_GAP);
    // A short base timer: with node 3 down, a quarter of the views have a dead leader and end in a timeout.
    let (_dir, mut c) =
        start(ClusterSpec { nodes: 4, da_committee: 3, view_timeout_ms: 150, ..ClusterSpec::default() });
    wait_height(&c, &[3], 2, Duration::from_secs(30));
    c.stop(3, Duration::from_secs(5));
    let from = c.client(0).height().unwrap();
    wait_height(&c, &[0, 1, 2], from + OFFLINE, Duration::from_secs(120));
    c.start(3).unwrap();
    c.wait_healthy(3, Duration::from_secs(30)).unwrap();
    let target = c.client(0).height().unwrap();
    wait_height(&c, &[3], target, Duration::from_secs(120));
    let m = c.client(3).metrics().unwrap();
    assert!(
        metric(&m, "crema_synced_blocks_total", "") >= (OFFLINE - SYNC_GAP) as f64,
        "catch-up was not by range sync:\n{m}"
    );
    assert_eq!(hash_at(&c.client(3), target), hash_at(&c.client(0), target));
}

#[test]
fn a_withholding_da_member_and_a_leader_sending_bad_shares_do_not_stop_progress() {
    let _machine = crate::machine::shared();
    // The two networks side by side (each leaves most of a core idle); a failed assertion fails the test.
    std::thread::scope(|s| {
        s.spawn(|| progress_despite("da-withhold"));
        s.spawn(|| progress_despite("bad-shares"));
    });
}

/// A network whose node 3 misbehaves as `kind` decides a transaction and goes on deciding, and its honest nodes agree.
fn progress_despite(kind: &str) {
    // All 4 nodes on the DA committee: the 3 honest ones are more than 2/3 of its stake.
    let spec = ClusterSpec { nodes: 4, da_committee: 4, byzantine: vec![(3, kind.into())], ..ClusterSpec::default() };
    let (_dir, c) = start(spec);
    let tx = format!("despite {kind}").into_bytes();
    c.client(0).submit(2, &tx).unwrap();
    let height = wait_for_tx(&c.client(1), 2, &tx, Duration::from_secs(60));
    // Progress goes on well past it, through views the misbehaving node leads.
    wait_height(&c, &[0, 1, 2], height + 30, Duration::from_secs(90));
    for h in [height, height + 30] {
        let hashes: BTreeSet<String> = (0..3).map(|i| hash_at(&c.client(i), h)).collect();
        assert_eq!(hashes.len(), 1, "{kind}: honest nodes disagree at height {h}");
    }
    if kind == "bad-shares" {
        let bad: f64 = (0..3).map(|i| metric_total(&c.client(i).metrics().unwrap(), "crema_bad_messages_total")).sum();
        let rejected: u64 =
            (0..3).map(|i| c.client(i).status().unwrap()["rejected_messages"].as_u64().unwrap_or(0)).sum();
        assert!(bad + rejected as f64 >= 1.0, "the corrupted shares were not noticed");
    }
}

#[test]
fn a_da_member_serving_corrupt_payloads_is_skipped_by_retrieval() {
    let _machine = crate::machine::shared();
    // DA committee = nodes 0..3 with node 3 corrupt; node 4 is not on it and must fetch payloads.
    let spec =
        ClusterSpec { nodes: 5, da_committee: 4, byzantine: vec![(3, "da-corrupt".into())], ..ClusterSpec::default() };
    let (_dir, mut c) = start(spec);
    // Several transactions, so that one lands in a block node 4 did not propose (a proposer keeps its payload).
    let txs: Vec<Vec<u8>> = (0..6).map(|i| format!("rollup 9 tx {i}").into_bytes()).collect();
    for tx in &txs {
        c.client(0).submit(9, tx).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let height = 'found: loop {
        assert!(Instant::now() < deadline, "no transaction decided in a block node 4 did not propose");
        std::thread::sleep(Duration::from_millis(300));
        let now = c.client(0).height().unwrap();
        for tx in &txs {
            for h in find_tx(&c.client(0), 1, now, 9, tx) {
                let header = c.client(0).header(h).unwrap().unwrap();
                if header["header"]["proposer"].as_u64() != Some(4) {
                    break 'found h;
                }
            }
        }
    };
    wait_height(&c, &[4], height, Duration::from_secs(30));
    for i in 0..3 {
        c.stop(i, Duration::from_secs(5));
    }
    // Only the corrupt member is left on the committee: its answer fails the commitment check, and node 4 rebuilds
    // the payload from its own share and node 3's.
    let v = c.client(4).namespace(height, 9).unwrap().expect("the namespace was rebuilt");
    check_namespace(BackendChoice::Cpu.build().unwrap().as_ref(), &v);
    let m = c.client(4).metrics().unwrap();
    assert!(metric(&m, "crema_bad_messages_total", "{kind=\"retrieved_payload\"}") >= 1.0, "{m}");
    let da = &c.client(4).status().unwrap()["da"];
    assert!(da["bad_payloads_retrieved"].as_u64().unwrap() >= 1, "status shows the bad payload: {da}");
    assert!(metric(&m, "crema_retrieval_fallbacks_total", "{kind=\"reconstruction\"}") >= 1.0, "{m}");
}
