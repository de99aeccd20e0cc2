// GF(2^16) arithmetic and the shard layout shared by every Leopard kernel (gf16_fft.wgsl,
// gf16_aux.wgsl are appended to this file on the host; WGSL has no #include).
//
// `gf` is the resident table buffer (src/gf16.rs `pack_tables`):
//   gf[x]              = exp[x] << 16 | log[x]     for x < 65536 (one lookup buffer, two tables)
//   gf[SKEW + j]       = log of the FFT twiddle skew[j], ZERO_LOG for the element 0
//   gf[LOG_WALSH + i]  = Walsh–Hadamard transform of the log table (decoder only)
//
// Shard data: row r (one shard) is `stride` u32 words; each 64-byte block of a shard is 16 words
// holding 32 symbols as 32 low bytes (words 0..8) then 32 high bytes (words 8..16). A "column
// group" g is 4 symbols: the low word at block*16 + q and the high word 8 further on
// (g = block*8 + q). Adjacent invocations take adjacent column groups, so a warp reads whole
// 32-byte sectors of one row; the high-byte load is the mirror sector.

@group(0) @binding(0) var<storage, read> gf: array<u32>;

const MODULUS: u32 = 65535u;
const SKEW: u32 = 65536u;
const LOG_WALSH: u32 = 131072u;
// The skew log standing for the field element 0 (the multiply is then skipped).
const ZERO_LOG: u32 = 65535u;

// (a + b) mod 65535 for a, b < 65535.
fn add_mod(a: u32, b: u32) -> u32 {
    let s = a + b;
    return select(s, s - MODULUS, s >= MODULUS);
}

// (a - b) mod 65535 for a, b < 65535.
fn sub_mod(a: u32, b: u32) -> u32 {
    return add_mod(a, MODULUS - b);
}

// The 4 symbols packed in v (x: low bytes, y: high bytes) each times exp(lw), lw < 65535.
// Two dependent lookups per symbol (log, then exp); zero symbols are masked with a select, not a
// branch, so the lanes of a warp never diverge.
fn mul4(v: vec2<u32>, lw: u32) -> vec2<u32> {
    var lo = 0u;
    var hi = 0u;
    for (var s = 0u; s < 32u; s += 8u) {
        let x = ((v.x >> s) & 0xFFu) | (((v.y >> s) & 0xFFu) << 8u);
        let p = select(0u, gf[add_mod(gf[x] & 0xFFFFu, lw)] >> 16u, x != 0u);
        lo |= (p & 0xFFu) << s;
        hi |= (p >> 8u) << s;
    }
    return vec2<u32>(lo, hi);
}

// Word index of the low bytes of column group g in row r (the high bytes are 8 words on).
fn word_of(r: u32, g: u32, stride: u32) -> u32 {
    return r * stride + (g >> 3u) * 16u + (g & 7u);
}
