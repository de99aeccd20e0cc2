// Montgomery arithmetic over one prime field, shared by Fr (8 limbs) and Fp (12 limbs).
//
// This is a template: src/field.rs replaces __NL__, __MODULUS__, __ONE__ and __INV__ with the
// limb count, the modulus p, R mod p and -p^-1 mod 2^32 (R = 2^(32·NL), as in arkworks, so the
// host copies limbs with no conversion). Limbs are little-endian u32. Every function takes and
// returns fully reduced values (< p).
//
// u32 only: WGSL has no 64-bit integers without SHADER_INT64, so a 32x32 -> 64-bit product is
// four 16x16 -> 32-bit products (mul_wide). The multiplication is CIOS Montgomery in the
// "no-carry" form (valid because the top limb of both moduli is below 2^31 - 1): one pass of
// NL x NL multiply-accumulates interleaved with the reduction, then one conditional subtraction.

const NL: u32 = __NL__u;
alias Fe = array<u32, __NL__>;
const INV: u32 = __INV__u;

const MODULUS: Fe = Fe(__MODULUS__);
const MONT_ONE: Fe = Fe(__ONE__);

// The full 64-bit product a·b as (low word, high word).
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // At most (2^16 - 1)^2 + 2·(2^16 - 1) = 2^32 - 1: no overflow.
    let mid = p01 + (p00 >> 16u) + (p10 & 0xffffu);
    return vec2<u32>((mid << 16u) | (p00 & 0xffffu), p11 + (mid >> 16u) + (p10 >> 16u));
}

// t + a·b + c as (low, high); at most 2^64 - 1, so it always fits.
fn mac(t: u32, a: u32, b: u32, c: u32) -> vec2<u32> {
    let p = mul_wide(a, b);
    let s = p.x + t;
    let s2 = s + c;
    return vec2<u32>(s2, p.y + select(0u, 1u, s < t) + select(0u, 1u, s2 < c));
}

fn fe_zero() -> Fe {
    return Fe();
}

fn fe_one() -> Fe {
    return MONT_ONE;
}

fn fe_double(a: Fe) -> Fe {
    return fe_add(a, a);
}

fn fe_neg(a: Fe) -> Fe {
    return fe_sub(Fe(), a);
}

// Generated in src/field.rs, fully unrolled over the NL limbs (constant indices only, so every
// limb lives in a register): fe_is_zero, fe_reduce_once (s mod p for s < 2p), fe_add, fe_sub,
// fe_mul (a·b·R^-1 mod p, CIOS "no-carry": per limb of b, one multiply-accumulate row
// interleaved with one reduction row), and fe_load / fe_store through the module's
// src_word(i) / dst_store(i, v), which every module using this template defines.
__GENERATED__

fn fe_square(a: Fe) -> Fe {
    return fe_mul(a, a);
}
