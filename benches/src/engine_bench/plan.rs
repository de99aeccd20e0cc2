//! The benchmark plan: every operation and size `crema bench` measures, quick or full.
//!
//! Each case builds its inputs once on the CPU (seeded), and its runner times one call of the
//! engine's public API on the backend under test. The timed call is what a user of the engine
//! would make: the raw `Backend` primitive for the primitive families, the high-level engine
//! function (KZG, BLS certificates, VID) for the rest.

use crema_engine::backend::{Cpu, Direction, Gf16Received};
use crema_engine::field::{fr_to_bytes, g1p_to_bytes, g2p_to_bytes};
use crema_engine::kzg::BYTES_PER_BLOB;
use crema_engine::kzg::TrustedSetup;
use crema_engine::stake::Fraction;
use crema_engine::{Backend, G1Bases};

use super::inputs;
use super::ops::{Case, Failure, Runner, Target, Work, digest_all};
use super::vid;
use crema_engine::vid::SchemeKind;

const KIB: usize = 1024;
const MB: usize = 1_000_000;

/// Every case, in the order they run and print. `quick` picks sizes that keep `--backend all`
/// under a minute on a 2-core machine; the full plan runs the whole ranges.
pub fn plan(quick: bool) -> Vec<Case> {
    let pick = |q: &[usize], full: &[usize]| if quick { q.to_vec() } else { full.to_vec() };
    let mut cases = Vec::new();
    for (k, m, len) in [(1024, 1024, KIB), (4096, 4096, KIB), (334, 666, 30_000)] {
        cases.push(gf16_encode(k, m, len));
    }
    for (k, m) in if quick { vec![(1024, 1024)] } else { vec![(1024, 1024), (4096, 4096)] } {
        cases.push(gf16_decode(k, m, KIB));
    }
    for n in pick(&[200], &[1000]) {
        cases.push(merkle_leaves(n, 30_000));
    }
    for log in pick(&[12, 14], &[12, 14, 16, 18, 20]) {
        cases.push(ntt(log));
    }
    for log in pick(&[10, 12], &[10, 12, 14, 16, 18, 20]) {
        cases.push(msm(log));
    }
    cases.push(msm_resident());
    for n in pick(&[1024], &[1024, 1 << 20]) {
        cases.push(sum_g1(n));
    }
    for n in pick(&[1024], &[1024, 1 << 20]) {
        cases.push(sum_g2(n));
    }
    cases.push(blob_commitment());
    cases.push(cells_and_proofs());
    for n in pick(&[100], &[1000]) {
        cases.push(certificate_verify(n));
    }
    // VID: the sizes (1, 5, 10, 32 MB to 100 and 1000 units) for AvidM; KZG proofs cost
    // ~0.1 s per 128 KiB blob on the CPU (seconds on lavapipe), so its sizes stop at 5 MB.
    let (avidm_sizes, kzg_sizes) =
        if quick { (vec![MB], vec![100_000]) } else { (vec![MB, 5 * MB, 10 * MB, 32 * MB], vec![MB, 5 * MB]) };
    let units: &[u32] = if quick { &[100] } else { &[100, 1000] };
    for (scheme, sizes, at) in [(SchemeKind::Avidm, avidm_sizes, 10 * MB), (SchemeKind::Kzg, kzg_sizes, MB)] {
        for &bytes in &sizes {
            for &u in units {
                cases.push(vid::disperse(scheme, bytes, u));
            }
        }
        let (bytes, u) = if quick { (sizes[0], 100) } else { (at, 1000) };
        cases.push(vid::verify_share(scheme, bytes, u));
        cases.push(vid::recover(scheme, bytes, u));
    }
    cases
}

/// `2^log` as shown in the size column.
fn pow2(log: usize) -> String {
    format!("2^{log}")
}

/// Human size of a shard.
fn shard_size(len: usize) -> String {
    if len.is_multiple_of(KIB) { format!("{} KiB", len / KIB) } else { format!("{} KB", len / 1000) }
}

fn gf16_encode(k: usize, m: usize, len: usize) -> Case {
    Case {
        family: "gf16",
        op: "gf16_encode",
        size: format!("{k}:{m} x {}", shard_size(len)),
        work: Work::Bytes((k * len) as u64),
        timed: "Backend::gf16_encode (recovery shards returned to the host)",
        prepare: Box::new(move || {
            let data = inputs::shards(1, k, len);
            Ok(Box::new(move |t: &Target| {
                let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                let backend = t.backend()?;
                t.time(
                    || Ok(backend.gf16_encode(&refs, m)?),
                    |out, h| {
                        digest_all(h, out.iter().map(Vec::as_slice));
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn gf16_decode(k: usize, m: usize, len: usize) -> Case {
    Case {
        family: "gf16",
        op: "gf16_decode",
        size: format!("{k}:{m} x {}", shard_size(len)),
        work: Work::Bytes((k * len) as u64),
        timed: "Backend::gf16_decode with min(k, m) originals lost (the worst case)",
        prepare: Box::new(move || {
            let data = inputs::shards(2, k, len);
            let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            let recovery = Cpu::new().gf16_encode(&refs, m)?;
            let lost = k.min(m);
            Ok(Box::new(move |t: &Target| {
                let kept = Gf16Received::new(
                    k,
                    m,
                    (lost..k).map(|i| (i, data[i].as_slice())).collect(),
                    recovery.iter().map(Vec::as_slice).enumerate().collect(),
                );
                let backend = t.backend()?;
                t.time(
                    || Ok(backend.gf16_decode(&kept)?),
                    |out, h| {
                        // Decoding must give the originals back, not merely agree across backends.
                        if out.len() != lost || out.iter().any(|(i, s)| data.get(*i) != Some(s)) {
                            return Err(Failure::Error(anyhow::anyhow!("gf16_decode returned wrong shards")));
                        }
                        digest_all(h, out.iter().map(|(_, s)| s.as_slice()));
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn merkle_leaves(n: usize, len: usize) -> Case {
    Case {
        family: "merkle",
        op: "merkle_leaves",
        size: format!("{n} x {}", shard_size(len)),
        work: Work::Bytes((n * len) as u64),
        timed: "Backend::merkle_leaves (BLAKE3 of every chunk; uploads and readback included)",
        prepare: Box::new(move || {
            let data = inputs::shards(3, n, len);
            Ok(Box::new(move |t: &Target| {
                let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                let backend = t.backend()?;
                t.time(
                    || Ok(backend.merkle_leaves(&refs)?),
                    |out, h| {
                        digest_all(h, out.iter().map(|l| &l[..]));
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn ntt(log: usize) -> Case {
    let n = 1usize << log;
    Case {
        family: "ntt",
        op: "ntt",
        size: pow2(log),
        work: Work::Items { count: n as u64, unit: "elements" },
        timed: "Backend::ntt forward, one vector, in place (the input copy is not timed)",
        prepare: Box::new(move || {
            let input = inputs::scalars(4, n);
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                let mut values = input.clone();
                t.time(
                    move || {
                        backend.ntt(&mut values, n, Direction::Forward, None)?;
                        Ok(values)
                    },
                    |out, h| {
                        out.iter().for_each(|x| {
                            h.update(&fr_to_bytes(x));
                        });
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

/// Times `msm_g1` over `bases`: the same (resident) bases every call, or with `fresh` a new
/// `G1Bases` (a new id, copied untimed) every call so no backend can reuse an earlier upload.
fn msm_runner(bases: G1Bases, scalars: Vec<crema_engine::field::Fr>, fresh: bool) -> Runner {
    Box::new(move |t: &Target| {
        let backend = t.backend()?;
        let bases = if fresh { G1Bases::new(bases.points().to_vec()) } else { bases.clone() };
        // Resident bases: build the backend's tables now, untimed (they would otherwise build
        // in the background while the first runs are timed).
        if bases.is_resident() {
            backend.prepare_bases(&bases)?;
        }
        t.time(
            || Ok(backend.msm_g1(&bases, &[&scalars])?),
            |out, h| {
                out.iter().for_each(|p| {
                    h.update(&g1p_to_bytes(p));
                });
                Ok(())
            },
        )
    })
}

fn msm(log: usize) -> Case {
    let n = 1usize << log;
    Case {
        family: "msm",
        op: "msm_g1",
        size: pow2(log),
        work: Work::Items { count: n as u64, unit: "points" },
        timed: "Backend::msm_g1 over random non-resident bases, a new G1Bases each call (nothing cached)",
        prepare: Box::new(move || Ok(msm_runner(G1Bases::new(inputs::g1_points(5, n)), inputs::scalars(6, n), true))),
    }
}

fn msm_resident() -> Case {
    Case {
        family: "msm",
        op: "msm_g1_resident",
        size: "4096 (KZG setup)".into(),
        work: Work::Items { count: 4096, unit: "points" },
        timed: "Backend::msm_g1 over the resident KZG Lagrange setup (tables built before timing)",
        prepare: Box::new(|| {
            let setup = TrustedSetup::ethereum()?;
            let bases = G1Bases::resident(setup.g1_lagrange.clone());
            Ok(msm_runner(bases, inputs::scalars(7, setup.g1_lagrange.len()), false))
        }),
    }
}

fn size_points(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) { format!("{}Mi points", n >> 20) } else { format!("{n} points") }
}

fn sum_g1(n: usize) -> Case {
    Case {
        family: "sum",
        op: "sum_g1",
        size: size_points(n),
        work: Work::Items { count: n as u64, unit: "points" },
        timed: "Backend::sum_g1, one group (public-key aggregation)",
        prepare: Box::new(move || {
            let pts = inputs::g1_points(8, n);
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(backend.sum_g1(&[&pts])?),
                    |out, h| {
                        out.iter().for_each(|p| {
                            h.update(&g1p_to_bytes(p));
                        });
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn sum_g2(n: usize) -> Case {
    Case {
        family: "sum",
        op: "sum_g2",
        size: size_points(n),
        work: Work::Items { count: n as u64, unit: "points" },
        timed: "Backend::sum_g2, one group (signature aggregation)",
        prepare: Box::new(move || {
            let pts = inputs::g2_points(9, n);
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(backend.sum_g2(&[&pts])?),
                    |out, h| {
                        out.iter().for_each(|p| {
                            h.update(&g2p_to_bytes(p));
                        });
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn blob_commitment() -> Case {
    Case {
        family: "kzg",
        op: "blob_to_kzg_commitment",
        size: "1 blob".into(),
        work: Work::Bytes(BYTES_PER_BLOB as u64),
        timed: "KzgContext::blob_to_kzg_commitment (decode, 4096-point MSM, compress)",
        prepare: Box::new(|| {
            let blob = inputs::blob(10);
            Ok(Box::new(move |t: &Target| {
                let kzg = t.kzg()?;
                t.time(
                    || Ok(kzg.blob_to_kzg_commitment(&blob)?),
                    |c, h| {
                        h.update(c);
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn cells_and_proofs() -> Case {
    Case {
        family: "kzg",
        op: "compute_cells_and_kzg_proofs",
        size: "1 blob".into(),
        work: Work::Bytes(BYTES_PER_BLOB as u64),
        timed: "KzgContext::compute_cells_and_kzg_proofs (NTTs + FK20; tables built in the warm-up)",
        prepare: Box::new(|| {
            let blob = inputs::blob(11);
            Ok(Box::new(move |t: &Target| {
                let kzg = t.kzg()?;
                t.time(
                    || Ok(kzg.compute_cells_and_kzg_proofs(&blob)?),
                    |(cells, proofs), h| {
                        digest_all(h, cells.iter().map(|c| &c[..]).chain(proofs.iter().map(|p| &p[..])));
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

fn certificate_verify(n: usize) -> Case {
    Case {
        family: "bls",
        op: "certificate_verify",
        size: format!("{n} signers"),
        work: Work::Items { count: n as u64, unit: "signers" },
        timed: "bls::Certificate::verify (key sum on the backend, hash to G2 and pairings on the CPU)",
        prepare: Box::new(move || {
            let (table, cert) = inputs::certificate(12, n)?;
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(cert.verify(&table, inputs::CERT_MSG, Fraction::TWO_THIRDS, backend)?),
                    |ok, h| {
                        if !ok {
                            return Err(Failure::Error(anyhow::anyhow!("a valid certificate did not verify")));
                        }
                        h.update(&[1]);
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_plan_is_a_subset_of_ops_with_smaller_sizes() {
        let (quick, full) = (plan(true), plan(false));
        assert!(quick.len() < full.len());
        let ops = |p: &[Case]| p.iter().map(|c| c.op).collect::<std::collections::BTreeSet<_>>();
        // Quick covers every operation, only at fewer or smaller sizes.
        assert_eq!(ops(&quick), ops(&full));
        let largest = |p: &[Case], op: &str| p.iter().filter(|c| c.op == op).map(|c| c.work.amount()).max().unwrap();
        for op in ops(&full) {
            assert!(largest(&quick, op) <= largest(&full, op), "{op}");
        }
        // The ops whose full sizes take seconds per call are much smaller in the quick plan.
        for op in ["merkle_leaves", "ntt", "msm_g1", "sum_g1", "sum_g2", "certificate_verify", "avidm_disperse"] {
            assert!(largest(&quick, op) * 4 <= largest(&full, op), "{op}");
        }
    }

    #[test]
    fn labels_are_unique() {
        for quick in [true, false] {
            let p = plan(quick);
            let labels: std::collections::BTreeSet<_> = p.iter().map(Case::label).collect();
            assert_eq!(labels.len(), p.len(), "two cases share a label");
        }
    }
}
