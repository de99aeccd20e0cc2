//! Temporary profiling loop (not committed).
use crema_engine::BackendChoice;
use crema_engine::kzg::{BYTES_PER_BLOB, Blob, Cell, KzgContext};
use rand::{Rng, SeedableRng};
use std::time::Instant;
fn cpu_ms() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit_once(") ").unwrap().1.split(' ').collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}
fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    let n: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    if what == "field" {
        use ark_ec::{AdditiveGroup, CurveGroup};
        use ark_ff::{Field, UniformRand};
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let mut a = crema_engine::field::Fq::rand(&mut r);
        let b = crema_engine::field::Fq::rand(&mut r);
        let c0 = cpu_ms();
        for _ in 0..n * 1_000_000 {
            a *= b;
        }
        println!("mul: {:.1} ns ({a})", (cpu_ms() - c0) * 1e6 / (n as f64 * 1e6));
        let c0 = cpu_ms();
        for _ in 0..n * 10_000 {
            a = a.inverse().unwrap() + b;
        }
        println!("inv: {:.1} ns", (cpu_ms() - c0) * 1e6 / (n as f64 * 1e4));
        let mut p = crema_engine::field::G1Projective::rand(&mut r);
        let q = crema_engine::field::G1Projective::rand(&mut r).into_affine();
        let c0 = cpu_ms();
        for _ in 0..n * 100_000 {
            p += &q;
        }
        println!("madd: {:.1} ns", (cpu_ms() - c0) * 1e6 / (n as f64 * 1e5));
        let c0 = cpu_ms();
        for _ in 0..n * 100_000 {
            p.double_in_place();
        }
        println!("dbl: {:.1} ns {}", (cpu_ms() - c0) * 1e6 / (n as f64 * 1e5), p.into_affine());
        return;
    }
    if what == "msm" {
        use ark_ec::CurveGroup;
        use ark_ff::UniformRand;
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let be = BackendChoice::Cpu.build().unwrap();
        let g = crema_engine::field::G1Projective::rand(&mut r);
        let bases: Vec<crema_engine::G1Bases> = (0..128)
            .map(|i| {
                crema_engine::G1Bases::resident(
                    (0..64)
                        .map(|j| (g * crema_engine::field::Fr::from((i * 64 + j + 1) as u64)).into_affine())
                        .collect(),
                )
            })
            .collect();
        let sc: Vec<Vec<crema_engine::field::Fr>> =
            (0..128).map(|_| (0..64).map(|_| crema_engine::field::Fr::rand(&mut r)).collect()).collect();
        let jobs: Vec<(&crema_engine::G1Bases, &[crema_engine::field::Fr])> =
            bases.iter().zip(&sc).map(|(b, s)| (b, s.as_slice())).collect();
        be.msm_g1_many(&jobs).unwrap();
        let c0 = cpu_ms();
        for _ in 0..n {
            be.msm_g1_many(&jobs).unwrap();
        }
        println!("msm_many: {:.1} ms cpu per call", (cpu_ms() - c0) / n as f64);
        return;
    }
    let ctx = KzgContext::new(BackendChoice::Cpu.build().unwrap()).unwrap();
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut blob: Box<Blob> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice().try_into().unwrap();
    r.fill(&mut blob[..]);
    for c in blob.chunks_mut(32) {
        c[0] &= 0x3f;
    }
    let (cells, _) = ctx.compute_cells_and_kzg_proofs(&blob).unwrap();
    let idx: Vec<u64> = (1..128).step_by(2).collect();
    let half: Vec<&Cell> = idx.iter().map(|&i| &cells[i as usize]).collect();
    let t = Instant::now();
    let c0 = cpu_ms();
    for _ in 0..n {
        match what.as_str() {
            "commit" => {
                ctx.blob_to_kzg_commitment(&blob).unwrap();
            }
            "cells" => {
                ctx.compute_cells_and_kzg_proofs(&blob).unwrap();
            }
            "recover" => {
                ctx.recover_cells_and_kzg_proofs(&idx, &half).unwrap();
            }
            _ => panic!("commit|cells|recover"),
        }
    }
    println!("{what}: {:?} wall, {:.1} ms cpu per call", t.elapsed() / n as u32, (cpu_ms() - c0) / n as f64);
}
