// Test-only: every field operation on many operand pairs, to compare with arkworks.
// Input pair i is a (FW words at 2i·FW) and b (at (2i+1)·FW); output i holds a + b, a − b,
// a·b, −a and 3b·a (5·FW words).

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;

struct Params {
    count: u32,
    row: u32,
}

@group(0) @binding(2) var<uniform> params: Params;

fn src_word(i: u32) -> u32 {
    return src[i];
}

fn dst_store(i: u32, v: u32) {
    dst[i] = v;
}

@compute @workgroup_size(64)
fn field_ops(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.row;
    if (i >= params.count) {
        return;
    }
    let a = f_load(2u * i * FW);
    let b = f_load((2u * i + 1u) * FW);
    let out = 5u * i * FW;
    f_store(out, f_add(a, b));
    f_store(out + FW, f_sub(a, b));
    f_store(out + 2u * FW, f_mul(a, b));
    f_store(out + 3u * FW, f_neg(a));
    f_store(out + 4u * FW, f_mul_b3(a));
}
