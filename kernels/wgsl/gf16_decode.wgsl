// The decoder's kernels besides the FFT passes (naive.rs `decode`):
//   fwht, eval_mul  erasure-locator logs for all 65536 points (naive.rs `erasure_logs`):
//                   WHT(WHT(erased) * log_walsh) mod 65535, in place in `dst`
//   derivative      the formal derivative of the IFFT output, `src` -> `dst`
//   gather          restored rows: dst[i] = src[list[i]] * exp(-log[list[i]])

struct Decode {
    stride: u32,    // u32 words per row
    rows: u32,      // rows of the transform (a power of two), or the items of a 1-D kernel
    groups: u32,    // column groups per row
    row_width: u32, // invocations per row of the 2-D grid
    d_lo: u32,      // fwht: smallest butterfly distance of the pass
    list: u32,      // gather: word offset of the restore list in `aux`
    count: u32,     // gather: rows to restore
    _pad: u32,
}

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> aux: array<u32>;
@group(0) @binding(4) var<uniform> p: Decode;

fn linear(id: vec3<u32>) -> u32 {
    return id.x + id.y * p.row_width;
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

// Formal derivative in the novel polynomial basis. Sequentially (naive.rs) coefficient i is
// XOR-ed into the lowbit(i) coefficients below it, and a source is always read before it is
// itself modified, so the whole loop is: out[d] = in[d] ^ XOR of in[d | 2^b] over the bits b
// clear in d. One invocation per u32 word (XOR needs no unpacking), adjacent words adjacent.
@compute @workgroup_size(64)
fn derivative(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = linear(id);
    let d = i / p.stride;
    if (d >= p.rows) {
        return;
    }
    let w = i % p.stride;
    var x = src[i];
    for (var b = 1u; b < p.rows; b <<= 1u) {
        if ((d & b) == 0u) {
            x ^= src[(d | b) * p.stride + w];
        }
    }
    dst[i] = x;
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
