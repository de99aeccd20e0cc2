// The Pippenger MSM stages after bucket accumulation (which is reduce.wgsl in indexed mode),
// and the fixed-base table build. Each entry point is a loop around ONE point addition (the
// operands are picked per step): shader compilers inline every call, so this keeps each
// pipeline at one copy of the addition — small code, fast pipeline builds.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;

struct Params {
    count: u32,
    row: u32,
    // msm_bucket_sums: buckets per set, buckets per segment, segments per set.
    // msm_combine: windows, window bits. msm_table: windows, window bits.
    a: u32,
    b: u32,
    c: u32,
}

@group(0) @binding(2) var<uniform> params: Params;

fn src_word(i: u32) -> u32 {
    return src[i];
}

fn dst_store(i: u32, v: u32) {
    dst[i] = v;
}

const PW: u32 = 3u * FW;

// One invocation per (set, segment of buckets lo..=hi): Σ_{b=lo}^{hi} b·B_b, where bucket b of
// set s is src point s·M + b − 1. Running sums from the top give Σ (b − lo + 1)·B_b and
// S = Σ B_b; then (lo − 1)·S is added by double-and-add. The host sums the segments of a set.
@compute @workgroup_size(64)
fn msm_bucket_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x + gid.y * params.row;
    if (t >= params.count) {
        return;
    }
    let m = params.a;
    let len = params.b;
    let segs = params.c;
    let set_id = t / segs;
    let lo = (t % segs) * len + 1u;
    let hi = min(lo + len - 1u, m);
    let base = set_id * m - 1u;
    var running = pt_identity();
    var acc = pt_identity();
    var q = pt_identity();
    var mult = pt_identity();
    // phase 0: bucket sums (b descending, two steps per bucket); 1: mult = k·running;
    // 2: acc += mult; 3: done.
    var phase = 0u;
    var b = hi;
    var second = false;
    var k = lo - 1u;
    var added = false;
    loop {
        var x = q;
        var y = q;
        // 0: running, 1: acc, 2: mult, 3: q
        var dest = 3u;
        if (phase == 0u) {
            if (second) {
                x = acc;
                y = running;
                dest = 1u;
            } else {
                x = running;
                y = pt_load((base + b) * PW);
                dest = 0u;
            }
        } else if (phase == 1u) {
            // Right-to-left binary: add q when the low bit is set, then double q.
            if ((k & 1u) == 1u && !added) {
                x = mult;
                dest = 2u;
            }
        } else {
            x = acc;
            y = mult;
            dest = 1u;
        }
        let z = pt_add(x, y);
        switch dest {
            case 0u: {
                running = z;
            }
            case 1u: {
                acc = z;
            }
            case 2u: {
                mult = z;
            }
            default: {
                q = z;
            }
        }
        if (phase == 0u) {
            if (!second) {
                second = true;
            } else {
                second = false;
                if (b == lo) {
                    phase = select(1u, 3u, k == 0u);
                    q = running;
                } else {
                    b -= 1u;
                }
            }
        } else if (phase == 1u) {
            if (dest == 2u) {
                added = true;
            } else {
                k >>= 1u;
                added = false;
                if (k == 0u) {
                    phase = 2u;
                }
            }
        } else {
            phase = 3u;
        }
        if (phase == 3u) {
            break;
        }
    }
    pt_store(t * PW, acc);
}

// One invocation per vector: Horner over its windows' sums (src point v·W + w),
// Σ_w 2^(c·w)·S_w = (((S_(W−1))·2^c + S_(W−2))·2^c + …) + S_0.
@compute @workgroup_size(64)
fn msm_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x + gid.y * params.row;
    if (t >= params.count) {
        return;
    }
    let windows = params.a;
    let bits = params.b;
    var acc = pt_load((t * windows + windows - 1u) * PW);
    // Per lower window: `bits` doublings, then the window's sum.
    let steps = (windows - 1u) * (bits + 1u);
    for (var step = 0u; step < steps; step++) {
        var y = acc;
        if (step % (bits + 1u) == bits) {
            y = pt_load((t * windows + windows - 2u - step / (bits + 1u)) * PW);
        }
        acc = pt_add(acc, y);
    }
    pt_store(t * PW, acc);
}

// One invocation per base P: the fixed-base table row 2^(c·w)·P for w < W at dst point i·W + w.
@compute @workgroup_size(64)
fn msm_table(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x + gid.y * params.row;
    if (t >= params.count) {
        return;
    }
    let windows = params.a;
    let bits = params.b;
    var p = pt_load(t * PW);
    pt_store(t * windows * PW, p);
    for (var step = 1u; step <= (windows - 1u) * bits; step++) {
        p = pt_add(p, p);
        if (step % bits == 0u) {
            pt_store((t * windows + step / bits) * PW, p);
        }
    }
}
