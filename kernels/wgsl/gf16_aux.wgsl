// The Leopard kernels besides the FFT passes (gf16_fft.wgsl):
//   fold            high-rate encode with more than 256 original chunks: XOR groups of 256
//                   chunks, so the FFT's load folds at most 256
// and the decoder's (naive.rs `decode`; the FFT's first pass takes the formal derivative):
//   fwht, eval_mul  erasure-locator logs for all 65536 points (naive.rs `erasure_logs`):
//                   WHT(WHT(erased) * log_walsh) mod 65535, in place in `dst`
//   gather          restored rows: dst[i] = src[list[i]] * exp(-log[list[i]])

struct Aux {
    row_width: u32, // invocations per row of the 2-D grid
    stride: u32,    // gather, fold: u32 words per row
    groups: u32,    // gather: column groups per row
    count: u32,     // gather: rows to restore; fold: chunks
    list: u32,      // gather: word offset of the restore list in `aux`
    d_lo: u32,      // fwht: smallest butterfly distance of the pass
    chunk_rows: u32, // fold: rows per chunk (stride and count = chunks are shared)
    _pad: u32,
}

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> aux: array<u32>;
@group(0) @binding(4) var<uniform> p: Aux;

fn linear(id: vec3<u32>) -> u32 {
    return id.x + id.y * p.row_width;
}

// Chunks one fold invocation XORs together.
const FOLD: u32 = 256u;

// Group q of F = 256 chunks: each word of chunk qF becomes the XOR of that word in chunks
// qF .. qF+F-1 (those that exist); the FFT then folds chunks 0, F, 2F, ... as it loads. Why a
// kernel of its own: llvmpipe stops an invocation after 65535 loop iterations in all (its loop
// limiter), so no loop may run once per chunk of a 65535:1 code; and folding in groups spreads
// the work over more invocations. In place without a race: the only chunk group q writes is
// its own first one, which no other group reads.
@compute @workgroup_size(64)
fn fold(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = linear(id);
    let row_words = p.chunk_rows * p.stride;
    let q = i / row_words;
    if (q >= (p.count + FOLD - 1u) / FOLD) {
        return;
    }
    let at = i % row_words;
    var x = 0u;
    for (var c = q * FOLD; c < min(q * FOLD + FOLD, p.count); c++) {
        x ^= dst[c * row_words + at];
    }
    dst[q * FOLD * row_words + at] = x;
}

// Four layers of the Walsh–Hadamard transform mod 65535 over 65536 values: (a, b) -> (a+b, a-b)
// on the 16 values r0 + o + j*d_lo. Layers commute, so four passes of any distances cover it.
@compute @workgroup_size(64)
fn fwht(@builtin(global_invocation_id) id: vec3<u32>) {
    let q = linear(id);
    if (q >= 4096u) {
        return;
    }
    let first = (q / p.d_lo) * (p.d_lo << 4u) + q % p.d_lo;
    var v: array<u32, 16>;
    for (var j = 0u; j < 16u; j++) {
        v[j] = dst[first + j * p.d_lo];
    }
    for (var h = 1u; h < 16u; h <<= 1u) {
        for (var j = 0u; j < 16u; j++) {
            if ((j & h) == 0u) {
                let a = v[j];
                let b = v[j + h];
                v[j] = add_mod(a, b);
                v[j + h] = sub_mod(a, b);
            }
        }
    }
    for (var j = 0u; j < 16u; j++) {
        dst[first + j * p.d_lo] = v[j];
    }
}

// Pointwise product with the transformed log table (the convolution theorem step).
@compute @workgroup_size(64)
fn eval_mul(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = linear(id);
    if (i >= 65536u) {
        return;
    }
    dst[i] = (dst[i] * gf[LOG_WALSH + i]) % MODULUS;
}

// The restored rows, compacted: row i of `dst` is row list[i] of `src` divided by its
// erasure-locator factor (aux[pos] is its log; dividing is multiplying by exp(-log)).
@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = linear(id);
    let o = i / p.groups;
    if (o >= p.count) {
        return;
    }
    let g = i % p.groups;
    let pos = aux[p.list + o];
    let w = word_of(pos, g, p.stride);
    let v = mul4(vec2<u32>(src[w], src[w + 8u]), sub_mod(0u, aux[pos]));
    let out = word_of(o, g, p.stride);
    dst[out] = v.x;
    dst[out + 8u] = v.y;
}
