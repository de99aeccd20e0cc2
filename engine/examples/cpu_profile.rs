//! A loop over one engine operation on the CPU backend, for profilers (`perf record`) and for
//! CPU-time measurements on a busy machine: prints wall time and process CPU time per call
//! (CPU time from /proc, so it stays meaningful when other work shares the cores).
//!
//! `cargo run --release -p crema-engine --example cpu_profile -- OP [CALLS]`, OP one of
//! `commit`, `cells`, `recover`, `verify128`, `msm` (4096 non-resident points), `ark-msm` (the
//! same through arkworks, for comparison), `fk20-msm`, `avidm-disperse`, `avidm-recover`, and
//! the avidm pieces on its 10 MiB / 1000-unit shape: `gf16-encode`, `gf16-decode`, `blake3`.
//! Tables are built (`KzgContext::warm_up`) before timing. `RAYON_NUM_THREADS=1` for one core.

use std::time::Instant;

use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use crema_engine::backend::Gf16Received;
use crema_engine::field::{Fr, G1Projective};
use crema_engine::kzg::{BYTES_PER_BLOB, Blob, Cell, KzgContext};
use crema_engine::stake::Fraction;
use crema_engine::vid::{Avidm, VidScheme, Weights};
use crema_engine::{BackendChoice, G1Bases};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The crema binary's allocator (see node/src/main.rs), so the figures are what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// User + system CPU time of the whole process, in milliseconds (Linux; 0 elsewhere).
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let fields: Vec<&str> = stat.rsplit_once(") ").map_or(vec![], |(_, rest)| rest.split(' ').collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0 // USER_HZ = 100
}

fn timed(what: &str, calls: usize, mut f: impl FnMut()) {
    f(); // warm
    let (t, c) = (Instant::now(), cpu_ms());
    for _ in 0..calls {
        f();
    }
    let n = calls as f64;
    println!(
        "{what}: {:.2} ms wall, {:.1} ms cpu per call ({calls} calls)",
        t.elapsed().as_secs_f64() * 1e3 / n,
        (cpu_ms() - c) / n
    );
}

fn main() {
    let op = std::env::args().nth(1).unwrap_or_else(|| "cells".into());
    let calls: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let backend = BackendChoice::Cpu.build().expect("cpu backend");
    let mut r = ChaCha8Rng::seed_from_u64(1);
    match op.as_str() {
        "avidm-disperse" | "avidm-recover" => {
            let payload: Vec<u8> = (0..10 << 20).map(|_| r.r#gen()).collect();
            let scheme = Avidm::new(Weights::new(vec![10; 100]).expect("weights"), Fraction::ONE_THIRD);
            if op == "avidm-disperse" {
                timed("avidm disperse 10 MiB -> 1000 units", calls, || {
                    scheme.disperse(backend.as_ref(), &payload).expect("disperse");
                });
            } else {
                let d = scheme.disperse(backend.as_ref(), &payload).expect("disperse");
                // Just above the threshold, every original lost: the decode-heavy case.
                let kept: Vec<_> = d.shares[d.shares.len() - 34..].to_vec();
                timed("avidm recover 10 MiB from 340 recovery units", calls, || {
                    scheme.recover(backend.as_ref(), &d.commitment, &d.common, &kept).expect("recover");
                });
            }
        }
        "gf16-encode" | "gf16-decode" | "blake3" => {
            // The avidm shape of 10 MiB over 1000 units: 334 originals of 31424 bytes.
            let (k, m, len) = (334, 666, 31_424);
            let original: Vec<Vec<u8>> = (0..k).map(|_| (0..len).map(|_| r.r#gen()).collect()).collect();
            let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
            let recovery = backend.gf16_encode(&refs, m).expect("encode");
            match op.as_str() {
                "gf16-encode" => timed("gf16_encode 334:666 x 31424 B", calls, || {
                    backend.gf16_encode(&refs, m).expect("encode");
                }),
                "gf16-decode" => {
                    // Every original lost, the last 340 recovery shards kept (as avidm-recover).
                    let kept = Gf16Received::new(k, m, vec![], (m - 340..m).map(|j| (j, &recovery[j][..])).collect());
                    timed("gf16_decode 334:666 x 31424 B from 340 recovery", calls, || {
                        backend.gf16_decode(&kept).expect("decode");
                    })
                }
                _ => {
                    let all: Vec<&[u8]> = refs.iter().copied().chain(recovery.iter().map(Vec::as_slice)).collect();
                    timed("merkle_leaves 1000 x 31424 B", calls, || {
                        backend.merkle_leaves(&all).expect("hash");
                    })
                }
            }
        }
        "msm" | "ark-msm" => {
            use ark_ec::VariableBaseMSM;
            let n = 4096;
            let g = G1Projective::rand(&mut r);
            let points: Vec<_> = (0..n).map(|i| (g * Fr::from(i as u64 + 1)).into_affine()).collect();
            let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
            let bases = G1Bases::new(points.clone());
            if op == "msm" {
                timed("msm_g1, 4096 non-resident points", calls, || {
                    backend.msm_g1(&bases, &[&scalars]).expect("msm");
                });
            } else {
                timed("arkworks msm_unchecked, 4096 points", calls, || {
                    let _ = G1Projective::msm_unchecked(&points, &scalars);
                });
            }
        }
        "fk20-msm" => {
            let g = G1Projective::rand(&mut r);
            let bases: Vec<G1Bases> = (0..128)
                .map(|i| G1Bases::resident((0..64).map(|j| (g * Fr::from(i * 64 + j + 1)).into_affine()).collect()))
                .collect();
            bases.iter().for_each(|b| backend.prepare_bases(b).expect("tables"));
            let scalars: Vec<Vec<Fr>> = (0..128).map(|_| (0..64).map(|_| Fr::rand(&mut r)).collect()).collect();
            let jobs: Vec<(&G1Bases, &[Fr])> = bases.iter().zip(&scalars).map(|(b, s)| (b, s.as_slice())).collect();
            timed("128 MSMs of 64 resident points", calls, || {
                backend.msm_g1_many(&jobs).expect("msm");
            });
        }
        _ => {
            let ctx = KzgContext::new(backend.clone()).expect("kzg context");
            ctx.warm_up().expect("warm up");
            let mut blob: Box<Blob> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice().try_into().expect("size");
            r.fill(&mut blob[..]);
            blob.chunks_mut(32).for_each(|c| c[0] &= 0x3f);
            let commitment = ctx.blob_to_kzg_commitment(&blob).expect("commit");
            let (cells, proofs) = ctx.compute_cells_and_kzg_proofs(&blob).expect("cells");
            let odd: Vec<u64> = (1..128).step_by(2).collect();
            let half: Vec<&Cell> = odd.iter().map(|&i| &cells[i as usize]).collect();
            match op.as_str() {
                "commit" => timed("blob_to_kzg_commitment", calls, || {
                    ctx.blob_to_kzg_commitment(&blob).expect("commit");
                }),
                "cells" => timed("compute_cells_and_kzg_proofs", calls, || {
                    ctx.compute_cells_and_kzg_proofs(&blob).expect("cells");
                }),
                "recover" => timed("recover_cells_and_kzg_proofs (odd half)", calls, || {
                    ctx.recover_cells_and_kzg_proofs(&odd, &half).expect("recover");
                }),
                "verify128" => {
                    let all: Vec<u64> = (0..128).collect();
                    let (c, p): (Vec<&Cell>, Vec<_>) = (cells.iter().collect(), proofs.iter().collect());
                    timed("verify_cell_kzg_proof_batch (128 cells)", calls, || {
                        assert!(
                            ctx.verify_cell_kzg_proof_batch(&vec![&commitment; 128], &all, &c, &p).expect("verify")
                        );
                    })
                }
                other => panic!("unknown op {other}: see the file's doc comment"),
            }
        }
    }
}
