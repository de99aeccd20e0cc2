// Segmented point sums, one invocation per task: dst[t] = Σ of the task's points, where task t
// is (start, len) in `tasks` (offset by params.task_offset). Contiguous mode sums
// src[start .. start + len]; indexed mode sums the points named by idx[start .. start + len],
// each entry a point index with bit 31 set for "negate" (MSM buckets with signed digits).
// The host chains levels of tasks into a tree (fan-in = the longest task), so any mix of
// group sizes reduces in a few dispatches of one submission.

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> tasks: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<u32>;

struct Params {
    count: u32,
    indexed: u32,
    row: u32,
    task_offset: u32,
}

@group(0) @binding(4) var<uniform> params: Params;

fn src_word(i: u32) -> u32 {
    return src[i];
}

fn dst_store(i: u32, v: u32) {
    dst[i] = v;
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
    let start = tasks[2u * (params.task_offset + t)];
    let len = tasks[2u * (params.task_offset + t) + 1u];
    var acc = pt_identity();
    if (len > 0u) {
        acc = task_point(start);
    }
    for (var k = 1u; k < len; k++) {
        acc = pt_add(acc, task_point(start + k));
    }
    pt_store(t * PW, acc);
}
