//! Known-answer GF(2^16) cases from `fixtures/gf16/*.json` (made by `fixtures/generate_gf16.py`
//! with PyPI reed-solomon-leopard, see the README there), run through the reference and cpu
//! backends, both raw and through `Gf16Code` (plain and checksummed).

use std::path::PathBuf;

use crema_engine::backend::{Backend, Cpu, Gf16Received, Reference};
use crema_engine::erasure::gf16::Gf16Code;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Case {
    original_count: usize,
    recovery_count: usize,
    shard_bytes: usize,
    seed: String,
    recovery_sha256: String,
    #[serde(default)]
    recovery_hex: Option<Vec<String>>,
    decode: Vec<Loss>,
}

#[derive(Deserialize)]
struct Loss {
    restored_sha256: String,
    restored_count: usize,
    #[serde(default)]
    kept: Option<Vec<usize>>,
    #[serde(default)]
    lost: Option<Vec<usize>>,
}

/// Original shard `i`: SHA-256(seed ‖ u32le(i) ‖ u32le(block)) blocks, truncated (as in the generator).
fn original_shard(seed: &[u8], i: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    for block in 0u32.. {
        if out.len() >= n {
            break;
        }
        let mut h = Sha256::new();
        h.update(seed);
        h.update((i as u32).to_le_bytes());
        h.update(block.to_le_bytes());
        out.extend_from_slice(&h.finalize());
    }
    out.truncate(n);
    out
}

fn sha256_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/gf16");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn run_case(name: &str, case: &Case, backend: &dyn Backend) {
    let (k, m, n) = (case.original_count, case.recovery_count, case.shard_bytes);
    let seed = hex::decode(&case.seed).unwrap();
    let original: Vec<Vec<u8>> = (0..k).map(|i| original_shard(&seed, i, n)).collect();
    let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
    let who = format!("{name} on {}", backend.name());

    let recovery = backend.gf16_encode(&refs, m).unwrap();
    assert_eq!(sha256_hex(recovery.iter().map(Vec::as_slice)), case.recovery_sha256, "{who}: recovery hash");
    if let Some(hexes) = &case.recovery_hex {
        let got: Vec<String> = recovery.iter().map(hex::encode).collect();
        assert_eq!(&got, hexes, "{who}: recovery bytes");
    }
    let code = Gf16Code::new(k, m, n).unwrap();
    assert_eq!(code.encode(backend, &refs).unwrap(), recovery, "{who}: Gf16Code recovery");
    let shards = code.encode_shards(backend, &refs).unwrap();

    for (l, loss) in case.decode.iter().enumerate() {
        let kept: Vec<usize> = match (&loss.kept, &loss.lost) {
            (Some(kept), _) => kept.clone(),
            (None, Some(lost)) => (0..k + m).filter(|p| lost.binary_search(p).is_err()).collect(),
            (None, None) => panic!("{who}: loss case {l} has neither kept nor lost"),
        };
        let shard = |p: usize| if p < k { refs[p] } else { recovery[p - k].as_slice() };
        let given: Vec<(usize, &[u8])> = kept.iter().map(|&p| (p, shard(p))).collect();
        let restored = backend.gf16_decode(&Gf16Received::from_codeword(k, m, given.iter().copied())).unwrap();
        assert_eq!(restored.len(), loss.restored_count, "{who}: loss case {l} restored count");
        assert_eq!(
            sha256_hex(restored.iter().map(|(_, s)| s.as_slice())),
            loss.restored_sha256,
            "{who}: loss case {l} restored hash"
        );

        assert_eq!(code.decode(backend, &given).unwrap(), original, "{who}: Gf16Code loss case {l}");
        let received: Vec<_> = kept.iter().map(|&p| shards[p].clone()).collect();
        assert_eq!(code.decode_shards(backend, &received).unwrap(), original, "{who}: checksummed loss case {l}");
    }
}

#[test]
fn every_fixture_on_every_backend() {
    let files = fixture_files();
    assert!(files.len() >= 10, "expected the committed fixtures, found {}", files.len());
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let case: Case = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        run_case(&name, &case, &Reference::new());
        run_case(&name, &case, &Cpu::new());
    }
}
