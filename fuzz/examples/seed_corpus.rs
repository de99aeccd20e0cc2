//! Writes a small seed corpus for every fuzz target into `corpus/<target>/` (made by code, not
//! committed): real encodings from small dispersals, shards of a small code, and the repo's
//! own vector fixtures. Run from `fuzz/`: `cargo run --release --example seed_corpus`.

use std::fs;
use std::path::{Path, PathBuf};

use crema_engine::backend::Cpu;
use crema_engine::erasure::Gf16Code;
use crema_engine::vectors::{CaseKind, bls, collect, kzg};
use crema_engine::vid::avidm::Avidm;
use crema_engine::vid::kzg::Kzg;
use crema_engine::stake::Fraction;
use crema_engine::vid::{Codec, Namespaced, NamespacedPayload, VidScheme, Weights};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn put(target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(name), bytes)?;
    Ok(())
}

fn main() -> Result<()> {
    let cpu = Cpu::new();
    let payloads: [&[u8]; 3] = [b"", b"a block", &[7u8; 3000]];

    let avidm = Avidm::new(Weights::new(vec![2, 1, 3])?, Fraction::ONE_THIRD);
    for (i, p) in payloads.iter().enumerate() {
        let d = avidm.disperse(&cpu, p)?;
        put("vid_avidm_wire", &format!("common-{i}"), &d.common.encode())?;
        put("vid_avidm_wire", &format!("share-{i}"), &d.shares[0].encode())?;
    }
    let kzg = Kzg::new(Weights::equal(2)?, Fraction::ONE_HALF)?;
    for (i, p) in payloads[..2].iter().enumerate() {
        let d = kzg.disperse(&cpu, p)?;
        put("vid_kzg_wire", &format!("common-{i}"), &d.common.encode())?;
        put("vid_kzg_wire", &format!("share-{i}"), &d.shares[0].encode())?;
    }
    let payload = NamespacedPayload::new(vec![(7, b"rollup seven".to_vec()), (9, Vec::new())])?;
    let ns = Namespaced::new(avidm).disperse_namespaced(&cpu, &payload)?;
    put("vid_namespaced_wire", "common-avidm", &ns.common.encode())?;
    put("vid_namespaced_wire", "share-avidm", &ns.shares[0].encode())?;
    put("vid_namespaced_wire", "proof", &ns.common.table.proof(0)?.encode())?;
    let ns = Namespaced::new(kzg).disperse_namespaced(&cpu, &payload)?;
    put("vid_namespaced_wire", "common-kzg", &ns.common.encode())?;
    put("vid_namespaced_wire", "share-kzg", &ns.shares[1].encode())?;

    // gf16_shards: the raw encoding of one shard, and a whole small codeword in the target's
    // record format (k, m, size selectors, then index/length/bytes records).
    let code = Gf16Code::new(3, 2, 8)?;
    let data: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i + 1; 8]).collect();
    let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let shards = code.encode(&cpu, &refs)?;
    put("gf16_shards", "shard", &shards[4].to_bytes())?;
    let mut records = vec![2u8, 1, 3];
    for s in shards.iter().skip(1) {
        records.extend([s.index as u8, s.bytes.len() as u8]);
        records.extend(&s.bytes);
    }
    put("gf16_shards", "codeword", &records)?;

    // vectors_case: each fixture, behind the byte that selects its function or handler.
    let root = PathBuf::from("..").join("fixtures");
    for (n, (path, kind)) in collect(&[root])?.into_iter().enumerate() {
        let pick = match &kind {
            CaseKind::Kzg { function } => kzg::FUNCTIONS.iter().position(|f| f == function),
            CaseKind::Bls { handler } => {
                bls::HANDLERS.iter().position(|h| h == handler).map(|i| i + kzg::FUNCTIONS.len())
            }
        };
        let text = fs::read(&path)?;
        // Blob-sized cases (hundreds of KB) would set libFuzzer's input size far too high.
        let (Some(pick), true) = (pick, text.len() <= 8192) else { continue };
        let mut bytes = vec![pick as u8];
        bytes.extend(text);
        put("vectors_case", &format!("fixture-{n}"), &bytes)?;
    }
    println!("seed corpus written to {}", Path::new("corpus").display());
    Ok(())
}
