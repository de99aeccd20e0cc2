//! The gpu backend's algebra (sums, NTT, MSM, and BLS above the sums) against the reference and the CPU, byte for byte,
//! at the conformance sizes and on the adversarial cases.
//!
//! One context is shared by every test of this file: building the pipelines is the slow part
//! on lavapipe. Without an adapter these tests print a loud skip; with `CREMA_REQUIRE_GPU=1`
//! they fail.

use std::sync::OnceLock;

use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::UniformRand;
use ark_ff::{One, Zero};
use crema_engine::backend::Cpu;
use crema_engine::backend::Gpu;
use crema_engine::backend::conformance;
use crema_engine::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective, g1p_to_bytes, g2p_to_bytes};
use crema_engine::{Backend, Direction, G1Bases};

fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    let g = GPU.get_or_init(|| {
        let t = std::time::Instant::now();
        let g = Gpu::new().map_err(|e| e.to_string())?;
        eprintln!("GPU adapter: {} ({:?} to build the context)", g.adapter().name, t.elapsed());
        Ok(g)
    });
    match g {
        Ok(g) => Some(g),
        Err(e) => {
            crema_kernels::skip_gpu_test(e);
            None
        }
    }
}

#[test]
fn sums_match_the_reference() {
    let Some(g) = gpu() else { return };
    conformance::check_sums(g);
}

#[test]
fn bls_matches_the_reference() {
    // Key and signature sums on the device, hashing and pairings on blst.
    let Some(g) = gpu() else { return };
    conformance::check_bls(g);
}

#[test]
fn many_groups_of_every_size_at_once() {
    let Some(g) = gpu() else { return };
    let mut r = conformance::rng(77);
    let base1 = G1Projective::rand(&mut r);
    let base2 = G2Projective::rand(&mut r);
    // Sizes around the reduction tree's fan-in (16) and its square.
    let sizes = [0usize, 1, 2, 15, 16, 17, 31, 32, 33, 255, 256, 257, 0, 3];
    let p1: Vec<Vec<G1Affine>> = sizes
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            G1Projective::normalize_batch(&(0..n).map(|i| base1 * Fr::from((i * 7 + k) as u64)).collect::<Vec<_>>())
        })
        .collect();
    let p2: Vec<Vec<G2Affine>> = sizes
        .iter()
        .map(|&n| G2Projective::normalize_batch(&(0..n as u64).map(|i| base2 * Fr::from(i + 1)).collect::<Vec<_>>()))
        .collect();
    let refs1: Vec<&[G1Affine]> = p1.iter().map(Vec::as_slice).collect();
    let refs2: Vec<&[G2Affine]> = p2.iter().map(Vec::as_slice).collect();
    let (a, b) = (g.sum_g1(&refs1).unwrap(), Cpu::new().sum_g1(&refs1).unwrap());
    assert_eq!(a.iter().map(g1p_to_bytes).collect::<Vec<_>>(), b.iter().map(g1p_to_bytes).collect::<Vec<_>>());
    let (a, b) = (g.sum_g2(&refs2).unwrap(), Cpu::new().sum_g2(&refs2).unwrap());
    assert_eq!(a.iter().map(g2p_to_bytes).collect::<Vec<_>>(), b.iter().map(g2p_to_bytes).collect::<Vec<_>>());
}

#[test]
fn sums_of_equal_and_cancelling_points() {
    let Some(g) = gpu() else { return };
    let p = G1Affine::generator();
    let q = G2Affine::generator();
    // 40 copies: every tree level doubles; P + (−P) pairs: every level cancels; identities only.
    let same1 = vec![p; 40];
    let cancel1: Vec<G1Affine> = (0..40).map(|i| if i % 2 == 0 { p } else { -p }).collect();
    let ids1 = vec![G1Affine::identity(); 20];
    let got = g.sum_g1(&[&same1, &cancel1, &ids1]).unwrap();
    assert_eq!(got[0].into_affine(), (G1Projective::generator() * Fr::from(40u64)).into_affine());
    assert!(got[1].into_affine().is_zero() && got[2].into_affine().is_zero());
    let same2 = vec![q; 40];
    let cancel2: Vec<G2Affine> = (0..41).map(|i| if i % 2 == 0 { q } else { -q }).collect();
    let got = g.sum_g2(&[&same2, &cancel2, &[]]).unwrap();
    assert_eq!(got[0].into_affine(), (G2Projective::generator() * Fr::from(40u64)).into_affine());
    assert_eq!(got[1].into_affine(), q);
    assert!(got[2].into_affine().is_zero());
    assert!(g.sum_g1(&[]).unwrap().is_empty());
}

#[test]
fn ntt_matches_the_reference() {
    let Some(g) = gpu() else { return };
    conformance::check_ntt(g);
}

/// Every size 1 … 2^16 (2^20 is `#[ignore]`d: slow on lavapipe), batches, cosets, both
/// directions, against the CPU backend (arkworks' Radix2EvaluationDomain).
fn ntt_against_cpu(g: &Gpu, log: u32, batch: usize) {
    let n = 1usize << log;
    let mut r = conformance::rng(500 + u64::from(log));
    let mut input: Vec<Fr> = (0..n * batch).map(|_| Fr::rand(&mut r)).collect();
    input[0] = -Fr::from(1u64);
    let cpu = Cpu::new();
    for coset in [None, Some(Fr::from(7u64)), Some(Fr::rand(&mut r))] {
        for dir in [Direction::Forward, Direction::Inverse] {
            let (mut a, mut b) = (input.clone(), input.clone());
            g.ntt(&mut a, n, dir, coset).unwrap();
            cpu.ntt(&mut b, n, dir, coset).unwrap();
            assert!(a == b, "ntt 2^{log} x{batch} {dir:?} coset {coset:?} differs from the CPU");
        }
    }
}

#[test]
fn ntt_every_size_and_batch_matches_the_cpu() {
    let Some(g) = gpu() else { return };
    for log in 0..=9 {
        ntt_against_cpu(g, log, 3);
    }
    // FK20's shape (64 vectors of 128) and KZG's sizes.
    ntt_against_cpu(g, 7, 64);
    ntt_against_cpu(g, 12, 2);
    ntt_against_cpu(g, 13, 1);
    ntt_against_cpu(g, 16, 1);
}

#[test]
#[ignore = "2^20 takes long on lavapipe; run with --include-ignored on a GPU box"]
fn ntt_2_20_matches_the_cpu() {
    let Some(g) = gpu() else { return };
    ntt_against_cpu(g, 20, 1);
}

#[test]
fn msm_matches_the_reference() {
    let Some(g) = gpu() else { return };
    conformance::check_msm(g);
}

/// Resident (fixed-base table) and per-call bases, batches, adversarial scalars and points,
/// against the CPU backend.
fn msm_against_cpu(g: &Gpu, n: usize, resident: bool, seed: u64) {
    let mut r = conformance::rng(seed);
    let base = G1Projective::rand(&mut r);
    let mut pts: Vec<G1Projective> = (0..n as u64).map(|i| base * Fr::from(i * 3 + 1)).collect();
    if n >= 8 {
        pts[1] = G1Projective::zero();
        pts[2] = pts[0];
        pts[3] = -pts[0];
        pts[n - 1] = pts[n - 2];
    }
    let pts = G1Projective::normalize_batch(&pts);
    let bases = if resident { G1Bases::resident(pts) } else { G1Bases::new(pts) };
    let random: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
    let mut mixed = random.clone();
    for (i, x) in mixed.iter_mut().enumerate() {
        match i % 5 {
            0 => *x = Fr::zero(),
            1 => *x = -Fr::one(),
            2 => *x = Fr::one(),
            _ => {}
        }
    }
    let equal = vec![Fr::rand(&mut r); n];
    let minus_one = vec![-Fr::one(); n];
    let short = random[..n / 3].to_vec();
    let batch: Vec<&[Fr]> = vec![&random, &mixed, &equal, &minus_one, &short, &[]];
    let got = g.msm_g1(&bases, &batch).unwrap();
    let want = Cpu::new().msm_g1(&bases, &batch).unwrap();
    let enc = |v: &[G1Projective]| v.iter().map(g1p_to_bytes).collect::<Vec<_>>();
    assert_eq!(enc(&got), enc(&want), "msm n={n} resident={resident}");
    // Again: resident bases now come from the device-side table cache.
    if resident {
        assert_eq!(enc(&g.msm_g1(&bases, &batch[..1]).unwrap()), enc(&want[..1]));
    }
}

#[test]
fn msm_resident_and_per_call_bases_match_the_cpu() {
    let Some(g) = gpu() else { return };
    for (k, n) in [1usize, 2, 8, 63, 64, 65, 1000, 4096].into_iter().enumerate() {
        msm_against_cpu(g, n, true, 600 + k as u64);
        msm_against_cpu(g, n, false, 700 + k as u64);
    }
}

#[test]
fn msm_many_matches_the_cpu() {
    let Some(g) = gpu() else { return };
    let mut r = conformance::rng(800);
    // FK20's shape, smaller: 16 resident base sets of 64, each with its own scalars.
    let sets: Vec<G1Bases> = (0..16)
        .map(|_| {
            let b = G1Projective::rand(&mut r);
            G1Bases::resident(G1Projective::normalize_batch(&(1..=64u64).map(|i| b * Fr::from(i)).collect::<Vec<_>>()))
        })
        .collect();
    let scalars: Vec<Vec<Fr>> = (0..16)
        .map(|k| match k {
            0 => vec![Fr::zero(); 64],
            1 => vec![-Fr::one(); 64],
            2 => vec![Fr::one(); 10],
            _ => (0..64).map(|_| Fr::rand(&mut r)).collect(),
        })
        .collect();
    let jobs: Vec<(&G1Bases, &[Fr])> = sets.iter().zip(&scalars).map(|(b, s)| (b, s.as_slice())).collect();
    let enc = |v: &[G1Projective]| v.iter().map(g1p_to_bytes).collect::<Vec<_>>();
    let want = Cpu::new().msm_g1_many(&jobs).unwrap();
    assert_eq!(enc(&g.msm_g1_many(&jobs).unwrap()), enc(&want));
    // Mixed resident and per-call bases take the one-by-one path.
    let plain = G1Bases::new(sets[3].points().to_vec());
    let mixed: Vec<(&G1Bases, &[Fr])> = vec![jobs[0], (&plain, &scalars[3]), jobs[5]];
    assert_eq!(enc(&g.msm_g1_many(&mixed).unwrap()), enc(&[want[0], want[3], want[5]]));
    assert!(g.msm_g1_many(&[]).unwrap().is_empty());
}

/// Rough lavapipe figures for kernels/README.md (the machine is shared: treat as ±50%).
#[test]
#[ignore = "timings for kernels/README.md; run with --ignored --nocapture"]
fn timings() {
    use std::time::Instant;
    let t = Instant::now();
    let Ok(g) = Gpu::new() else { return crema_kernels::skip_gpu_test("no adapter") };
    eprintln!("Gpu::new (GpuContext::new): {:?}", t.elapsed());
    let time = |name: &str, f: &mut dyn FnMut()| {
        f(); // first call: first-dispatch shader compilation, tables
        let t = Instant::now();
        f();
        eprintln!("{name}: {:?}", t.elapsed());
    };
    let mut r = conformance::rng(1);
    let v: Vec<Fr> = (0..8192).map(|_| Fr::rand(&mut r)).collect();
    let mut a = v[..4096].to_vec();
    time("ntt 2^12 forward", &mut || g.ntt(&mut a, 4096, Direction::Forward, None).unwrap());
    let mut a = v.clone();
    time("ntt 2^13 inverse, coset", &mut || g.ntt(&mut a, 8192, Direction::Inverse, Some(Fr::from(7u64))).unwrap());
    let mut a = v.clone();
    time("ntt 64 x 2^7 (FK20)", &mut || g.ntt(&mut a, 128, Direction::Forward, None).unwrap());
    let base = G1Projective::rand(&mut r);
    let pts = G1Projective::normalize_batch(&(1..=4096u64).map(|i| base * Fr::from(i)).collect::<Vec<_>>());
    let plain = G1Bases::new(pts.clone());
    let resident = G1Bases::resident(pts.clone());
    let s = &v[..4096];
    time("msm 2^12 per-call bases", &mut || drop(g.msm_g1(&plain, &[s]).unwrap()));
    let t = Instant::now();
    g.msm_g1(&resident, &[s]).unwrap();
    eprintln!("msm 2^12 resident: first call incl. table build: {:?}", t.elapsed());
    time("msm 2^12 resident (fixed-base table)", &mut || drop(g.msm_g1(&resident, &[s]).unwrap()));
    let sets: Vec<G1Bases> = pts.chunks(64).take(64).map(|c| G1Bases::resident(c.to_vec())).collect();
    let sets: Vec<G1Bases> = sets.iter().chain(&sets).map(|b| G1Bases::resident(b.points().to_vec())).collect();
    let jobs: Vec<(&G1Bases, &[Fr])> = sets.iter().enumerate().map(|(k, b)| (b, &v[k * 64..(k + 1) * 64])).collect();
    time("msm_g1_many 128 x 64 resident (FK20)", &mut || drop(g.msm_g1_many(&jobs).unwrap()));
    time("sum_g1 4096", &mut || drop(g.sum_g1(&[&pts]).unwrap()));
    let p2 = G2Projective::normalize_batch(
        &(1..=1024u64).map(|i| G2Projective::generator() * Fr::from(i)).collect::<Vec<_>>(),
    );
    time("sum_g2 1024", &mut || drop(g.sum_g2(&[&p2]).unwrap()));
}

#[test]
fn work_is_cut_at_the_storage_binding_limit() {
    if gpu().is_none() {
        return;
    }
    for (limit, n) in [(1usize << 20, 1000usize), (64 << 10, 600)] {
        let g = Gpu::with_storage_binding_limit(limit as u64).unwrap();
        // MSM: vectors cut into pieces, per-call bases cut into chunks, tables too big for a
        // binding fall back to per-call Pippenger; all summed back on the device.
        msm_against_cpu(&g, n, false, 900);
        msm_against_cpu(&g, n, true, 901);
        // NTT: batches of whole vectors; a vector bigger than a binding is refused, typed.
        let per_vector = limit / 32;
        let size = (per_vector / 4).next_power_of_two();
        ntt_against_cpu(&g, size.trailing_zeros(), 9);
        let mut big = vec![Fr::one(); per_vector * 2];
        let err = g.ntt(&mut big, per_vector * 2, Direction::Forward, None).unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
        // Sums: groups spread over many batches and summed again.
        let q = G2Projective::generator();
        let p2 = G2Projective::normalize_batch(&(1..=700u64).map(|i| q * Fr::from(i)).collect::<Vec<_>>());
        let groups: Vec<&[G2Affine]> = vec![&p2, &p2[..3], &[]];
        let (a, b) = (g.sum_g2(&groups).unwrap(), Cpu::new().sum_g2(&groups).unwrap());
        assert_eq!(a.iter().map(g2p_to_bytes).collect::<Vec<_>>(), b.iter().map(g2p_to_bytes).collect::<Vec<_>>());
    }
}
