//! `crema keygen`, `crema init` and `crema check` as an operator runs them: keys and entries that read back, a
//! local network whose every node loads and agrees, and a table of broken `network.toml` / `node.toml` files, each
//! refused by the real binary with a non-zero exit and an error naming the file, the key and the problem.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crema_node::config::NodeConfig;
use crema_node::keys::NodeKeys;
use crema_node::network_file::NetworkFile;
use crema_node::setup::NodeSetup;

fn crema(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crema")).args(args).env("CREMA_BACKEND", "cpu").output().expect("crema runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crema-node-files-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `crema` and expects it to fail cleanly with every `want` in its output.
fn refused(args: &[&str], want: &[&str]) {
    let o = crema(args);
    let out = text(&o);
    // 1: our error; 2: clap refused the arguments; a panic would be 101.
    assert!(matches!(o.status.code(), Some(1 | 2)), "{args:?}: {:?} {out}", o.status);
    assert!(!out.contains("panicked"), "{args:?} panicked: {out}");
    for w in want {
        assert!(out.contains(w), "{args:?}: expected {w:?} in: {out}");
    }
}

const PARAMS: &str = "[params]\nview_timeout_ms = 2000\nmax_block_bytes = 1048576\nvid_scheme = \"avidm\"\n\
                      vid_threshold = \"1/3\"\n\n";

#[test]
fn keygen_writes_keys_whose_printed_entry_reads_back() {
    let dir = scratch("keygen");
    let keys_dir = dir.join("keys");
    let args =
        ["keygen", "--out", s(&keys_dir), "--stake", "5", "--p2p", "/ip4/10.0.0.7/tcp/9100", "--api", "10.0.0.7:8100"];
    let o = crema(&args);
    assert!(o.status.success(), "{}", text(&o));
    let entry = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(entry.starts_with("[[node]]\n"), "{entry}");

    // The printed entry, pasted into a network file, passes every check (PoP, binding) and matches the key files.
    fs::write(dir.join("network.toml"), format!("{PARAMS}{entry}")).unwrap();
    let net = NetworkFile::read(&dir.join("network.toml")).unwrap();
    let keys = NodeKeys::read(&keys_dir).unwrap();
    let e = &net.nodes[0];
    assert_eq!(e.bls_key, keys.bls.public_key());
    assert_eq!(e.peer_id, keys.peer_id());
    assert_eq!((e.stake, e.da_member), (5, true));
    assert_eq!(e.p2p.to_string(), "/ip4/10.0.0.7/tcp/9100");
    assert_eq!(e.api.as_deref(), Some("10.0.0.7:8100"));
    assert_eq!(keys.index_in(&net).unwrap(), 0);
    assert!(text(&o).contains(&keys.peer_id().to_string()));

    // Existing keys are kept unless --force.
    let before = fs::read(keys_dir.join("bls.key")).unwrap();
    refused(&["keygen", "--out", s(&keys_dir)], &["bls.key already exists", "--force"]);
    assert_eq!(fs::read(keys_dir.join("bls.key")).unwrap(), before);
    let o = crema(&["keygen", "--out", s(&keys_dir), "--force", "--da-member", "false"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("da_member = false"));
    assert_ne!(fs::read(keys_dir.join("bls.key")).unwrap(), before, "--force wrote a new key");

    refused(&["keygen", "--out", s(&dir.join("k2")), "--p2p", "10.0.0.7:9100"], &["--p2p", "invalid multiaddr"]);
    refused(&["keygen", "--out", s(&dir.join("k2")), "--api", "nowhere"], &["--api", "host:port"]);
    refused(&["keygen", "--out", s(&dir.join("k2")), "--stake", "0"], &["--stake"]);
    assert!(!dir.join("k2").exists(), "a refused keygen writes nothing");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn init_writes_a_network_whose_nodes_all_load_and_agree() {
    let dir = scratch("init");
    let o = crema(&["init", "--nodes", "5", "--out", s(&dir), "--base-port", "9400", "--api-base-port", "8400"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains(&format!("crema node --config {}", s(&dir.join("node-4").join("node.toml")))), "{out}");

    let network = NetworkFile::read(&dir.join("network.toml")).unwrap();
    assert_eq!(network.nodes.len(), 5);
    let members: Vec<bool> = network.nodes.iter().map(|n| n.da_member).collect();
    assert_eq!(members, [true, true, true, true, false], "the default committee is the first min(N, 4)");
    let reference = format!("{:?}", network.consensus_config());
    for i in 0..5u16 {
        let setup = NodeSetup::load(&dir.join(format!("node-{i}/node.toml"))).unwrap();
        assert_eq!(setup.me, i, "node {i} finds itself from its key");
        assert_eq!(format!("{:?}", setup.network.consensus_config()), reference, "node {i} agrees");
        assert_eq!(setup.config.p2p_listen.to_string(), format!("/ip4/127.0.0.1/tcp/{}", 9400 + i));
        assert_eq!(setup.config.api_listen.to_string(), format!("127.0.0.1:{}", 8400 + i));
        assert_eq!(setup.network.nodes[usize::from(i)].p2p, setup.config.p2p_listen);
        assert_eq!(setup.config.data_dir, dir.join(format!("node-{i}")).join("data"));
    }
    let check = crema(&["check", "--config", s(&dir.join("node-2/node.toml"))]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("this node: index 2"), "{}", text(&check));

    // Not into a non-empty directory unless --force, which writes a new network.
    refused(&["init", "--nodes", "2", "--out", s(&dir)], &["is not empty", "--force"]);
    let o = crema(&["init", "--nodes", "2", "--out", s(&dir), "--force", "--scheme", "kzg"]);
    assert!(o.status.success(), "{}", text(&o));
    let network = NetworkFile::read(&dir.join("network.toml")).unwrap();
    assert_eq!((network.nodes.len(), network.params.vid.threshold.to_string()), (2, "1/2".to_string()));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn init_refuses_bad_arguments_and_writes_nothing() {
    let dir = scratch("init-bad");
    let out = s(&dir);
    for (args, want) in [
        (vec!["--nodes", "0"], vec!["--nodes", "0"]),
        (vec!["--nodes", "1001"], vec!["--nodes", "1001"]),
        (vec!["--nodes", "5", "--da-committee", "0"], vec!["--da-committee 0", "1..=5"]),
        (vec!["--nodes", "5", "--da-committee", "6"], vec!["--da-committee 6", "1..=5"]),
        (vec!["--nodes", "2", "--base-port", "0"], vec!["--base-port", "0"]),
        (vec!["--nodes", "3", "--base-port", "65534"], vec!["--base-port 65534", "65536"]),
        (vec!["--nodes", "3", "--base-port", "70000"], vec!["--base-port", "70000"]),
        (vec!["--nodes", "3", "--api-base-port", "9001"], vec!["overlap"]),
        (vec!["--nodes", "3", "--scheme", "kzg", "--threshold", "1/3"], vec!["--threshold", "kzg"]),
        (vec!["--nodes", "3", "--threshold", "4/3"], vec!["--threshold"]),
        (vec!["--nodes", "3", "--view-timeout-ms", "0"], vec!["--view-timeout-ms", "0"]),
        (vec!["--nodes", "3", "--max-block-bytes", "0"], vec!["--max-block-bytes", "0"]),
        (vec!["--nodes", "3", "--host", "bad host!"], vec!["--host"]),
    ] {
        let mut full = vec!["init", "--out", out];
        full.extend(args);
        refused(&full, &want);
        assert!(!dir.exists(), "{full:?} wrote something");
    }
}

/// A working 4-node network to break one file at a time.
struct Net {
    dir: PathBuf,
    network: String,
    node: String,
}

impl Net {
    fn new(name: &str) -> Self {
        let dir = scratch(name);
        let o = crema(&["init", "--nodes", "4", "--out", s(&dir), "--base-port", "9500", "--api-base-port", "8500"]);
        assert!(o.status.success(), "{}", text(&o));
        let network = fs::read_to_string(dir.join("network.toml")).unwrap();
        let node = fs::read_to_string(dir.join("node-0/node.toml")).unwrap();
        Net { dir, network, node }
    }

    /// Writes the two files and runs `crema check` on node 0.
    fn check(&self, network: &str, node: &str, want: &[&str]) {
        fs::write(self.dir.join("network.toml"), network).unwrap();
        fs::write(self.dir.join("node-0/node.toml"), node).unwrap();
        refused(&["check", "--config", s(&self.dir.join("node-0/node.toml"))], want);
    }

    /// The value of `key` in `[[node]]` entry `i` of the network file.
    fn value(&self, i: usize, key: &str) -> String {
        // Entries start at a line of their own (the file's header comment mentions "[[node]]" too).
        let entry = self.network.split("\n[[node]]").nth(i + 1).unwrap();
        let line = entry.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap();
        line.split_once(" = ").unwrap().1.to_string()
    }

    /// The network file with `key` of entry `i` set to `value` (a TOML value, or None to remove the line).
    fn set(&self, i: usize, key: &str, value: Option<&str>) -> String {
        let mut parts: Vec<String> = self.network.split("\n[[node]]").map(str::to_string).collect();
        let old = format!("{key} = {}\n", self.value(i, key));
        let new = value.map(|v| format!("{key} = {v}\n")).unwrap_or_default();
        assert!(parts[i + 1].contains(&old));
        parts[i + 1] = parts[i + 1].replacen(&old, &new, 1);
        parts.join("\n[[node]]")
    }
}

#[test]
fn broken_network_files_name_the_entry_and_field() {
    let net = Net::new("broken-network");
    let nf = "network.toml: ";
    let other_peer = NodeKeys::generate().peer_id().to_string();
    // An entry with its own valid BLS key and binding but node 0's libp2p key: a duplicate PeerId that verifies.
    let keys0 = NodeKeys::read(&net.dir.join("node-0/keys")).unwrap();
    let twin = NodeKeys { bls: NodeKeys::generate().bls, p2p: keys0.p2p.clone() }
        .entry(1, true, "/ip4/127.0.0.1/tcp/9600".parse().unwrap(), None)
        .to_toml();
    let mut infinity = "c0".to_string();
    infinity.push_str(&"00".repeat(47));
    let q = |v: &str| format!("\"{v}\"");
    let rows: Vec<(String, Vec<String>)> = vec![
        (net.set(1, "bls_key", Some(&q(&"zz".repeat(48)))), vec!["node[1].bls_key: not hex".into()]),
        (net.set(1, "bls_key", Some("\"abcd\"")), vec!["node[1].bls_key: expected 96 hex characters".into()]),
        (
            net.set(1, "bls_key", Some(&q(&infinity))),
            vec!["node[1].bls_key: public key is the point at infinity".into()],
        ),
        (net.set(1, "pop", Some(&net.value(2, "pop"))), vec!["node[1].pop: does not verify".into()]),
        (net.set(1, "pop", Some(&q(&"ab".repeat(95)))), vec!["node[1].pop: expected 192 hex characters".into()]),
        (
            net.set(2, "peer_id", Some(&q(&other_peer))),
            vec![format!("node[2].binding: does not verify for peer_id {other_peer}")],
        ),
        (net.set(2, "binding", Some(&net.value(1, "binding"))), vec!["node[2].binding: does not verify".into()]),
        (net.set(2, "peer_id", Some("\"12D3KooWnot-a-peer\"")), vec!["node[2].peer_id: invalid PeerId".into()]),
        (
            format!("{}\n[[node]]{}", net.network, net.network.split("\n[[node]]").nth(2).unwrap()),
            vec!["node[4].bls_key: same as node[1].bls_key".into()],
        ),
        (format!("{}\n{twin}", net.network), vec!["node[4].peer_id: same as node[0].peer_id".into()]),
        (net.set(3, "stake", Some("0")), vec!["node[3].stake: must be at least 1".into()]),
        (net.set(3, "stake", Some("-1")), vec!["node[3].stake: invalid value".into()]),
        (net.set(3, "stake", Some("65533")), vec!["node[*].stake".into(), "65535".into()]),
        (net.set(3, "stake", None), vec!["node[3]: missing field `stake`".into()]),
        (net.set(0, "da_member", Some("\"yes\"")), vec!["node[0].da_member: invalid type".into()]),
        (
            net.network.replace("da_member = true", "da_member = false"),
            vec!["node[*].da_member: no node is a DA member".into()],
        ),
        (net.set(0, "p2p", Some("\"127.0.0.1:9500\"")), vec!["node[0].p2p: invalid multiaddr".into()]),
        (net.set(0, "p2p", Some("\"/ip4/127.0.0.1/udp/9500\"")), vec!["node[0].p2p:".into(), "TCP port".into()]),
        (net.set(3, "p2p", Some(&net.value(1, "p2p"))), vec!["node[3].p2p: same as node[1].p2p".into()]),
        (net.set(0, "api", Some("\"nowhere\"")), vec!["node[0].api: invalid address".into()]),
        (net.set(0, "stake", Some("1\ncolour = \"blue\"")), vec!["node[0]: unknown field `colour`".into()]),
        (
            net.network.replace("vid_scheme = \"avidm\"", "vid_scheme = \"kzg\""),
            vec!["params.vid_threshold:".into(), "kzg".into(), "1/3".into()],
        ),
        (net.network.replace("\"avidm\"", "\"raptor\""), vec!["params.vid_scheme:".into(), "raptor".into()]),
        (net.network.replace("\"1/3\"", "\"half\""), vec!["params.vid_threshold:".into(), "half".into()]),
        (
            net.network.replace("view_timeout_ms = 2000", "view_timeout_ms = 0"),
            vec!["params.view_timeout_ms: 0 is not in".into()],
        ),
        (net.network.replace("[params]", "[params]\nepoch = 3"), vec!["params: unknown field `epoch`".into()]),
        (net.network.replace("[params]", "[parameters]"), vec!["unknown field `parameters`".into()]),
        (net.network.split("\n[[node]]").next().unwrap().to_string(), vec!["node: no [[node]] entry".into()]),
        (net.network.replace("[params]", "[params"), vec!["network.toml: line 3".into()]),
    ];
    for (network, want) in rows {
        let mut want: Vec<&str> = want.iter().map(String::as_str).collect();
        want.push(nf);
        net.check(&network, &net.node, &want);
    }
    fs::remove_file(net.dir.join("network.toml")).unwrap();
    refused(&["check", "--config", s(&net.dir.join("node-0/node.toml"))], &["network.toml: cannot read"]);
    fs::remove_dir_all(&net.dir).unwrap();
}

#[test]
fn broken_node_files_and_keys_name_the_key() {
    let net = Net::new("broken-node");
    let n = &net.node;
    let with = |section: &str, line: &str| n.replacen(&format!("[{section}]\n"), &format!("[{section}]\n{line}\n"), 1);
    let rows: Vec<(String, Vec<&str>)> = vec![
        (format!("colour = \"blue\"\n{n}"), vec!["node.toml: (top level): unknown field `colour`"]),
        (format!("{n}\n[metrics]\nlisten = \"x\"\n"), vec!["node.toml: (top level): unknown field `metrics`"]),
        (
            n.replace("listen = \"127.0.0.1:8500\"", "listen = \"x\""),
            vec!["node.toml: api.listen: invalid socket address \"x\""],
        ),
        (
            n.replace("listen = \"/ip4/127.0.0.1/tcp/9500\"", "listen = \"/dns/x/tcp/1\""),
            vec!["node.toml: p2p.listen:"],
        ),
        (n.replace("backend = \"auto\"", "backend = \"tpu\""), vec!["node.toml: backend: unknown backend \"tpu\""]),
        (n.replace("retain_blocks = 10000", "retain_blocks = 0"), vec!["node.toml: storage.retain_blocks: must be"]),
        (n.replace("max_txs = 100000", "max_txs = -1"), vec!["node.toml: mempool.max_txs: invalid value"]),
        (with("api", "timeout = 3"), vec!["node.toml: api: unknown field `timeout`"]),
        (n.replace("max_body_bytes = 1048576", "max_body_bytes = \"big\""), vec!["node.toml: api.max_body_bytes"]),
        (n.replace("keys_dir = \"keys\"", "keys_dir = \"\""), vec!["node.toml: keys_dir: empty path"]),
        (n.replace("keys_dir = \"keys\"", "keys_dir = \"../node-1/nokeys\""), vec!["bls.key: cannot read"]),
        (
            n.replace("network = \"../network.toml\"", "network = \"../nowhere.toml\""),
            vec!["nowhere.toml: cannot read"],
        ),
        (n.replace("keys_dir = \"keys\"", "keys_dir = 7"), vec!["node.toml: keys_dir: invalid type"]),
    ];
    for (node, want) in rows {
        net.check(&net.network, &node, &want);
    }

    // Keys that are not this network's, or a p2p key that is not the one bound in the table.
    let keys0 = net.dir.join("node-0/keys");
    let stranger = NodeKeys::generate();
    stranger.write(&net.dir.join("stranger")).unwrap();
    fs::copy(net.dir.join("stranger/bls.key"), keys0.join("bls.key")).unwrap();
    net.check(&net.network, n, &["is not in the network file's stake table"]);
    let keys1 = NodeKeys::read(&net.dir.join("node-1/keys")).unwrap();
    fs::copy(net.dir.join("node-1/keys/bls.key"), keys0.join("bls.key")).unwrap();
    net.check(&net.network, n, &["node[1].peer_id is", &keys1.peer_id().to_string(), "p2p.key is PeerId"]);
    fs::write(keys0.join("p2p.key"), b"garbage").unwrap();
    net.check(&net.network, n, &["p2p.key: not a libp2p keypair"]);
    refused(&["check", "--config", s(&net.dir.join("node-9/node.toml"))], &["node-9/node.toml: cannot read"]);

    // A node.toml with nothing in it takes every default (paths beside it) and names the network beside it.
    let c = NodeConfig::parse(&net.dir.join("node-0/node.toml"), "").unwrap();
    assert_eq!(c.network, net.dir.join("node-0/network.toml"));
    fs::remove_dir_all(&net.dir).unwrap();
}
