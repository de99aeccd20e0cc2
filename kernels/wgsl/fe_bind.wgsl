// Binds the curve / test templates' field F to Fe (the one prime field of this module; for G1
// it is Fp, where 3b = 12). A kernel defines src_word(i) and dst_store(i, v) for loads/stores.

alias F = Fe;
const FW: u32 = NL;

fn f_zero() -> F {
    return fe_zero();
}

fn f_one() -> F {
    return fe_one();
}

fn f_add(a: F, b: F) -> F {
    return fe_add(a, b);
}

fn f_sub(a: F, b: F) -> F {
    return fe_sub(a, b);
}

fn f_neg(a: F) -> F {
    return fe_neg(a);
}

fn f_mul(a: F, b: F) -> F {
    return fe_mul(a, b);
}

// 12·a by additions (12 = 8 + 4): cheaper than a multiplication.
fn f_mul_b3(a: F) -> F {
    let a4 = fe_double(fe_double(a));
    return fe_add(fe_double(a4), a4);
}

fn f_load(base: u32) -> F {
    return fe_load(base);
}

fn f_store(base: u32, a: F) {
    fe_store(base, a);
}
