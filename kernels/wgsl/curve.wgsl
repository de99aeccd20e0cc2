// Short-Weierstrass y^2 = x^3 + b (a = 0) in homogeneous projective coordinates (X : Y : Z),
// x = X/Z, y = Y/Z, identity (0 : 1 : 0). Generic over a field F given by a binding snippet
// (g1.wgsl: F = Fp, g2.wgsl: F = Fp2) that defines F, f_add, f_sub, f_mul, f_neg, f_zero,
// f_one, f_mul_b3 (multiplication by 3b), f_load / f_store (FW words at a word offset).
//
// Addition is the complete formula of Renes–Costello–Batina 2015 (Algorithm 7, a = 0):
// 12 multiplications, no branches, correct for P + Q, P + P, P + (−P) and the identity, so
// no input can send a warp down a special case (the classic GPU MSM bug).

struct Point {
    x: F,
    y: F,
    z: F,
}

fn pt_identity() -> Point {
    return Point(f_zero(), f_one(), f_zero());
}

fn pt_neg(p: Point) -> Point {
    return Point(p.x, f_neg(p.y), p.z);
}

fn pt_add(p: Point, q: Point) -> Point {
    var t0 = f_mul(p.x, q.x);
    var t1 = f_mul(p.y, q.y);
    var t2 = f_mul(p.z, q.z);
    var t3 = f_mul(f_add(p.x, p.y), f_add(q.x, q.y));
    t3 = f_sub(t3, f_add(t0, t1));
    var t4 = f_mul(f_add(p.y, p.z), f_add(q.y, q.z));
    t4 = f_sub(t4, f_add(t1, t2));
    var y3 = f_mul(f_add(p.x, p.z), f_add(q.x, q.z));
    y3 = f_sub(y3, f_add(t0, t2));
    t0 = f_add(f_add(t0, t0), t0);
    t2 = f_mul_b3(t2);
    var z3 = f_add(t1, t2);
    t1 = f_sub(t1, t2);
    y3 = f_mul_b3(y3);
    let x3 = f_sub(f_mul(t3, t1), f_mul(t4, y3));
    y3 = f_add(f_mul(t1, z3), f_mul(y3, t0));
    z3 = f_add(f_mul(z3, t4), f_mul(t0, t3));
    return Point(x3, y3, z3);
}

// Points are stored as X, Y, Z: 3·FW consecutive words.
fn pt_load(base: u32) -> Point {
    return Point(f_load(base), f_load(base + FW), f_load(base + 2u * FW));
}

fn pt_store(base: u32, p: Point) {
    f_store(base, p.x);
    f_store(base + FW, p.y);
    f_store(base + 2u * FW, p.z);
}
