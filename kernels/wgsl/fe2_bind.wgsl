// Binds the curve / test templates' field F to Fp2 (G2: 3b = 12·(1 + u)). A kernel defines
// src_word(i) and dst_store(i, v) for loads/stores. An Fp2 element is c0 then c1 (2·NL words).

alias F = Fe2;
const FW: u32 = 2u * NL;

fn f_zero() -> F {
    return fe2_zero();
}

fn f_one() -> F {
    return fe2_one();
}

fn f_add(a: F, b: F) -> F {
    return fe2_add(a, b);
}

fn f_sub(a: F, b: F) -> F {
    return fe2_sub(a, b);
}

fn f_neg(a: F) -> F {
    return fe2_neg(a);
}

fn f_mul(a: F, b: F) -> F {
    return fe2_mul(a, b);
}

fn fe_mul12(a: Fe) -> Fe {
    let a4 = fe_double(fe_double(a));
    return fe_add(fe_double(a4), a4);
}

// 12·(1 + u)·(c0 + c1·u) = 12·(c0 − c1) + 12·(c0 + c1)·u.
fn f_mul_b3(a: F) -> F {
    return Fe2(fe_mul12(fe_sub(a.c0, a.c1)), fe_mul12(fe_add(a.c0, a.c1)));
}

fn f_load(base: u32) -> F {
    return Fe2(fe_load(base), fe_load(base + NL));
}

fn f_store(base: u32, a: F) {
    fe_store(base, a.c0);
    fe_store(base + NL, a.c1);
}
