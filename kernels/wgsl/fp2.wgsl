// Fp2 = Fp[u] / (u^2 + 1) over the Fp template (field.wgsl), for G2.

struct Fe2 {
    c0: Fe,
    c1: Fe,
}

fn fe2_zero() -> Fe2 {
    return Fe2(fe_zero(), fe_zero());
}

fn fe2_one() -> Fe2 {
    return Fe2(fe_one(), fe_zero());
}

fn fe2_is_zero(a: Fe2) -> bool {
    return fe_is_zero(a.c0) && fe_is_zero(a.c1);
}

fn fe2_add(a: Fe2, b: Fe2) -> Fe2 {
    return Fe2(fe_add(a.c0, b.c0), fe_add(a.c1, b.c1));
}

fn fe2_sub(a: Fe2, b: Fe2) -> Fe2 {
    return Fe2(fe_sub(a.c0, b.c0), fe_sub(a.c1, b.c1));
}

fn fe2_neg(a: Fe2) -> Fe2 {
    return Fe2(fe_neg(a.c0), fe_neg(a.c1));
}

// Karatsuba: three Fp products instead of four.
fn fe2_mul(a: Fe2, b: Fe2) -> Fe2 {
    let v0 = fe_mul(a.c0, b.c0);
    let v1 = fe_mul(a.c1, b.c1);
    let s = fe_mul(fe_add(a.c0, a.c1), fe_add(b.c0, b.c1));
    return Fe2(fe_sub(v0, v1), fe_sub(fe_sub(s, v0), v1));
}
