//! What the tests that start a node network share: launching one from `crema init`'s files in a temporary
//! directory, and waiting until nodes reach a height.

use std::time::{Duration, Instant};

use crema_node::devnet::cluster::{Cluster, ClusterSpec};

/// Launches a network of `spec` (the real `crema` binary) in a fresh temporary directory; the directory lives as
/// long as the returned handle, the processes as long as the cluster.
pub fn start(spec: ClusterSpec) -> (tempfile::TempDir, Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_crema").as_ref();
    let c = Cluster::launch(exe, &dir.path().join("net"), &spec, Duration::from_secs(30)).unwrap();
    (dir, c)
}

/// Waits until every node in `nodes` decided at least `height`, or fails with their heights and logs.
pub fn wait_height(c: &Cluster, nodes: &[usize], height: u64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let heights: Vec<u64> = nodes.iter().map(|&i| c.client(i).height().unwrap_or(0)).collect();
        if heights.iter().all(|&h| h >= height) {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = nodes.iter().map(|&i| format!("--- node {i}\n{}", c.log_tail(i, 15))).collect();
            panic!("heights {heights:?} did not reach {height} in {within:?}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
