//! GF(2^16) shards: `Shard::from_bytes` on the raw input, then a decode of a small code from
//! shards the input describes (any index, size and count; valid checksums, so the decoder's own
//! checks are what is tested). A decode that succeeds must return `k` shards of the code's size.
#![no_main]

use std::sync::OnceLock;

use crema_engine::backend::Cpu;
use crema_engine::erasure::{Gf16Code, Shard};
use libfuzzer_sys::fuzz_target;

fn cpu() -> &'static Cpu {
    static CPU: OnceLock<Cpu> = OnceLock::new();
    CPU.get_or_init(Cpu::new)
}

fuzz_target!(|data: &[u8]| {
    let _ = Shard::from_bytes(data);
    let [a, b, c, rest @ ..] = data else { return };
    let (k, m, size) = (1 + usize::from(a % 16), 1 + usize::from(b % 16), 2 * (1 + usize::from(c % 32)));
    let Ok(code) = Gf16Code::new(k, m, size) else { return };
    // Records: index (1 byte, may be out of range), length (1 byte), then that many bytes.
    let mut shards = Vec::new();
    let mut rest = rest;
    while let [index, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        shards.push(Shard::new(u32::from(*index), tail[..len].to_vec()));
        rest = &tail[len..];
    }
    if let Ok(restored) = code.decode_shards(cpu(), &shards) {
        assert_eq!(restored.len(), k);
        assert!(restored.iter().all(|s| s.len() == size));
    }
});
