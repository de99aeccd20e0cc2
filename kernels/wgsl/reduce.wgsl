// Segmented point sums, one invocation per task (start, len, out) of `tasks` (offset by
// params.task_offset). Contiguous mode sums src[start .. start + len]; indexed mode sums the
// points named by idx[start .. start + len], each entry a point index with bit 31 set for
// "negate" (MSM buckets with signed digits). The sum goes to fin[out & 0x7fffffff] when bit 31
// of out is set (the task completes its segment), else to the partial sums dst[out] that the
// next level reads. The host chains levels into a tree (fan-in = the longest task), so any mix
// of group sizes reduces in a few dispatches of one submission.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> tasks: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;
@group(0) @binding(4) var<storage, read_write> fin: array<u32>;

struct Params {
    count: u32,
    indexed: u32,
    row: u32,
    task_offset: u32,
}

@group(0) @binding(5) var<uniform> params: Params;

fn src_word(i: u32) -> u32 {
    return src[i];
}

// Which buffer pt_store writes: the results (fin) or the partial sums (dst).
var<private> TO_FIN: bool;

fn dst_store(i: u32, v: u32) {
    if (TO_FIN) {
        fin[i] = v;
    } else {
        dst[i] = v;
    }
}

const PW: u32 = 3u * FW;

fn task_point(k: u32) -> Point {
    if (params.indexed == 0u) {
        return pt_load(k * PW);
    }
    let e = idx[k];
    let p = pt_load((e & 0x7fffffffu) * PW);
    if ((e >> 31u) != 0u) {
        return pt_neg(p);
    }
    return p;
}

@compute @workgroup_size(64)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x + gid.y * params.row;
    if (t >= params.count) {
        return;
    }
    let task = 3u * (params.task_offset + t);
    let start = tasks[task];
    let len = tasks[task + 1u];
    let out = tasks[task + 2u];
    var acc = pt_identity();
    if (len > 0u) {
        acc = task_point(start);
    }
    for (var k = 1u; k < len; k++) {
        acc = pt_add(acc, task_point(start + k));
    }
    TO_FIN = (out >> 31u) != 0u;
    pt_store((out & 0x7fffffffu) * PW, acc);
}
