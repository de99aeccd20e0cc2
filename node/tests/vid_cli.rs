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
    assert!(text(&o).contains("35 shares: 34 ok, 1 bad"), "{}", text(&o));

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
