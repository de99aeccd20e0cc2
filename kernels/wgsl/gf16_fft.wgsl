// One radix-2^K pass of Leopard's additive FFT / IFFT (engine/src/erasure/gf16/naive.rs `fft`,
// `ifft`) over a batch of equal-sized chunks of rows. K is a template constant and the bodies
// of `fft` and `ifft` are straight-line code written by the host (src/gf16.rs `butterflies`):
// one pipeline per K in 0..=4, the J = 2^K rows of an invocation in named registers v0..v(J-1),
// so no compiler has to unroll loops or keep an indexed array in (slow, per-lane) memory.
//
// One invocation = one column group (4 symbols) x one "row-group": the J = 2^K rows
// r0 + o + j*d_lo (j < J) of one chunk, which the K butterfly layers of distances
// d_lo .. d_lo*2^(K-1) only ever mix among themselves. The invocation loads them (the first pass
// of a transform may load from the input buffer, fold several chunks or pre-multiply, see
// `load`: the decoder's FFT takes the formal derivative of the IFFT as it loads), runs the K
// layers and stores them. Between passes the host inserts a new dispatch:
// WebGPU orders dispatches, so the next pass sees every write of this one.

const K: u32 = {{K}}u;

struct Pass {
    stride: u32,     // u32 words per row
    groups: u32,     // column groups per row
    rowgroups: u32,  // row-groups per chunk (fewer than chunk/J when truncated)
    chunks: u32,
    row_width: u32,  // invocations per row of the 2-D grid
    d_lo: u32,       // smallest butterfly distance of this pass
    src_base: u32,   // first source row of chunk 0
    src_chunk: u32,  // source rows between chunks (0: every chunk reads the same rows)
    dst_base: u32,
    dst_chunk: u32,
    fold: u32,       // load mode 0: XOR of `fold` (<= 256, see gf16_aux.wgsl `fold`) source
                     // chunks `fold_rows` apart
    fold_rows: u32,
    delta0: u32,     // skew offset (evaluation-point offset) of chunk 0
    delta_step: u32, // ... and its growth per chunk
    mode: u32,       // 0: from `work`; 1: from `input` (rows < extra, else 0); 2: decode map;
                     // 3: formal derivative of `input`
    extra: u32,      // mode 1: input rows; mode 2: word offset of the row map in `aux`;
                     // mode 3: rows of the transform
}

@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> work: array<u32>;
// Mode 2: aux[pos] = log factor, aux[extra + pos] = index of the row in `input` or NONE.
@group(0) @binding(3) var<storage, read> aux: array<u32>;
@group(0) @binding(4) var<uniform> p: Pass;

const NONE: u32 = 0xFFFFFFFFu;

fn load(src: u32, g: u32) -> vec2<u32> {
    if (p.mode == 1u) {
        if (src >= p.extra) {
            return vec2<u32>(0u, 0u);
        }
        let w = word_of(src, g, p.stride);
        return vec2<u32>(input[w], input[w + 8u]);
    }
    if (p.mode == 2u) {
        let at = aux[p.extra + src];
        if (at == NONE) {
            return vec2<u32>(0u, 0u);
        }
        let w = word_of(at, g, p.stride);
        return mul4(vec2<u32>(input[w], input[w + 8u]), aux[src]);
    }
    if (p.mode == 3u) {
        return derivative(src, g);
    }
    var x = vec2<u32>(0u, 0u);
    for (var f = 0u; f < p.fold; f++) {
        let w = word_of(src + f * p.fold_rows, g, p.stride);
        x ^= vec2<u32>(work[w], work[w + 8u]);
    }
    return x;
}

// Row d of the formal derivative (in the novel polynomial basis) of the `extra` rows in `input`.
// Sequentially (naive.rs) coefficient i is XOR-ed into the lowbit(i) coefficients below it, and
// a source is always read before it is itself modified, so the whole loop is:
// out[d] = in[d] ^ XOR of in[d | b] over the powers of two b clear in d.
fn derivative(d: u32, g: u32) -> vec2<u32> {
    let w = word_of(d, g, p.stride);
    var x = vec2<u32>(input[w], input[w + 8u]);
    for (var b = 1u; b < p.extra; b <<= 1u) {
        if ((d & b) == 0u) {
            let v = word_of(d | b, g, p.stride);
            x ^= vec2<u32>(input[v], input[v + 8u]);
        }
    }
    return x;
}

struct Site {
    g: u32,
    c: u32,
    first: u32, // chunk-relative row of j = 0
    r0: u32,    // chunk-relative start of the row-group's largest butterfly block
}

// Which column group, chunk and rows this invocation owns; `c == chunks` means none.
fn site(id: vec3<u32>) -> Site {
    let i = id.x + id.y * p.row_width;
    let rest = i / p.groups;
    let q = rest % p.rowgroups;
    let r0 = (q / p.d_lo) * (p.d_lo << K);
    return Site(i % p.groups, min(rest / p.rowgroups, p.chunks), r0 + q % p.d_lo, r0);
}

// Twiddle log of the butterfly block starting at chunk-relative row `r` with distance `dist`.
fn twiddle(s: Site, r: u32, dist: u32) -> u32 {
    return gf[SKEW + r + dist + p.delta0 + s.c * p.delta_step - 1u];
}

fn load_row(s: Site, j: u32) -> vec2<u32> {
    return load(p.src_base + s.c * p.src_chunk + s.first + j * p.d_lo, s.g);
}

fn store_row(s: Site, j: u32, v: vec2<u32>) {
    let w = word_of(p.dst_base + s.c * p.dst_chunk + s.first + j * p.d_lo, s.g, p.stride);
    work[w] = v.x;
    work[w + 8u] = v.y;
}

// Decimation in time, largest distance first: a += b*w; b += a.
@compute @workgroup_size(64)
fn fft(@builtin(global_invocation_id) id: vec3<u32>) {
    let s = site(id);
    if (s.c >= p.chunks) {
        return;
    }
{{FFT}}
}

// The inverse: smallest distance first, b += a; a += b*w.
@compute @workgroup_size(64)
fn ifft(@builtin(global_invocation_id) id: vec3<u32>) {
    let s = site(id);
    if (s.c >= p.chunks) {
        return;
    }
{{IFFT}}
}
