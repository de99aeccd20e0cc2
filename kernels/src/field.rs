//! BLS12-381 field arithmetic for the kernels: one Montgomery template (`wgsl/field.wgsl`)
//! filled here for Fr (8 limbs) and Fp (12 limbs), Fp2 on top, and the module assembly every
//! algebra kernel uses (WGSL has no `#include`, so modules are concatenated from parts).
//!
//! Elements are little-endian `u32` limbs in Montgomery form with R = 2^256 (Fr) or 2^384
//! (Fp): exactly arkworks' internal representation, so the engine copies limbs both ways.

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::spec::{Access, KernelSpec};

/// The scalar field modulus r, little-endian limbs.
pub(crate) const FR_MODULUS: [u32; 8] =
    [0x00000001, 0xffffffff, 0xfffe5bfe, 0x53bda402, 0x09a1d805, 0x3339d808, 0x299d7d48, 0x73eda753];

/// The base field modulus p, little-endian limbs.
pub(crate) const FP_MODULUS: [u32; 12] = [
    0xffffaaab, 0xb9feffff, 0xb153ffff, 0x1eabfffe, 0xf6b0f624, 0x6730d2a0, 0xf38512bf, 0x64774b84, 0x434bacd7,
    0x4b1ba7b6, 0x397fe69a, 0x1a0111ea,
];

/// Words in an Fr element.
pub const FR_WORDS: usize = 8;
/// Words in an Fp element.
pub const FP_WORDS: usize = 12;
/// Words in a projective G1 point (X, Y, Z over Fp).
pub const G1_WORDS: usize = 3 * FP_WORDS;
/// Words in a projective G2 point (X, Y, Z over Fp2, each c0 then c1).
pub const G2_WORDS: usize = 6 * FP_WORDS;

const FIELD: &str = include_str!("../wgsl/field.wgsl");
const FP2: &str = include_str!("../wgsl/fp2.wgsl");
const FE_BIND: &str = include_str!("../wgsl/fe_bind.wgsl");
const FE2_BIND: &str = include_str!("../wgsl/fe2_bind.wgsl");
const CURVE: &str = include_str!("../wgsl/curve.wgsl");

/// -m^-1 mod 2^32 (Newton's iteration doubles the correct low bits each step).
fn neg_inverse(m0: u32) -> u32 {
    let mut inv = 1u32;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(m0.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// 2^(32·n) mod m for the n-limb modulus m (doubling with a conditional subtraction).
pub(crate) fn r_mod(m: &[u32]) -> Vec<u32> {
    let mut x = vec![0u32; m.len()];
    x[0] = 1;
    for _ in 0..32 * m.len() {
        // x < m < 2^(32n - 1), so 2x fits in n limbs.
        let mut carry = 0u32;
        for w in x.iter_mut() {
            let top = *w >> 31;
            *w = (*w << 1) | carry;
            carry = top;
        }
        let ge = x.iter().rev().zip(m.iter().rev()).find(|(a, b)| a != b).is_none_or(|(a, b)| a > b);
        if ge {
            let mut borrow = 0u64;
            for (w, &mi) in x.iter_mut().zip(m) {
                let d = u64::from(*w).wrapping_sub(u64::from(mi)).wrapping_sub(borrow);
                *w = d as u32;
                borrow = (d >> 63) & 1;
            }
        }
    }
    x
}

fn wgsl_array(limbs: &[u32]) -> String {
    limbs.iter().map(|l| format!("0x{l:08x}u")).collect::<Vec<_>>().join(", ")
}

/// The unrolled bodies of the template's limb loops for `n` limbs (see `wgsl/field.wgsl`).
/// Constant indices only: WGSL compilers keep such arrays in registers, while a loop with a
/// run-time index forces them into (slow, per-lane) private memory. Measured on lavapipe, the
/// straight-line form compiles ~4x faster and runs faster than limb loops.
fn generated(n: usize) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let line = |o: &mut String, s: String| {
        o.push_str("    ");
        o.push_str(&s);
        o.push('\n');
    };
    // fe_is_zero
    o.push_str("fn fe_is_zero(a: Fe) -> bool {\n");
    let ors: Vec<String> = (0..n).map(|i| format!("a[{i}]")).collect();
    line(&mut o, format!("return ({}) == 0u;", ors.join(" | ")));
    o.push_str("}\n\n");
    // fe_reduce_once: d = s - p with borrow; keep s when it borrowed.
    o.push_str("fn fe_reduce_once(s: Fe) -> Fe {\n    var d: Fe;\n    var borrow = 0u;\n    var x: u32;\n");
    for i in 0..n {
        line(&mut o, format!("x = s[{i}] - MODULUS[{i}];"));
        line(&mut o, format!("d[{i}] = x - borrow;"));
        line(&mut o, format!("borrow = select(0u, 1u, s[{i}] < MODULUS[{i}]) + select(0u, 1u, x < borrow);"));
    }
    line(&mut o, "let keep = 0u - borrow;".into());
    let keep: Vec<String> = (0..n).map(|i| format!("(s[{i}] & keep) | (d[{i}] & ~keep)")).collect();
    line(&mut o, format!("return Fe({});", keep.join(", ")));
    o.push_str("}\n\n");
    // fe_add: a + b < 2p < 2^(32n), so no carry leaves the top limb.
    o.push_str("fn fe_add(a: Fe, b: Fe) -> Fe {\n    var s: Fe;\n    var carry = 0u;\n    var x: u32;\n");
    for i in 0..n {
        line(&mut o, format!("x = a[{i}] + b[{i}];"));
        line(&mut o, format!("s[{i}] = x + carry;"));
        line(&mut o, format!("carry = select(0u, 1u, x < a[{i}]) + select(0u, 1u, s[{i}] < x);"));
    }
    line(&mut o, "return fe_reduce_once(s);".into());
    o.push_str("}\n\n");
    // fe_sub: a - b, plus p (masked, branch-free) on a borrow.
    o.push_str("fn fe_sub(a: Fe, b: Fe) -> Fe {\n    var d: Fe;\n    var borrow = 0u;\n    var x: u32;\n");
    for i in 0..n {
        line(&mut o, format!("x = a[{i}] - b[{i}];"));
        line(&mut o, format!("d[{i}] = x - borrow;"));
        line(&mut o, format!("borrow = select(0u, 1u, a[{i}] < b[{i}]) + select(0u, 1u, x < borrow);"));
    }
    line(&mut o, "let mask = 0u - borrow;".into());
    line(&mut o, "var r: Fe;".into());
    line(&mut o, "var carry = 0u;".into());
    line(&mut o, "var m: u32;".into());
    for i in 0..n {
        line(&mut o, format!("m = MODULUS[{i}] & mask;"));
        line(&mut o, format!("x = d[{i}] + m;"));
        line(&mut o, format!("r[{i}] = x + carry;"));
        line(&mut o, format!("carry = select(0u, 1u, x < m) + select(0u, 1u, r[{i}] < x);"));
    }
    line(&mut o, "return r;".into());
    o.push_str("}\n\n");
    // fe_mul: CIOS, "no-carry" form (top limb of p < 2^31 - 1). The row loop stays a loop (one
    // row = 2n multiply-accumulates): fully unrolled, one product is ~5k instructions, which
    // costs LLVM-based drivers (lavapipe) seconds per copy for a few percent of speed.
    o.push_str("fn fe_mul(a: Fe, b: Fe) -> Fe {\n");
    for j in 0..n {
        line(&mut o, format!("var t{j} = 0u;"));
    }
    o.push_str("    for (var i = 0u; i < NL; i++) {\n");
    o.push_str("        let bi = b[i];\n");
    o.push_str("        var r = mac(t0, a[0], bi, 0u);\n        var hi_ab = r.y;\n        let m = r.x * INV;\n");
    o.push_str("        r = mac(r.x, m, MODULUS[0], 0u);\n        var hi_mp = r.y;\n");
    for j in 1..n {
        let _ = writeln!(o, "        r = mac(t{j}, a[{j}], bi, hi_ab);");
        o.push_str("        hi_ab = r.y;\n");
        let _ = writeln!(o, "        r = mac(r.x, m, MODULUS[{j}], hi_mp);");
        o.push_str("        hi_mp = r.y;\n");
        let _ = writeln!(o, "        t{} = r.x;", j - 1);
    }
    let _ = writeln!(o, "        t{} = hi_ab + hi_mp;", n - 1);
    o.push_str("    }\n");
    let ts: Vec<String> = (0..n).map(|j| format!("t{j}")).collect();
    line(&mut o, format!("return fe_reduce_once(Fe({}));", ts.join(", ")));
    o.push_str("}\n\n");
    // fe_load / fe_store through the module's word accessors.
    let loads: Vec<String> = (0..n).map(|i| format!("src_word(base + {i}u)")).collect();
    let _ = writeln!(o, "fn fe_load(base: u32) -> Fe {{\n    return Fe({});\n}}\n", loads.join(", "));
    o.push_str("fn fe_store(base: u32, a: Fe) {\n");
    for i in 0..n {
        line(&mut o, format!("dst_store(base + {i}u, a[{i}]);"));
    }
    o.push_str("}\n");
    o
}

/// The Montgomery template filled for the modulus `m`.
fn field_source(m: &[u32]) -> String {
    FIELD
        .replace("__GENERATED__", &generated(m.len()))
        .replace("__NL__", &m.len().to_string())
        .replace("__MODULUS__", &wgsl_array(m))
        .replace("__ONE__", &wgsl_array(&r_mod(m)))
        .replace("__INV__", &format!("0x{:08x}", neg_inverse(m[0])))
}

/// A module over Fr: the field template then `kernel`.
pub(crate) fn fr_module(kernel: &str) -> String {
    [field_source(&FR_MODULUS).as_str(), FE_BIND, kernel].concat()
}

/// A module over Fp without the curve (field tests).
fn fp_module(kernel: &str) -> String {
    [field_source(&FP_MODULUS).as_str(), FE_BIND, kernel].concat()
}

/// A module over Fp2 without the curve (field tests).
fn fp2_module(kernel: &str) -> String {
    [field_source(&FP_MODULUS).as_str(), FP2, FE2_BIND, kernel].concat()
}

/// A module over G1: Fp, the curve template (F = Fp), then `kernel`.
pub(crate) fn g1_module(kernel: &str) -> String {
    [field_source(&FP_MODULUS).as_str(), FE_BIND, CURVE, kernel].concat()
}

/// A module over G2: Fp, Fp2, the curve template (F = Fp2), then `kernel`.
pub(crate) fn g2_module(kernel: &str) -> String {
    [field_source(&FP_MODULUS).as_str(), FP2, FE2_BIND, CURVE, kernel].concat()
}

const FIELD_TEST: &str = include_str!("../wgsl/field_test.wgsl");
const TEST_STORAGE: &[Access] = &[Access::Read, Access::ReadWrite];

/// Test-only kernels (built by [`GpuContext::with_test_kernels`], never by [`GpuContext::new`]).
pub(crate) const TEST_KERNELS: &[KernelSpec] = &[
    KernelSpec {
        name: "field_ops_fr",
        file: "field.wgsl+field_test.wgsl (Fr)",
        source: || fr_module(FIELD_TEST),
        entry: "field_ops",
        storage: TEST_STORAGE,
    },
    KernelSpec {
        name: "field_ops_fp",
        file: "field.wgsl+field_test.wgsl (Fp)",
        source: || fp_module(FIELD_TEST),
        entry: "field_ops",
        storage: TEST_STORAGE,
    },
    KernelSpec {
        name: "field_ops_fp2",
        file: "field.wgsl+fp2.wgsl+field_test.wgsl (Fp2)",
        source: || fp2_module(FIELD_TEST),
        entry: "field_ops",
        storage: TEST_STORAGE,
    },
];

/// Which field [`GpuContext::field_test_ops`] runs over.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestField {
    /// The scalar field (8 words).
    Fr,
    /// The base field (12 words).
    Fp,
    /// The quadratic extension (24 words: c0 then c1).
    Fp2,
}

impl TestField {
    /// Words per element.
    pub fn words(self) -> usize {
        match self {
            Self::Fr => FR_WORDS,
            Self::Fp => FP_WORDS,
            Self::Fp2 => 2 * FP_WORDS,
        }
    }
}

impl GpuContext {
    /// Test-only: for each operand pair `(a, b)` in `pairs` (a then b, Montgomery limbs),
    /// returns `a + b, a − b, a·b, −a, 3b·a` (3b = 12 for Fr/Fp, 12(1 + u) for Fp2). Needs a
    /// context from [`GpuContext::with_test_kernels`].
    #[doc(hidden)]
    pub fn field_test_ops(&self, field: TestField, pairs: &[u32]) -> Result<Vec<u32>, GpuError> {
        const OP: &str = "field_test_ops";
        let w = field.words();
        if !pairs.len().is_multiple_of(2 * w) {
            return Err(GpuError::Kernel { op: OP, reason: format!("{} words is not whole pairs", pairs.len()) });
        }
        let count = pairs.len() / (2 * w);
        let name = match field {
            TestField::Fr => "field_ops_fr",
            TestField::Fp => "field_ops_fp",
            TestField::Fp2 => "field_ops_fp2",
        };
        if !self.has_kernel(name) {
            return Err(GpuError::Kernel { op: OP, reason: "built without test kernels".into() });
        }
        let grid = self.grid(count.div_ceil(64));
        let mut job = self.job(OP);
        let src = job.upload("field test inputs", pairs);
        let dst = job.zeroed("field test outputs", count * 5 * w);
        job.dispatch(name, &[&src, &dst], &[count as u32, grid[0] * 64], grid);
        job.read(&dst, count * 5 * w);
        Ok(job.finish()?.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_known_values() {
        assert_eq!(neg_inverse(FR_MODULUS[0]), 0xffff_ffff);
        assert_eq!(neg_inverse(FP_MODULUS[0]), 0xfffc_fffd);
        // R mod r = 0x1824b159acc5056f998c4fefecbc4ff55884b7fa0003480200000001fffffffe.
        assert_eq!(r_mod(&FR_MODULUS)[..3], [0xfffffffe, 0x00000001, 0x00034802]);
        assert_eq!(r_mod(&FR_MODULUS)[7], 0x1824b159);
        assert_eq!(r_mod(&FP_MODULUS)[..2], [0x0002fffd, 0x76090000]);
    }
}
