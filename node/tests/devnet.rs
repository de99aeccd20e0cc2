//! `crema devnet` as a user runs it: the real binary brings up 4 node processes on 127.0.0.1, drives load through
//! their APIs and writes its summary, whose flags and counters are checked here.

use std::process::Command;

use serde_json::Value;

/// Runs `crema devnet` with `args` (4 nodes, `secs` seconds of load) and returns its exit success and JSON summary.
fn devnet(secs: u32, args: &[&str]) -> (bool, Value) {
    // 4 nodes at ~10% of a core each, and the devnet's own load and checks: about one core in all.
    let _machine = crate::machine::shared();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("summary.json");
    let out = Command::new(env!("CARGO_BIN_EXE_crema"))
        .args(["--backend", "cpu", "devnet", "--nodes", "4", "--duration", &secs.to_string(), "--tx-rate", "100"])
        .args(["--summary-json", json.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    let text = std::fs::read(&json).unwrap_or_else(|_| {
        panic!("no summary: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.success(), serde_json::from_slice(&text).unwrap())
}

fn flag(v: &Value, name: &str) -> bool {
    v[name]["ok"].as_bool().unwrap()
}

#[test]
fn a_four_node_devnet_decides_verifies_and_recovers_everything() {
    // With the latency drill on (20 ms per message) and a plot drawn: the flags must hold all the same.
    let out = tempfile::tempdir().unwrap();
    let (net, png) = (out.path().join("net"), out.path().join("run.png"));
    let (net_arg, png_arg) = (net.to_str().unwrap(), png.to_str().unwrap());
    let (ok, s) = devnet(8, &["--da-committee", "2", "--latency-ms", "20", "--keep", net_arg, "--plot", png_arg]);
    assert!(ok, "{s:#}");
    for f in ["safety_ok", "namespaces_verified", "payloads_recovered"] {
        assert!(flag(&s, f), "{f}: {s:#}");
    }
    assert!(s["blocks"].as_u64().unwrap() > 0 && s["decided_txs"].as_u64().unwrap() > 0, "{s:#}");
    assert_eq!(s["equivocations"].as_f64().unwrap(), 0.0);
    // The drill reached every node's file; the time series and its chart were made.
    assert_eq!(s["settings"]["latency_ms"].as_u64(), Some(20));
    for i in 0..4 {
        let toml = std::fs::read_to_string(net.join(format!("node-{i}/node.toml"))).unwrap();
        assert!(toml.lines().any(|l| l == "latency_ms = 20"), "node {i}:\n{toml}");
    }
    let samples = s["timeline"]["samples"].as_array().unwrap();
    assert!(samples.len() >= 5 && samples.iter().any(|x| x["mb_s"].as_f64().unwrap() > 0.0), "{s:#}");
    let png = std::fs::read(&png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 1400, "the chart's width, from its IHDR");
}

#[test]
fn a_crashed_and_restarted_node_and_a_killed_broker_keep_every_flag() {
    let args = ["--da-committee", "2", "--kill-cdn-at", "2", "--crash", "1@3", "--restart", "1@5"];
    let (ok, s) = devnet(8, &args);
    assert!(ok, "{s:#}");
    assert_eq!(s["faults"].as_array().unwrap().len(), 3, "{s:#}");
    assert_eq!(s["cdn_brokers"].as_u64(), Some(1), "{s:#}");
    // Each shows in the time series and has its effect measured.
    let events: Vec<&str> =
        s["timeline"]["events"].as_array().unwrap().iter().map(|e| e["what"].as_str().unwrap()).collect();
    assert_eq!(events, ["killed the CDN", "crashed node 1", "restarted node 1"], "{s:#}");
    assert_eq!(s["fault_effects"].as_array().unwrap().len(), 3, "{s:#}");
}

/// Runs two devnets at once (each leaves most of a core idle), `a` on this thread and `b` beside it.
fn two_devnets(a: (u32, &[&str]), b: (u32, &[&str])) -> [(bool, Value); 2] {
    std::thread::scope(|s| {
        let beside = s.spawn(|| devnet(b.0, b.1));
        let first = devnet(a.0, a.1);
        [first, beside.join().expect("the second devnet's thread")]
    })
}

#[test]
fn each_byzantine_kind_keeps_safety_and_shows_in_the_counters() {
    // 4 s each: about a hundred views, a quarter of them led by the byzantine node.
    // bad-shares: the leader's shares fail their checks (counted as bad messages), the DA committee serves good ones.
    // da-corrupt: a DA member serves corrupted payloads; nodes retrieving them refuse and count them. Without a
    // CDN, whose cache would answer retrievals before the committee is asked.
    let [(ok_shares, shares), (ok_corrupt, corrupt)] = two_devnets(
        (4, &["--da-committee", "2", "--byzantine", "3:bad-shares"]),
        (4, &["--da-committee", "2", "--byzantine", "1:da-corrupt", "--cdn-brokers", "0"]),
    );
    assert!(ok_shares, "{shares:#}");
    assert!(shares["bad_messages"].as_f64().unwrap() >= 1.0, "{shares:#}");
    assert!(ok_corrupt, "{corrupt:#}");
    assert!(corrupt["bad_messages"].as_f64().unwrap() >= 1.0, "{corrupt:#}");
    // equivocate: as leader, node 3 sends two validly signed proposals for its view to two halves of the nodes;
    // honest nodes that see both count the evidence, and vote for one only.
    // da-withhold: with all 4 on the committee the 3 honest members certify alone. No node is left outside the
    // committee to rebuild from, so payloads_recovered is false by construction and the exit status is 1.
    let [(ok, equivocate), (_, withhold)] = two_devnets(
        (4, &["--da-committee", "2", "--byzantine", "3:equivocate"]),
        (4, &["--da-committee", "4", "--byzantine", "3:da-withhold"]),
    );
    assert!(ok, "{equivocate:#}");
    assert!(equivocate["equivocations"].as_f64().unwrap() >= 1.0, "{equivocate:#}");
    assert!(flag(&withhold, "safety_ok") && flag(&withhold, "namespaces_verified"), "{withhold:#}");
    assert!(!flag(&withhold, "payloads_recovered"));
    assert!(withhold["blocks"].as_u64().unwrap() > 0 && withhold["decided_txs"].as_u64().unwrap() > 0, "{withhold:#}");
}
