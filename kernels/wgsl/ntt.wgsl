// Batched radix-2 NTT over Fr (decimation in time), natural order in and out.
//
// The data are limb-major ("structure of arrays"): limb k of element J is data[k·total + J],
// so neighbouring invocations touch neighbouring words. One dispatch is one pass of up to 8
// butterfly stages on 256-element tiles held in workgroup memory:
//   pass (s, L) runs the stages with half-sizes m = s, 2s, …, s·2^(L−1) (s = 2^(stages done)).
// A tile is 2^L "rows" k by C = 256 / 2^L "columns" c; column q (global) is the pair (hi, lo)
// with q = hi·s + lo, and its row k is element j = hi·s·2^L + k·s + lo of its vector. The first
// pass gathers its tile from the input in bit-reversed order (multiplying by the coset powers
// when asked); the last pass multiplies by the output scale (1/n, or 1/n·c^-j for a coset).
// Every pass reads and writes disjoint tiles, so passes after the first work in place.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read> twiddles: array<u32>;
@group(0) @binding(3) var<storage, read> pre: array<u32>;
@group(0) @binding(4) var<storage, read> post: array<u32>;

struct Params {
    // Elements in this batch (whole vectors).
    total: u32,
    log_n: u32,
    s: u32,
    l: u32,
    // 1: the first pass (gather from src in bit-reversed order).
    first: u32,
    // 1: multiply each input x_j by pre[j] (coset powers c^j).
    pre_scale: u32,
    // 0: none; 1: multiply each output by the constant below; 2: output j by post[j].
    post_scale: u32,
    // Workgroups per grid row.
    row: u32,
    konst_lo: vec4<u32>,
    konst_hi: vec4<u32>,
}

@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> tile: array<u32, 2048>;

// The field template's accessors read twiddles (AoS: 8 words per element).
fn src_word(i: u32) -> u32 {
    return twiddles[i];
}

fn dst_store(i: u32, v: u32) {
    data[i] = v;
}

fn load_aos_pre(j: u32) -> Fe {
    let b = 8u * j;
    return Fe(pre[b], pre[b + 1u], pre[b + 2u], pre[b + 3u], pre[b + 4u], pre[b + 5u], pre[b + 6u], pre[b + 7u]);
}

fn load_aos_post(j: u32) -> Fe {
    let b = 8u * j;
    return Fe(post[b], post[b + 1u], post[b + 2u], post[b + 3u], post[b + 4u], post[b + 5u], post[b + 6u], post[b + 7u]);
}

fn load_src(e: u32) -> Fe {
    let t = params.total;
    return Fe(src[e], src[t + e], src[2u * t + e], src[3u * t + e], src[4u * t + e], src[5u * t + e], src[6u * t + e],
        src[7u * t + e]);
}

fn load_data(e: u32) -> Fe {
    let t = params.total;
    return Fe(data[e], data[t + e], data[2u * t + e], data[3u * t + e], data[4u * t + e], data[5u * t + e],
        data[6u * t + e], data[7u * t + e]);
}

fn store_data(e: u32, x: Fe) {
    let t = params.total;
    data[e] = x[0];
    data[t + e] = x[1];
    data[2u * t + e] = x[2];
    data[3u * t + e] = x[3];
    data[4u * t + e] = x[4];
    data[5u * t + e] = x[5];
    data[6u * t + e] = x[6];
    data[7u * t + e] = x[7];
}

fn load_tile(e: u32) -> Fe {
    return Fe(tile[e], tile[256u + e], tile[512u + e], tile[768u + e], tile[1024u + e], tile[1280u + e],
        tile[1536u + e], tile[1792u + e]);
}

fn store_tile(e: u32, x: Fe) {
    tile[e] = x[0];
    tile[256u + e] = x[1];
    tile[512u + e] = x[2];
    tile[768u + e] = x[3];
    tile[1024u + e] = x[4];
    tile[1280u + e] = x[5];
    tile[1536u + e] = x[6];
    tile[1792u + e] = x[7];
}

fn bit_reverse(x: u32, bits: u32) -> u32 {
    if (bits == 0u) {
        return 0u;
    }
    return reverseBits(x) >> (32u - bits);
}

// Tile slot e = k·C + c as (vector, j within the vector); vector ≥ batch when out of range.
fn element(tile_id: u32, e: u32) -> vec2<u32> {
    let cols = 256u >> params.l;
    let k = e / cols;
    let q = tile_id * cols + e % cols;
    let cols_per_vector = (1u << params.log_n) >> params.l;
    let ql = q % cols_per_vector;
    let j = (ql / params.s) * (params.s << params.l) + k * params.s + ql % params.s;
    return vec2<u32>(q / cols_per_vector, j);
}

@compute @workgroup_size(128)
fn ntt_pass(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let tile_id = wid.x + wid.y * params.row;
    let n = 1u << params.log_n;
    let batch = params.total >> params.log_n;
    for (var h = 0u; h < 2u; h++) {
        let e = t + 128u * h;
        let at = element(tile_id, e);
        var x = fe_zero();
        if (at.x < batch) {
            if (params.first == 1u) {
                let jn = bit_reverse(at.y, params.log_n);
                x = load_src(at.x * n + jn);
                if (params.pre_scale == 1u) {
                    x = fe_mul(x, load_aos_pre(jn));
                }
            } else {
                x = load_data(at.x * n + at.y);
            }
        }
        store_tile(e, x);
    }
    workgroupBarrier();
    let cols = 256u >> params.l;
    let c = t % cols;
    let r = t / cols;
    let lo = ((tile_id * cols + c) % (n >> params.l)) % params.s;
    for (var st = 0u; st < params.l; st++) {
        let half = 1u << st;
        let k0 = (r / half) * 2u * half + r % half;
        // Global half-size m = s·half; the twiddle is ω_(2m)^(j mod m) = ω_n^((j mod m)·n/(2m)).
        let m = params.s * half;
        let w = fe_load(8u * (((k0 % half) * params.s + lo) * (n / (2u * m))));
        let a = load_tile(k0 * cols + c);
        let b = fe_mul(load_tile((k0 + half) * cols + c), w);
        store_tile(k0 * cols + c, fe_add(a, b));
        store_tile((k0 + half) * cols + c, fe_sub(a, b));
        workgroupBarrier();
    }
    let konst = Fe(params.konst_lo.x, params.konst_lo.y, params.konst_lo.z, params.konst_lo.w, params.konst_hi.x,
        params.konst_hi.y, params.konst_hi.z, params.konst_hi.w);
    for (var h = 0u; h < 2u; h++) {
        let e = t + 128u * h;
        let at = element(tile_id, e);
        if (at.x < batch) {
            var x = load_tile(e);
            if (params.post_scale == 1u) {
                x = fe_mul(x, konst);
            } else if (params.post_scale == 2u) {
                x = fe_mul(x, load_aos_post(at.y));
            }
            store_data(at.x * n + at.y, x);
        }
    }
}
