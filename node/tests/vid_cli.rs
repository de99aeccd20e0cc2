//! `crema vid` as a user runs it: disperse a file, lose shares, corrupt one, verify, recover.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn crema(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crema")).args(args).env("CREMA_BACKEND", "cpu").output().expect("crema runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crema-vid-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn share(dir: &Path, node: usize) -> PathBuf {
    dir.join("shares").join(format!("node-{node:05}.share"))
}

#[test]
fn disperse_lose_corrupt_verify_recover() {
    let root = scratch("roundtrip");
    let (file, out, dir) = (root.join("payload.bin"), root.join("recovered.bin"), root.join("d"));
    let mut payload = vec![0u8; 2 << 20];
    ChaCha8Rng::seed_from_u64(42).fill_bytes(&mut payload);
    fs::write(&file, &payload).unwrap();

    // 1000 weight units over 100 nodes; threshold 1/3 → 334 units = 34 nodes.
    let weights = vec!["10"; 100].join(",");
    let o = crema(&["vid", "disperse", "--weights", &weights, file.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("any 334 units recover"), "{}", text(&o));

    let o = crema(&["vid", "verify", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("100 shares: 100 ok, 0 bad"));

    // Keep 35 nodes (350 units), corrupt one of them: 34 good nodes = 340 units still suffice.
    for node in 35..100 {
        fs::remove_file(share(&dir, node)).unwrap();
    }
    let mut bytes = fs::read(share(&dir, 7)).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    fs::write(share(&dir, 7), bytes).unwrap();

    let o = crema(&["vid", "verify", dir.to_str().unwrap()]);
    assert!(!o.status.success(), "verify must fail with a corrupted share");
    assert!(text(&o).contains("node-00007.share: BAD"), "{}", text(&o));
    assert!(text(&o).contains("35 shares: 34 ok, 1 bad, 65 missing"), "{}", text(&o));
    assert!(text(&o).contains("missing: 65 share file(s), nodes 35-99"), "{}", text(&o));
    assert!(text(&o).contains("verified weight 340 of 1000: enough to recover (needs 334)"), "{}", text(&o));

    let o = crema(&["vid", "recover", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read(&out).unwrap(), payload, "recovered bytes differ");

    // One more node gone: 33 good nodes = 330 units < 334.
    fs::remove_file(share(&dir, 34)).unwrap();
    let o = crema(&["vid", "recover", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("330 of 334 units verified (4 missing)"), "{}", text(&o));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_arguments_get_clear_errors() {
    let root = scratch("args");
    let file = root.join("p");
    fs::write(&file, b"x").unwrap();
    let o = crema(&["vid", "disperse", "--weights", "1,0,2", file.to_str().unwrap(), "--out", "/nonexistent/x"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("node 1 has weight 0"), "{}", text(&o));
    let o = crema(&["vid", "disperse", "--nodes", "4", "--threshold", "5/3", file.to_str().unwrap(), "--out", "x"]);
    assert!(text(&o).contains("invalid threshold"), "{}", text(&o));
    let o = crema(&["vid", "verify", root.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("commitment.bin"), "{}", text(&o));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn kzg_disperse_lose_corrupt_verify_recover() {
    let root = scratch("kzg");
    let (file, out, dir) = (root.join("payload.bin"), root.join("recovered.bin"), root.join("d"));
    // 2.5 blobs of payload: 3 blobs.
    let mut payload = vec![0u8; 5 * 126_976 / 2];
    ChaCha8Rng::seed_from_u64(43).fill_bytes(&mut payload);
    fs::write(&file, &payload).unwrap();

    // W = 6: node cells 0..22, 21..64, 64..86, 85..128; any 3 units recover.
    let (f, d) = (file.to_str().unwrap(), dir.to_str().unwrap());
    let o = crema(&["vid", "disperse", "--scheme", "kzg", "--weights", "1,2,1,2", f, "--out", d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 blob(s) x 128 cells, any 3 of 6 weight units recover"), "{}", text(&o));
    assert_eq!(&fs::read(dir.join("common.bin")).unwrap()[..3], b"CKC", "the scheme tag leads common.bin");

    let o = crema(&["vid", "verify", d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("4 shares: 4 ok, 0 bad, 0 missing"), "{}", text(&o));

    // Lose node 0, corrupt node 1: nodes 2 and 3 (weight 3, cells 64..128) remain.
    fs::remove_file(share(&dir, 0)).unwrap();
    let mut bytes = fs::read(share(&dir, 1)).unwrap();
    bytes[1000] ^= 0x01;
    fs::write(share(&dir, 1), bytes).unwrap();
    let o = crema(&["vid", "verify", d]);
    assert!(!o.status.success(), "verify must fail with a corrupted share");
    assert!(text(&o).contains("node-00001.share: BAD: cell proofs of node 1 do not verify"), "{}", text(&o));
    assert!(text(&o).contains("3 shares: 2 ok, 1 bad, 1 missing"), "{}", text(&o));
    assert!(text(&o).contains("verified weight 3 of 6: enough to recover (needs 3)"), "{}", text(&o));

    let o = crema(&["vid", "recover", d, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read(&out).unwrap(), payload, "recovered bytes differ");

    fs::remove_file(share(&dir, 3)).unwrap();
    let o = crema(&["vid", "recover", d, "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("1 of 3 units verified (2 missing); 1 share(s) rejected"), "{}", text(&o));

    // The rate-1/2 code cannot promise recovery from a third.
    let o = crema(&["vid", "disperse", "--scheme", "kzg", "--nodes", "3", "--threshold", "1/3", f, "--out", d]);
    assert!(!o.status.success());
    assert!(text(&o).contains("needs a threshold of at least 1/2, got 1/3"), "{}", text(&o));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn namespaces_disperse_and_come_back_alone() {
    let root = scratch("ns");
    let (a, b, dir) = (root.join("a.bin"), root.join("b.bin"), root.join("d"));
    fs::write(&a, vec![7u8; 10_000]).unwrap();
    fs::write(&b, b"rollup nine").unwrap();
    let d = dir.to_str().unwrap();
    let (na, nb) = (format!("7={}", a.display()), format!("9={}", b.display()));
    let o = crema(&["vid", "disperse", "--nodes", "5", "--namespace", &na, "--namespace", &nb, "--out", d]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("10011 bytes in 2 namespaces -> 5 shares (avidm)"), "{}", text(&o));

    let o = crema(&["vid", "verify", d]);
    assert!(text(&o).contains("5 shares: 5 ok, 0 bad, 0 missing"), "{}", text(&o));
    // Damage namespace 7's part of node 0's share: namespace 9 alone still checks out there.
    let mut bytes = fs::read(share(&dir, 0)).unwrap();
    bytes[100] ^= 0x01;
    fs::write(share(&dir, 0), bytes).unwrap();
    let o = crema(&["vid", "verify", d]);
    assert!(!o.status.success() && text(&o).contains("node-00000.share: BAD"), "{}", text(&o));
    let o = crema(&["vid", "verify", d, "--namespace", "9"]);
    assert!(o.status.success(), "{}", text(&o));

    let out = root.join("nine.bin");
    let o = crema(&["vid", "recover", d, "--namespace", "9", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read(&out).unwrap(), b"rollup nine");
    let all = root.join("all");
    let o = crema(&["vid", "recover", d, "--out", all.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(fs::read(all.join("ns-7.bin")).unwrap(), vec![7u8; 10_000]);
    assert_eq!(fs::read(all.join("ns-9.bin")).unwrap(), b"rollup nine");

    let o = crema(&["vid", "verify", d, "--namespace", "5"]);
    assert!(!o.status.success() && text(&o).contains("namespace 5 is not in the namespace table"), "{}", text(&o));
    let o = crema(&["vid", "disperse", "--nodes", "2", "--namespace", "x=y", "--out", d]);
    assert!(!o.status.success() && text(&o).contains("unsigned 64-bit"), "{}", text(&o));
    fs::remove_dir_all(&root).unwrap();
}

/// Disperses `payload` over `nodes` nodes into `root/name`; returns the directory.
fn dispersed(root: &Path, name: &str, payload: &[u8], nodes: &str) -> PathBuf {
    let (file, dir) = (root.join(format!("{name}.bin")), root.join(name));
    fs::write(&file, payload).unwrap();
    let o = crema(&["vid", "disperse", "--nodes", nodes, file.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    dir
}

#[test]
fn a_directory_without_shares_is_an_error_not_a_pass() {
    let root = scratch("noshares");
    let dir = dispersed(&root, "d", b"some payload", "4");
    for node in 0..4 {
        fs::remove_file(share(&dir, node)).unwrap();
    }
    let o = crema(&["vid", "verify", dir.to_str().unwrap()]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no share file at all (4 nodes expected"), "{}", text(&o));
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn huge_node_counts_are_refused_before_allocating() {
    let root = scratch("huge");
    let file = root.join("p");
    fs::write(&file, b"x").unwrap();
    for n in ["18446744073709551615", "100000000000", "65536"] {
        let o = crema(&["vid", "disperse", "--nodes", n, file.to_str().unwrap(), "--out", "x"]);
        assert!(!o.status.success(), "{n}: {}", text(&o));
        assert!(text(&o).contains("at most 65535 supported"), "{n}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{n}: {}", text(&o));
    }
    let o = crema(&["vid", "disperse", "--weights", "65535,1", file.to_str().unwrap(), "--out", "x"]);
    assert!(!o.status.success() && text(&o).contains("65536 units in total"), "{}", text(&o));
    for t in ["0/3", "0", "1/0", "3/2", "x"] {
        let o = crema(&["vid", "disperse", "--nodes", "3", "--threshold", t, file.to_str().unwrap(), "--out", "x"]);
        assert!(!o.status.success() && text(&o).contains("threshold"), "{t}: {}", text(&o));
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn edge_cases_work_empty_payload_and_one_node() {
    let root = scratch("edges");
    for (name, payload, nodes) in [("empty", &b""[..], "5"), ("single", &b"one node holds it all"[..], "1")] {
        let dir = dispersed(&root, name, payload, nodes);
        let o = crema(&["vid", "verify", dir.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let out = root.join(format!("{name}.out"));
        let o = crema(&["vid", "recover", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert_eq!(fs::read(&out).unwrap(), payload, "{name}");
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn file_names_earn_no_trust_and_weight_is_never_counted_twice() {
    let root = scratch("names");
    let mut payload = vec![0u8; 50_000];
    ChaCha8Rng::seed_from_u64(7).fill_bytes(&mut payload);
    // 9 nodes, threshold 1/3: any 3 distinct nodes recover.
    let dir = dispersed(&root, "d", &payload, "9");
    let other = dispersed(&root, "other", b"another payload entirely", "9");
    // Node 1's share copied under node 2's name, and node 3's file replaced by another dispersal's share 3.
    fs::copy(share(&dir, 1), share(&dir, 2)).unwrap();
    fs::copy(share(&other, 3), share(&dir, 3)).unwrap();
    let o = crema(&["vid", "verify", dir.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("node-00002.share: BAD"), "{}", text(&o));
    assert!(text(&o).contains("node-00003.share: BAD"), "{}", text(&o));
    assert!(text(&o).contains("9 shares: 7 ok, 2 bad, 0 missing"), "{}", text(&o));

    // Keep only nodes 1, 2 (a copy of 1) and 3 (foreign): one real node's weight, not three.
    for node in [0, 4, 5, 6, 7, 8] {
        fs::remove_file(share(&dir, node)).unwrap();
    }
    let out = root.join("out.bin");
    let o = crema(&["vid", "recover", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!o.status.success(), "a duplicated share must not count twice: {}", text(&o));
    assert!(text(&o).contains("1 of 3 units verified"), "{}", text(&o));
    assert!(!out.exists(), "nothing written on failure");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn damaged_directories_get_errors_that_name_the_file() {
    let root = scratch("damaged");
    let dir = dispersed(&root, "d", b"payload", "3");
    let d = dir.to_str().unwrap();
    fs::write(dir.join("commitment.bin"), [0u8; 40]).unwrap();
    let o = crema(&["vid", "verify", d]);
    assert!(!o.status.success() && text(&o).contains("commitment.bin is 40 bytes"), "{}", text(&o));
    fs::write(dir.join("commitment.bin"), [0u8; 32]).unwrap();
    let o = crema(&["vid", "verify", d]);
    assert!(!o.status.success(), "a commitment that is not the common data's must fail: {}", text(&o));
    fs::write(dir.join("common.bin"), b"CVC").unwrap();
    let o = crema(&["vid", "verify", d]);
    assert!(!o.status.success() && text(&o).contains("common.bin"), "{}", text(&o));
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    fs::remove_dir_all(&root).unwrap();
}
