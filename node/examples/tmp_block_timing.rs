//! Throwaway: times the per-block engine work of a 10-node devnet block (not committed).
use crema_engine::BackendChoice;
use crema_engine::vid::{SchemeKind, Vid, Weights};
use crema_node::da::{block::Block, mascarpone, savoiardi};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let backend = BackendChoice::Cpu.build().unwrap();
    let vid = Vid::new(SchemeKind::Avidm, Weights::new(vec![1; 10]).unwrap(), None).unwrap();
    let mut block = Block::new();
    for i in 0..76u64 {
        block.push(i % 4, vec![(i as u8).wrapping_mul(7); 65536]);
    }
    for _ in 0..5 {
        let t = Instant::now();
        let b = savoiardi::build(&vid, backend.as_ref(), &block, 0).unwrap();
        let t1 = t.elapsed();
        let t = Instant::now();
        let ok = mascarpone::payload_matches(&vid, backend.as_ref(), &b.payload_commitment, &b.payload, 10_000_000);
        let t2 = t.elapsed();
        let s = crema_node::consensus::VidShare {
            view: 1,
            commitment: b.payload_commitment,
            node: 3,
            common: b.common.clone(),
            share: b.shares[3].clone(),
        };
        let t = Instant::now();
        let ok2 = savoiardi::share_verifies(&vid, backend.as_ref(), &s);
        let t3 = t.elapsed();
        println!(
            "build {:?} check_payload {:?} ({ok}) verify_share {:?} ({ok2}) share {} B common {} B",
            t1,
            t2,
            t3,
            b.shares[3].len(),
            b.common.len()
        );
    }
}
